// qkv/models/gpt.h — a decoder-only Transformer, GPT-2 architecture
// (Radford et al. 2019; nanoGPT's model.py is the reference for brevity).
//
//   idx (B,T) ─► wte(idx) + wpe(0..T-1) ─► dropout ─► n_layer × Block ─► ln_f ─► · wteᵀ ─► logits (B,T,V)
//   Block: x = x + attn(ln_1(x));  x = x + mlp(ln_2(x))        (pre-LN)
//
// The output projection is tied to the token embedding. Parameter names follow
// nanoGPT / Hugging Face GPT-2 ("h.0.attn.c_attn.weight"), with PyTorch Linear
// layouts (out, in). forward() with a KVCache processes only new tokens: each
// layer appends its keys/values and attends over everything cached, so one
// decoding step costs O(context), not a full re-run.
#pragma once
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "qkv/core/rng.h"
#include "qkv/models/gpt_config.h"
#include "qkv/nn/layers.h"

namespace qkv::models {


// Per-layer keys and values of the tokens seen so far: k[l], v[l] are
// (B, block_size, C) with the heads side by side, filled up to `len`.
struct KVCache {
  std::vector<Tensor> k, v;
  int64_t len = 0;
  int64_t batch = 0;
};

class CausalSelfAttention : public nn::Module {
 public:
  CausalSelfAttention(const GPTConfig& cfg, Generator& gen);
  // x (B,T,C) → (B,T,C). With a cache (layer slot `layer`), appends this
  // step's keys/values at positions cache->len … and attends over them all.
  Tensor forward(const Tensor& x, Generator& gen, KVCache* cache, int64_t layer) const;
  std::shared_ptr<nn::Linear> c_attn, c_proj;  // (3C, C) and (C, C)
  std::shared_ptr<nn::Dropout> resid_dropout;
  int64_t n_head, n_embd;
  float attn_dropout;
};

class GPTBlock : public nn::Module {
 public:
  GPTBlock(const GPTConfig& cfg, Generator& gen);
  Tensor forward(const Tensor& x, Generator& gen, KVCache* cache, int64_t layer) const;
  std::shared_ptr<nn::LayerNorm> ln_1, ln_2;
  std::shared_ptr<CausalSelfAttention> attn;
  std::shared_ptr<nn::FeedForward> mlp;
};

// The blocks, registered as "0", "1", … under "h" (PyTorch ModuleList keys).
class GPTBlocks : public nn::Module {
 public:
  void append(std::shared_ptr<GPTBlock> b) { blocks.push_back(register_module(std::to_string(blocks.size()), b)); }
  std::vector<std::shared_ptr<GPTBlock>> blocks;
};

class GPT : public nn::Module {
 public:
  // Builds the model and initialises it as GPT-2 (normal 0.02; residual
  // projections c_proj scaled by 1/√(2·n_layer); zero biases; LayerNorm 1/0).
  GPT(const GPTConfig& cfg, Generator& gen);
  // idx (B,T) int64 → logits (B,T,V). Without a cache T ≤ block_size; with one,
  // cache->len + T ≤ block_size (ValueError otherwise).
  Tensor forward(const Tensor& idx, Generator& gen, KVCache* cache = nullptr) const;
  // The logits (B,V) of the token after idx's last position only — what
  // generation needs; ln_f and the output projection run on one row per
  // sequence instead of T. Same checks and cache update as forward().
  Tensor next_token_logits(const Tensor& idx, Generator& gen, KVCache* cache = nullptr) const;
  // Mean next-token cross-entropy of logits (B,T,V) against targets (B,T).
  static Tensor loss(const Tensor& logits, const Tensor& targets);
  KVCache make_cache(int64_t batch) const;
  // Inference with fewer bytes per weight (bf16, or int8 blocks of 32): every
  // Linear (nn::Linear::quantize) and the tied output projection; the token
  // embedding lookup keeps the f32 table. F32 switches back. Quantized, forward
  // throws ValueError in training mode or with grad on (models/gpt_quantize.cpp).
  void quantize(WeightFormat format);
  WeightFormat weight_format() const;

  GPTConfig config;
  std::shared_ptr<nn::Embedding> wte, wpe;
  std::shared_ptr<GPTBlocks> h;
  std::shared_ptr<nn::LayerNorm> ln_f;
  std::shared_ptr<nn::Dropout> drop;

 private:
  Tensor hidden(const Tensor& idx, Generator& gen, KVCache* cache) const;  // blocks' output (B,T,C)
  Tensor lm_head(const Tensor& x) const;        // x (B,T,C) · wteᵀ → (B,T,V)
  std::shared_ptr<const QuantizedMatrix> lm_head_q;  // wte quantized, or null
};

}  // namespace qkv::models
