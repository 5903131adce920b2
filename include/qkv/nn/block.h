// qkv/nn/block.h — one Transformer layer: self-attention and feed-forward,
// each wrapped in a residual connection and a LayerNorm. GPT-2 names: ln_1,
// attn, ln_2, mlp.
//   Pre-LN  (GPT-2, Xiong et al. 2020): x = x + attn(ln_1(x)); x = x + mlp(ln_2(x))
//   Post-LN (Vaswani et al. 2017):      x = ln_1(x + attn(x)); x = ln_2(x + mlp(x))
// (dropout on each sub-layer output is inside attn and mlp).
#pragma once
#include <cstdint>

#include "qkv/nn/attention.h"
#include "qkv/nn/layers.h"

namespace qkv::nn {

enum class NormPlacement { Pre, Post };

class TransformerBlock : public Module {
 public:
  TransformerBlock(int64_t d_model, int64_t n_heads, int64_t d_ff, float dropout, bool bias, Activation act,
                   NormPlacement norm, Generator& gen);
  // x (B,T,C) → (B,T,C). mask / key_padding as MultiHeadAttention::forward.
  Tensor forward(const Tensor& x, bool causal, const Tensor& mask, Generator& gen,
                 const Tensor& key_padding = Tensor()) const;
  // Incremental decoding with the attention's KV cache (causal self-attention);
  // x holds the next T positions.
  Tensor forward_cached(const Tensor& x, KVCache& cache, Generator& gen) const;
  NormPlacement norm;
  std::shared_ptr<LayerNorm> ln_1, ln_2;
  std::shared_ptr<MultiHeadAttention> attn;
  std::shared_ptr<FeedForward> mlp;
};

}  // namespace qkv::nn
