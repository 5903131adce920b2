// TransformerBlock: pre-LN (GPT-2) or post-LN (Vaswani et al. 2017).
#include "qkv/nn/block.h"

#include "qkv/ops/ops.h"

namespace qkv::nn {

TransformerBlock::TransformerBlock(int64_t d_model, int64_t n_heads, int64_t d_ff, float dropout, bool bias,
                                   Activation act, NormPlacement norm_, Generator& gen)
    : norm(norm_) {
  ln_1 = register_module("ln_1", std::make_shared<LayerNorm>(d_model, 1e-5f, bias));
  attn = register_module("attn", std::make_shared<MultiHeadAttention>(d_model, n_heads, dropout, bias, gen));
  ln_2 = register_module("ln_2", std::make_shared<LayerNorm>(d_model, 1e-5f, bias));
  mlp = register_module("mlp", std::make_shared<FeedForward>(d_model, d_ff, act, dropout, bias, gen));
}

Tensor TransformerBlock::forward(const Tensor& x, bool causal, const Tensor& mask, Generator& gen,
                                 const Tensor& key_padding) const {
  // x (B,T,C)
  auto sa = [&](const Tensor& h) { return attn->forward(h, Tensor(), causal, mask, key_padding, gen).out; };
  if (norm == NormPlacement::Pre) {
    Tensor h = x + sa(ln_1->forward(x));
    return h + mlp->forward(ln_2->forward(h), gen);
  }
  Tensor h = ln_1->forward(x + sa(x));
  return ln_2->forward(h + mlp->forward(h, gen));
}

Tensor TransformerBlock::forward_cached(const Tensor& x, KVCache& cache, Generator& gen) const {
  auto sa = [&](const Tensor& h) { return attn->forward_cached(h, cache, Tensor(), gen).out; };
  if (norm == NormPlacement::Pre) {
    Tensor h = x + sa(ln_1->forward(x));
    return h + mlp->forward(ln_2->forward(h), gen);
  }
  Tensor h = ln_1->forward(x + sa(x));
  return ln_2->forward(h + mlp->forward(h, gen));
}

}  // namespace qkv::nn
