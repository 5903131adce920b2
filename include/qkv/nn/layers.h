// qkv/nn/layers.h — the basic layers: Linear, Embedding, LayerNorm, RMSNorm,
// Dropout, FeedForward, SwiGLU. Parameter names and layouts follow PyTorch (Linear weight is
// (out, in)), so checkpoints map one to one. Shapes use docs/GLOSSARY.md
// letters.
#pragma once
#include <cstdint>

#include "qkv/core/rng.h"
#include "qkv/nn/module.h"
#include "qkv/ops/quantized.h"

namespace qkv::nn {

// y = x Wᵀ + b. weight (out, in), bias (out) unless bias = false (then
// `bias` is undefined). Initialised as torch.nn.Linear: kaiming-uniform with
// a = √5, i.e. weight and bias ~ U(−1/√in, 1/√in).
class Linear : public Module {
 public:
  Linear(int64_t in_features, int64_t out_features, bool bias, Generator& gen);
  // x (…, in) → (…, out). `gen`: the draws of LoRA dropout, needed in
  // training mode when the adapter has lora_dropout > 0 (ValueError without).
  Tensor forward(const Tensor& x, Generator* gen = nullptr) const;
  // Shares w (out, in) as this layer's weight, e.g. GPT's output projection
  // tied to the token embedding (Press & Wolf 2017): lm_head->tie_weight(wte->weight).
  void tie_weight(const Tensor& w);
  // Inference with fewer bytes per weight: keeps a bf16 or int8 (blocks of 32,
  // one scale each) copy of `weight` that forward() multiplies with instead
  // (qkv/kernels/quantized.h); WeightFormat::F32 drops it. `weight` itself
  // stays (checkpoints, training): quantize again after changing it. While
  // quantized, forward() throws ValueError in training mode or with grad on.
  void quantize(WeightFormat format);
  WeightFormat weight_format() const { return qweight ? qweight->format() : WeightFormat::F32; }
  // LoRA (Hu et al. 2021, eq. 3): h = x·Wᵀ + b + (α/r)·x·Aᵀ·Bᵀ with A (r, in)
  // initialised as torch.nn.Linear (kaiming-uniform) and B (out, r) zero, so
  // training starts from the base layer. Registers the submodules lora_A and
  // lora_B (PEFT's names: "<layer>.lora_A.weight"). `dropout` is PEFT's
  // lora_dropout: in training the adapter reads dropout(x) (the base W
  // reads x): h = x·Wᵀ + b + (α/r)·dropout(x)·Aᵀ·Bᵀ. ValueError for r < 1,
  // alpha <= 0, dropout outside [0, 1), or a layer that has one already. The
  // caller freezes W and b.
  void add_lora(int64_t r, float alpha, Generator& gen, float dropout = 0.0f);
  bool has_lora() const { return lora_A != nullptr; }
  // W += (α/r)·B·A, after which forward() skips the adapter (one matmul
  // again); unmerge_lora() subtracts it back. ValueError without an adapter
  // or when already in that state.
  void merge_lora();
  void unmerge_lora();
  int64_t in_features, out_features;
  Tensor weight, bias;
  std::shared_ptr<const QuantizedMatrix> qweight;  // set by quantize()
  std::shared_ptr<Linear> lora_A, lora_B;          // set by add_lora()
  float lora_scaling = 0.0f;                       // α / r
  float lora_dropout = 0.0f;                       // on the adapter's input, training only
  bool lora_merged = false;
};

// A lookup table: weight (num, dim) ~ N(0, 1) as torch.nn.Embedding.
class Embedding : public Module {
 public:
  Embedding(int64_t num_embeddings, int64_t embedding_dim, Generator& gen);
  Tensor forward(const Tensor& ids) const;  // int ids (…) → (…, dim)
  int64_t num_embeddings, embedding_dim;
  Tensor weight;
};

// Ba et al. 2016 over the last dim: weight ones, bias zeros (or none).
class LayerNorm : public Module {
 public:
  explicit LayerNorm(int64_t dim, float eps = 1e-5f, bool bias = true);
  Tensor forward(const Tensor& x) const;  // x (…, dim)
  int64_t dim;
  float eps;
  Tensor weight, bias;
};

// RMSNorm (Zhang & Sennrich 2019) over the last dim, as Llama's:
// y = x / √(mean(x²) + eps) · weight; weight ones, no bias.
class RMSNorm : public Module {
 public:
  explicit RMSNorm(int64_t dim, float eps = 1e-6f);
  Tensor forward(const Tensor& x) const;  // x (…, dim)
  int64_t dim;
  float eps;
  Tensor weight;
};

// Inverted dropout (Srivastava et al. 2014): zeroes with probability p and
// scales the rest by 1/(1−p) in training mode; the identity in eval mode.
class Dropout : public Module {
 public:
  explicit Dropout(float p);
  Tensor forward(const Tensor& x, Generator& gen) const;
  float p;
};

enum class Activation {
  ReLU,
  GELU,      // exact, x·Φ(x) (erf)
  GELUTanh,  // GPT-2's tanh approximation
};
Tensor activate(const Tensor& x, Activation act);
const char* activation_name(Activation act);  // "relu", "gelu", "gelu_tanh"

// Position-wise feed-forward (Vaswani et al. 2017, §3.3) with GPT-2 names:
// dropout(c_proj(act(c_fc(x)))). c_fc: d_model → d_ff, c_proj: d_ff → d_model.
class FeedForward : public Module {
 public:
  FeedForward(int64_t d_model, int64_t d_ff, Activation act, float dropout, bool bias, Generator& gen);
  Tensor forward(const Tensor& x, Generator& gen) const;  // x (B,T,C) → (B,T,C)
  Activation act;
  std::shared_ptr<Linear> c_fc, c_proj;
  std::shared_ptr<Dropout> dropout;
};

// The SwiGLU feed-forward (Shazeer 2020, "GLU Variants Improve Transformer",
// eq. 6; Llama's MLP) with Hugging Face Llama names:
// down_proj(silu(gate_proj(x)) ⊙ up_proj(x)). gate_proj, up_proj: C → d_ff,
// down_proj: d_ff → C; no biases unless asked.
class SwiGLU : public Module {
 public:
  SwiGLU(int64_t d_model, int64_t d_ff, bool bias, Generator& gen);
  Tensor forward(const Tensor& x, Generator* gen = nullptr) const;  // x (B,T,C) → (B,T,C); gen: LoRA dropout
  std::shared_ptr<Linear> gate_proj, up_proj, down_proj;
};

}  // namespace qkv::nn
