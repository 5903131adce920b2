// qkv/nn/attention.h — multi-head attention (Vaswani et al. 2017, §3.2.2):
// MultiHead(Q,K,V) = Concat(head_1..head_h) W^O, head_i = Attention(Q W_i^Q, K W_i^K, V W_i^V).
// The one attention module every model uses: self- or cross-attention, fused
// or separate projections under the names the model chooses, and one options
// struct per call for masks, padding, the KV cache and attention weights.
//
//   nn::MultiHeadAttention attn({.d_model = 64, .n_heads = 4}, gen);       // GPT-2 names
//   auto y = attn.forward(x, {.causal = true, .key_mask = real}).out;       // (B,T,C)
//
// Masks (one convention everywhere, docs/ARCHITECTURE.md "Masks"): bool masks
// say true = may attend / a real token. `mask` may instead be float, added to
// the scores (a relative-position or ALiBi bias). Masks combine: causal AND
// mask AND key_mask. A query with nothing to attend to gets a zero vector.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "qkv/core/rng.h"
#include "qkv/nn/kv_cache.h"
#include "qkv/nn/layers.h"

namespace qkv::nn {

class ShawRelativePositions;  // qkv/nn/positional.h

// Parameter names of the projections. Fused self-attention: `qkv` (C → 3C,
// rows q | k | v, the layout of GPT-2's c_attn and torch's in_proj_weight).
// Fused cross-attention: `q` (C → C) and `kv` (C_kv → 2C), Hugging Face
// GPT-2's q_attn / c_attn. Separate: `q`, `k`, `v`. Output: `out` (W^O).
// With n_kv_heads < n_heads the key and value parts are n_kv_heads·hs wide.
struct ProjectionNames {
  bool fused = true;
  std::string qkv = "c_attn", q = "q_attn", kv = "c_attn", k = "k_proj", v = "v_proj", out = "c_proj";
  static ProjectionNames gpt2() { return {}; }
  // Separate projections, e.g. ("q_proj", "k_proj", "v_proj", "o_proj") for
  // Llama. An empty `out` means no output projection: forward() returns the
  // heads side by side (B,T,C) without the output dropout, and the caller
  // projects — BERT, whose attention.output.dense lives beside
  // attention.self (Hugging Face's BertAttention).
  static ProjectionNames separate(std::string q, std::string k, std::string v, std::string out);
};

struct AttentionConfig {
  int64_t d_model = 0;   // C: query width and output width
  int64_t n_heads = 0;   // NH; hs = C / NH
  // Key/value heads (grouped-query attention, Ainslie et al. 2023): NH must
  // be a multiple; each serves NH / n_kv_heads query heads, so k/v (and the
  // KV cache) are n_kv_heads·hs wide. 0 = NH (multi-head), 1 = multi-query.
  int64_t n_kv_heads = 0;
  int64_t kv_dim = 0;    // width of the context (cross-attention); 0 = d_model
  bool cross = false;    // keys/values come from a context, not from x
  bool bias = true;      // biases in the projections
  float dropout = 0.0f;  // on the attention probabilities and on the output (training only)
  ProjectionNames names;
};

// Transforms the new queries q (B,T,C) and keys k (B,T,Ckv) before their
// product, e.g. rotary position embeddings. `positions` is AttentionArgs's
// (each row's position ids), possibly undefined. Self-attention only.
using QKTransform = std::function<void(Tensor& q, Tensor& k, const Tensor& positions)>;

// Everything a call needs besides x; every field is optional.
struct AttentionArgs {
  Tensor context;            // (B,S,C_kv): the source of keys/values (cross-attention)
  // Cross-attention whose context has one row per group of query rows (beam
  // search: G sentences, each read by its beams): query row b reads context,
  // cached keys/values and key_mask row context_rows[b] of G. Rows grouped
  // consecutively in equal groups attend without copying the context;
  // otherwise the rows are gathered. Empty = row b reads row b.
  std::vector<int64_t> context_rows;
  bool causal = false;       // query t sees keys s ≤ t + (S − T) (bottom-right aligned with a cache)
  Tensor mask;               // bool (true = may attend) or float (added), broadcast to (B,NH,T,S)
  Tensor key_mask;           // (B,S) bool, true = a real key, false = padding (S counts cached keys)
  LayerKV* cache = nullptr;  // self: append x's keys/values, attend over all; cross: fill once, reuse
  Tensor positions;          // (B,T) or (T) int64 positions of x's rows, for the QK transform
  bool need_weights = false; // also return the attention probabilities
  Generator* gen = nullptr;  // dropout draws (training with dropout > 0 needs one)
};

struct AttentionOutput {
  Tensor out;      // (B,T,C)
  Tensor weights;  // (B,NH,T,S) per head, before dropout; only if requested
};

class MultiHeadAttention : public Module {
 public:
  MultiHeadAttention(const AttentionConfig& cfg, Generator& gen);
  // x (B,T,C) → (B,T,C). Throws ShapeError/ValueError naming the argument.
  AttentionOutput forward(const Tensor& x, const AttentionArgs& args = {}) const;

  AttentionConfig config;  // n_kv_heads resolved (never 0)
  int64_t head_size;
  int64_t kv_width() const { return config.n_kv_heads * head_size; }  // Ckv: keys/values per position
  QKTransform qk_transform;  // empty = none (e.g. nn::RotaryEmbedding)
  Tensor alibi_slopes;       // (NH) ALiBi slopes (nn::alibi_slopes), applied in the kernel; undefined = none
  // Shaw et al. 2018's relative positions (self-attention only): registers
  // `rel_pos` (w_k, w_v: (2k+1, hs)), k = max_distance. Attention then runs as
  // differentiable ops (nn/relative_attention.cpp) instead of the fused op.
  void add_relative_positions(int64_t max_distance, Generator& gen);
  std::shared_ptr<ShawRelativePositions> rel_pos;  // null = none
  // Projections (null when the layout does not use them): fused self-attention
  // has qkv_proj; fused cross-attention q_proj + kv_proj; separate q/k/v_proj;
  // out_proj unless names.out is empty.
  std::shared_ptr<Linear> qkv_proj, q_proj, kv_proj, k_proj, v_proj, out_proj;
  std::shared_ptr<Dropout> attn_dropout, resid_dropout;

 private:
  struct Projected;  // q, k, v of one call (see attention.cpp)
  Projected project(const Tensor& x, const AttentionArgs& args) const;
  // q (B,T,C) over k, v (B,S,C) with relative positions → the heads' output
  // (B,T,C); fills res.weights on request (nn/relative_attention.cpp).
  Tensor relative_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_mask,
                            const AttentionArgs& args, AttentionOutput& res) const;
};

// The mask the attention op gets from a user mask (bool or float, broadcast
// to (B,NH,T,S)) and a key mask (B,S) bool, true = real: bool AND bool, or the
// float mask with −∞ added at padded keys. Undefined when both are.
Tensor combine_attention_masks(const Tensor& mask, const Tensor& key_mask);

}  // namespace qkv::nn
