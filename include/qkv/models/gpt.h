// qkv/models/gpt.h — a decoder-only Transformer, GPT-2 architecture
// (Radford et al. 2019; nanoGPT's model.py is the reference for brevity).
//
//   idx (B,T) ─► wte(idx) + wpe(pos) ─► dropout ─► n_layer × Block ─► ln_f ─► · wteᵀ ─► logits (B,T,V)
//   Block (nn::TransformerLayer, pre-LN): x = x + attn(ln_1(x));  x = x + mlp(ln_2(x))
// config.pos_encoding chooses the positions: the learned table wpe (GPT-2), a
// T5's bucketed relative bias (one table shared by the layers, as T5), a
// sinusoidal table added to the token embeddings scaled by √C (Vaswani et al.
// §3.4 — unscaled, the ±1 table drowns GPT-2's N(0, 0.02) embeddings: val
// loss 2.27 against 1.96 on Tiny Shakespeare), rotary q/k in every attention (rope),
// ALiBi slopes in every attention, Shaw et al.'s relative key/value vectors
// in every attention (relative; w_k, w_v per layer), or none. Only the learned table limits the
// context to block_size; the others run past it (docs/POSITIONS.md).
//
// The output projection is tied to the token embedding. Parameter names follow
// nanoGPT / Hugging Face GPT-2 ("h.0.attn.c_attn.weight"), with PyTorch Linear
// layouts (out, in). With an nn::KVCache, forward() processes only new tokens:
// each layer appends its keys/values and attends over everything cached, so
// one decoding step costs O(context), not a full re-run. GPT implements the
// decoding interface (models::Decoder) that generate/ drives.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "qkv/core/rng.h"
#include "qkv/models/causal_decoder.h"
#include "qkv/models/gpt_config.h"
#include "qkv/models/model.h"
#include "qkv/nn/kv_cache.h"
#include "qkv/nn/layers.h"
#include "qkv/nn/positional.h"
#include "qkv/nn/transformer_layer.h"

namespace qkv::models {

// The blocks, registered as "0", "1", … under "h" (PyTorch ModuleList keys).
class GPTBlocks : public nn::Module {
 public:
  void append(std::shared_ptr<nn::TransformerLayer> b) {
    blocks.push_back(register_module(std::to_string(blocks.size()), b));
  }
  std::vector<std::shared_ptr<nn::TransformerLayer>> blocks;
};

// What hidden() takes besides the ids (positions, key mask, cache).
using GPTInputs = CausalInputs;

class GPT : public CausalDecoderLM {
 public:
  // Builds the model and initialises it as GPT-2 (normal 0.02; residual
  // projections c_proj scaled by 1/√(2·n_layer); zero biases; LayerNorm 1/0).
  GPT(const GPTConfig& cfg, Generator& gen);
  // idx (B,T) int64 → logits (B,T,V). With learned positions T ≤ block_size;
  // with a cache, cache->length() + T ≤ the cache's capacity (ValueError
  // otherwise).
  Tensor forward(const Tensor& idx, Generator& gen, nn::KVCache* cache = nullptr) const;
  // The logits (B,V) of the token after idx's last position only — what
  // generation needs; ln_f and the output projection run on one row per
  // sequence instead of T. Same checks and cache update as forward().
  Tensor next_token_logits(const Tensor& idx, Generator& gen, nn::KVCache* cache = nullptr) const;
  // The blocks' output (B,T,C) before ln_f, with explicit positions/padding.
  Tensor hidden(const Tensor& idx, Generator& gen, const GPTInputs& in = {}) const;
  // The blocks' input: dropout(wte(idx) + the position term at pos) (B,T,C);
  // pos (T) or (B,T) int64. Learned positions past block_size: ValueError.
  Tensor embed(const Tensor& idx, const Tensor& pos, Generator& gen) const;
  // The additive position bias of T queries over S keys, (1,NH,T,S) — T5's
  // relative bias — or undefined for the other methods.
  Tensor position_bias(int64_t T, int64_t S) const;
  // Mean next-token cross-entropy of logits (B,T,V) against targets (B,T)
  // (targets of -100 are skipped).
  static Tensor loss(const Tensor& logits, const Tensor& targets);

  // models::Model / CausalLM: "gpt", config.to_json(), and forward() with an
  // optional padding mask (true = real token).
  std::string model_type() const override { return "gpt"; }
  nlohmann::json config_json() const override { return config.to_json(); }
  Tensor lm_logits(const Tensor& ids, Generator& gen, const Tensor& attention_mask = {}) const override;
  nn::KVCache make_cache(int64_t batch) const override;  // one self-attention slot per block, block_size long

  // models::Decoder (models::CausalDecoderLM): left-padded prompts; past
  // block_size the context is cropped to the last block_size tokens.
  int64_t vocab_size() const override { return config.vocab_size; }
  int64_t context_length() const override { return config.block_size; }
  int64_t cache_layers() const override { return config.n_layer; }
  Tensor last_token_logits(const Tensor& ids, const CausalInputs& in) const override;
  void check_ready() const override;

  // Inference with fewer bytes per weight (bf16, or int8 blocks of 32): every
  // Linear (nn::Linear::quantize) and the tied output projection; the token
  // embedding lookup keeps the f32 table. F32 switches back. Quantized, forward
  // throws ValueError in training mode or with grad on (models/gpt_quantize.cpp).
  void quantize(WeightFormat format) override;
  WeightFormat weight_format() const override;
  int64_t tied_head_bytes() const override;

  GPTConfig config;
  std::shared_ptr<nn::Embedding> wte, wpe;  // wpe: pos_encoding "learned" only
  std::shared_ptr<nn::SinusoidalPositionalEncoding> sinusoid;  // pos_encoding "sinusoidal" only
  std::shared_ptr<nn::T5RelativeBias> rel_bias;                // pos_encoding "t5" only: one table for every layer
  std::shared_ptr<GPTBlocks> h;
  std::shared_ptr<nn::LayerNorm> ln_f;
  std::shared_ptr<nn::Dropout> drop;

 private:
  Tensor lm_head(const Tensor& x) const;        // x (B,T,C) · wteᵀ → (B,T,V)
  Tensor last_logits(const Tensor& x) const;    // x (B,T,C) → the last row's logits (B,V)
  std::shared_ptr<const QuantizedMatrix> lm_head_q;  // wte quantized, or null
};

}  // namespace qkv::models
