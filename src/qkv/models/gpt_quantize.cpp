// GPT with quantized weights for inference: GPT::quantize and the tied output
// projection that uses them (see qkv/models/gpt.h).
#include "qkv/models/gpt.h"
#include "qkv/nn/trace.h"
#include "qkv/ops/ops.h"

namespace qkv::models {

void GPT::quantize(WeightFormat format) {
  for (auto& [name, m] : named_modules())
    if (auto* lin = dynamic_cast<nn::Linear*>(m)) {
      try {
        lin->quantize(format);
      } catch (const ValueError& e) {  // e.g. a weight that is not finite: name the tensor
        throw ValueError(name + ".weight: " + e.what());
      }
    }
  if (format == WeightFormat::F32) {
    lm_head_q.reset();
    return;
  }
  // The lm_head is wte (V,C) used as a Linear weight: one more (V,C) copy.
  Tensor w = wte->weight.detach().contiguous();
  lm_head_q = std::make_shared<const QuantizedMatrix>(
      QuantizedMatrix::quantize(w.data<float>(), config.vocab_size, config.n_embd, config.n_embd, format));
}

int64_t GPT::tied_head_bytes() const {
  return lm_head_q ? lm_head_q->bytes() : wte->weight.numel() * int64_t(sizeof(float));
}

WeightFormat GPT::weight_format() const { return lm_head_q ? lm_head_q->format() : WeightFormat::F32; }

Tensor GPT::lm_head(const Tensor& x) const {
  if (lm_head_q && is_training())
    throw ValueError(std::string("GPT: the output projection holds ") + kernels::weight_format_name(lm_head_q->format()) +
                     " weights, which are for inference; call eval() (training needs f32 weights)");
  Tensor logits = lm_head_q ? linear_quantized(x, *lm_head_q) : linear(x, wte->weight);
  nn::trace_tensor(this, "logits", "V", logits);
  return logits;
}

}  // namespace qkv::models
