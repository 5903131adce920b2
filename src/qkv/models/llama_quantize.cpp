// Llama with quantized weights for inference: Llama::quantize and the output
// head that uses them (see qkv/models/llama.h).
#include "qkv/models/llama.h"
#include "qkv/nn/trace.h"
#include "qkv/ops/ops.h"

namespace qkv::models {

void Llama::quantize(WeightFormat format) {
  for (auto& [name, m] : named_modules())
    if (auto* lin = dynamic_cast<nn::Linear*>(m)) {
      try {
        lin->quantize(format);
      } catch (const ValueError& e) {  // e.g. a weight that is not finite: name the tensor
        throw ValueError(name + ".weight: " + e.what());
      }
    }  // lm_head too, when untied
  tied_head_q.reset();
  if (format == WeightFormat::F32 || lm_head) return;
  // Tied: the head is embed_tokens (V,C) used as a Linear weight, one more copy.
  Tensor w = model->embed_tokens->weight.detach().contiguous();
  tied_head_q = std::make_shared<const QuantizedMatrix>(
      QuantizedMatrix::quantize(w.data<float>(), config.vocab_size, config.hidden_size, config.hidden_size, format));
}

int64_t Llama::tied_head_bytes() const {
  if (lm_head) return 0;  // its own Linear, counted with the others
  return tied_head_q ? tied_head_q->bytes() : model->embed_tokens->weight.numel() * int64_t(sizeof(float));
}

WeightFormat Llama::weight_format() const {
  if (lm_head) return lm_head->weight_format();
  return tied_head_q ? tied_head_q->format() : WeightFormat::F32;
}

Tensor Llama::head(const Tensor& x) const {
  if (!lm_head && tied_head_q && is_training())
    throw ValueError(std::string("Llama: the output head holds ") + kernels::weight_format_name(tied_head_q->format()) +
                     " weights, which are for inference; call eval() (training needs f32 weights)");
  Tensor logits = lm_head       ? lm_head->forward(x)
                  : tied_head_q ? linear_quantized(x, *tied_head_q)
                                : linear(x, model->embed_tokens->weight);
  nn::trace_tensor(this, "logits", "V", logits);
  return logits;
}

}  // namespace qkv::models
