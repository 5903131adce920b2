// Linear, Embedding, LayerNorm, Dropout, FeedForward.
#include "qkv/nn/layers.h"

#include <cmath>

#include "qkv/autograd/autograd.h"
#include "qkv/nn/init.h"
#include "qkv/nn/trace.h"
#include "qkv/ops/ops.h"

namespace qkv::nn {

namespace {
void check_positive(const char* who, const char* what, int64_t v) {
  if (v <= 0) throw ValueError(std::string(who) + ": " + what + " must be positive, got " + std::to_string(v));
}
void check_p(const char* who, float p) {
  if (!(p >= 0.0f && p < 1.0f)) throw ValueError(std::string(who) + ": dropout must be in [0, 1), got " + std::to_string(p));
}
}  // namespace

Linear::Linear(int64_t in, int64_t out, bool with_bias, Generator& gen) : in_features(in), out_features(out) {
  check_positive("Linear", "in_features", in);
  check_positive("Linear", "out_features", out);
  // torch.nn.Linear.reset_parameters: kaiming_uniform_(a=√5) gives bound
  // gain·√(3/fan_in) with gain = √(2/(1+5)), i.e. 1/√fan_in; bias the same.
  const float bound = 1.0f / std::sqrt(static_cast<float>(in));
  Tensor w = Tensor::empty({out, in});
  uniform_(w, -bound, bound, gen);
  weight = register_parameter("weight", w);
  if (with_bias) {
    Tensor b = Tensor::empty({out});
    uniform_(b, -bound, bound, gen);
    bias = register_parameter("bias", b);
  }
}

Tensor Linear::forward(const Tensor& x, Generator* gen) const {
  Tensor y;
  if (!qweight) {
    y = linear(x, weight, bias);
  } else {
    if (is_training())
      throw ValueError("Linear(" + std::to_string(in_features) + " → " + std::to_string(out_features) + ", " +
                       kernels::weight_format_name(qweight->format()) +
                       " weights): quantized weights are for inference; call eval() (training needs f32 weights)");
    y = linear_quantized(x, *qweight, bias);
  }
  if (lora_A && !lora_merged) {  // + (α/r)·dropout(x)·Aᵀ·Bᵀ
    Tensor xa = x;
    if (lora_dropout > 0 && is_training()) {
      if (!gen)
        throw ValueError("Linear(" + std::to_string(in_features) + " → " + std::to_string(out_features) +
                         "): LoRA dropout in training mode needs a generator");
      xa = dropout(x, lora_dropout, true, *gen);
    }
    y = add(y, mul(lora_B->forward(lora_A->forward(xa)), lora_scaling));
  }
  return y;
}

void Linear::add_lora(int64_t r, float alpha, Generator& gen, float dropout) {
  if (lora_A) throw ValueError("Linear: this layer has a LoRA adapter already");
  if (r < 1) throw ValueError("LoRA: the rank r must be >= 1, got " + std::to_string(r));
  if (!(alpha > 0)) throw ValueError("LoRA: alpha must be > 0, got " + std::to_string(alpha));
  check_p("LoRA", dropout);
  lora_A = register_module("lora_A", std::make_shared<Linear>(in_features, r, false, gen));
  lora_B = register_module("lora_B", std::make_shared<Linear>(r, out_features, false, gen));
  zeros_(lora_B->weight);
  lora_scaling = alpha / static_cast<float>(r);
  lora_dropout = dropout;
}

void Linear::merge_lora() {
  if (!lora_A) throw ValueError("Linear: no LoRA adapter to merge");
  if (lora_merged) throw ValueError("Linear: the LoRA adapter is merged already");
  NoGradGuard ng;
  weight.copy_(add(weight, mul(matmul(lora_B->weight, lora_A->weight), lora_scaling)));  // W + (α/r)·B·A
  lora_merged = true;
  if (qweight) quantize(qweight->format());
}

void Linear::unmerge_lora() {
  if (!lora_A) throw ValueError("Linear: no LoRA adapter to unmerge");
  if (!lora_merged) throw ValueError("Linear: the LoRA adapter is not merged");
  NoGradGuard ng;
  weight.copy_(sub(weight, mul(matmul(lora_B->weight, lora_A->weight), lora_scaling)));
  lora_merged = false;
  if (qweight) quantize(qweight->format());
}

void Linear::tie_weight(const Tensor& w) { weight = replace_parameter("weight", w); }

void Linear::quantize(WeightFormat format) {
  if (format == WeightFormat::F32) {
    qweight.reset();
    return;
  }
  Tensor w = weight.detach().contiguous();  // (out, in)
  qweight = std::make_shared<const QuantizedMatrix>(
      QuantizedMatrix::quantize(w.data<float>(), out_features, in_features, in_features, format));
}

Embedding::Embedding(int64_t num, int64_t dim, Generator& gen) : num_embeddings(num), embedding_dim(dim) {
  check_positive("Embedding", "num_embeddings", num);
  check_positive("Embedding", "embedding_dim", dim);
  Tensor w = Tensor::empty({num, dim});
  normal_(w, 0.0f, 1.0f, gen);
  weight = register_parameter("weight", w);
}

Tensor Embedding::forward(const Tensor& ids) const {
  Tensor y = embedding(weight, ids);  // ids (…) → (…, C)
  trace_tensor(this, "out", "C", y);
  return y;
}

LayerNorm::LayerNorm(int64_t d, float eps_, bool with_bias) : dim(d), eps(eps_) {
  check_positive("LayerNorm", "dim", d);
  if (!(eps_ >= 0.0f)) throw ValueError("LayerNorm: eps must be >= 0, got " + std::to_string(eps_));
  weight = register_parameter("weight", ones({d}));
  if (with_bias) bias = register_parameter("bias", zeros({d}));
}

Tensor LayerNorm::forward(const Tensor& x) const {
  Tensor y = layer_norm(x, {dim}, weight, bias, eps);
  trace_tensor(this, "out", "C", y);
  return y;
}

RMSNorm::RMSNorm(int64_t d, float eps_) : dim(d), eps(eps_) {
  check_positive("RMSNorm", "dim", d);
  if (!(eps_ >= 0.0f)) throw ValueError("RMSNorm: eps must be >= 0, got " + std::to_string(eps_));
  weight = register_parameter("weight", ones({d}));
}

Tensor RMSNorm::forward(const Tensor& x) const {
  Tensor y = rms_norm(x, weight, eps);
  trace_tensor(this, "out", "C", y);
  return y;
}

Dropout::Dropout(float p_) : p(p_) { check_p("Dropout", p_); }

Tensor Dropout::forward(const Tensor& x, Generator& gen) const { return dropout(x, p, is_training(), gen); }

Tensor activate(const Tensor& x, Activation act) {
  switch (act) {
    case Activation::ReLU: return relu(x);
    case Activation::GELU: return gelu(x, GeluApprox::None);
    case Activation::GELUTanh: return gelu(x, GeluApprox::Tanh);
  }
  throw ValueError("activate: unknown activation");
}

const char* activation_name(Activation act) {
  switch (act) {
    case Activation::ReLU: return "relu";
    case Activation::GELU: return "gelu";
    case Activation::GELUTanh: return "gelu_tanh";
  }
  return "?";
}

FeedForward::FeedForward(int64_t d_model, int64_t d_ff, Activation act_, float p, bool bias, Generator& gen)
    : act(act_) {
  c_fc = register_module("c_fc", std::make_shared<Linear>(d_model, d_ff, bias, gen));
  c_proj = register_module("c_proj", std::make_shared<Linear>(d_ff, d_model, bias, gen));
  dropout = register_module("dropout", std::make_shared<Dropout>(p));
}

Tensor FeedForward::forward(const Tensor& x, Generator& gen) const {
  // x (B,T,C) → h (B,T,F) → (B,T,C), F = d_ff
  const Tensor h = activate(c_fc->forward(x, &gen), act);
  trace_tensor(this, "hidden", "F", h);
  Tensor y = dropout->forward(c_proj->forward(h, &gen), gen);
  trace_tensor(this, "out", "C", y);
  return y;
}

SwiGLU::SwiGLU(int64_t d_model, int64_t d_ff, bool bias, Generator& gen) {
  gate_proj = register_module("gate_proj", std::make_shared<Linear>(d_model, d_ff, bias, gen));
  up_proj = register_module("up_proj", std::make_shared<Linear>(d_model, d_ff, bias, gen));
  down_proj = register_module("down_proj", std::make_shared<Linear>(d_ff, d_model, bias, gen));
}

Tensor SwiGLU::forward(const Tensor& x, Generator* gen) const {
  // x (B,T,C) → silu(x W_gate) ⊙ (x W_up) (B,T,F) → (B,T,C), F = d_ff
  const Tensor h = mul(silu(gate_proj->forward(x, gen)), up_proj->forward(x, gen));
  trace_tensor(this, "hidden", "F", h);
  Tensor y = down_proj->forward(h, gen);
  trace_tensor(this, "out", "C", y);
  return y;
}

}  // namespace qkv::nn
