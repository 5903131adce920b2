// qkv/nn/attention.h — multi-head attention (Vaswani et al. 2017, §3.2.2):
// MultiHead(Q,K,V) = Concat(head_1..head_h) W^O, head_i = Attention(Q W_i^Q, K W_i^K, V W_i^V).
//
// Self-attention uses one fused projection `c_attn` (C → 3C; rows are the
// q, k, v projections in that order — the layout of torch.nn.MultiheadAttention's
// in_proj_weight and GPT-2's c_attn) and `c_proj` (C → C) for W^O.
// Cross-attention (cross = true) projects queries from x with `q_attn`
// (C → C) and keys/values from the context with `c_attn` (C → 2C), as
// Hugging Face's GPT-2 cross-attention names them.
#pragma once
#include <cstdint>

#include "qkv/core/rng.h"
#include "qkv/nn/layers.h"

namespace qkv::nn {

struct AttentionOutput {
  Tensor out;      // (B,T,C)
  Tensor weights;  // (B,NH,T,S) per head, before dropout; only if requested
};

// Keys and values already computed for earlier positions, for incremental
// decoding: each new token then costs O(context) instead of a full re-run.
// k, v: (B,S,C), heads side by side as the projections produce them; empty
// until the first forward_cached call.
struct KVCache {
  Tensor k, v;
  int64_t length() const { return k.defined() ? k.size(1) : 0; }
  void clear() { k = Tensor(), v = Tensor(); }
};

class MultiHeadAttention : public Module {
 public:
  MultiHeadAttention(int64_t d_model, int64_t n_heads, float dropout, bool bias, Generator& gen,
                     bool cross = false);
  // x (B,T,C); context (B,S,C), required iff cross (pass Tensor() otherwise).
  // causal: query t attends to keys s ≤ t + (S − T). mask: bool broadcastable
  // to (B,NH,T,S), true = may attend (or undefined). key_padding: bool (B,S),
  // true = padding, never attended (or undefined). Masks combine with AND.
  // A query with nothing to attend to gets a zero context vector.
  // Dropout (training mode only) on the attention probabilities and on the
  // output (residual dropout, as GPT-2).
  AttentionOutput forward(const Tensor& x, const Tensor& context, bool causal, const Tensor& mask,
                          const Tensor& key_padding, Generator& gen, bool need_weights = false) const;

  // Incremental form. Self-attention: appends x's keys/values (x holds the
  // next T positions) to the cache and attends causally over cache + x
  // (query t sees keys s ≤ t + S_past). Cross-attention: fills the cache from
  // `context` on the first call and reuses it after (pass Tensor() then).
  // Same output as forward() on the whole sequence, position by position.
  AttentionOutput forward_cached(const Tensor& x, KVCache& cache, const Tensor& context, Generator& gen,
                                 bool need_weights = false) const;

  int64_t d_model, n_heads, head_size;
  bool cross;
  std::shared_ptr<Linear> c_attn, q_attn, c_proj;  // q_attn only when cross
  std::shared_ptr<Dropout> attn_dropout, resid_dropout;
};

// The bool "may attend" mask for (B,NH,T,S) attention from an optional
// user mask (true = attend) and an optional key_padding (B,S) (true = pad);
// undefined when both are. Exposed for models and tests.
Tensor combine_attention_masks(const Tensor& mask, const Tensor& key_padding);

}  // namespace qkv::nn
