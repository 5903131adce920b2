// qkv/models/causal_decoder.h — the decoding interface (models::Decoder) of
// decoder-only causal LMs (GPT, Llama), written once: left-padded prompts run
// as one prefill over a KV cache, then one token per step; past the model's
// context length the context is cropped to its last context_length() tokens
// as nanoGPT does (positions shift, so the cache is rebuilt from the crop).
//
// A family supplies its stack (last_token_logits), its cache and its
// context length; generate/ sees only models::Decoder.
#pragma once
#include <cstdint>
#include <vector>

#include "qkv/models/decoder.h"
#include "qkv/models/model.h"
#include "qkv/nn/kv_cache.h"
#include "qkv/ops/quantized.h"

namespace qkv::models {

// What a causal LM's blocks take besides the ids; every field optional.
struct CausalInputs {
  Tensor positions;              // (B,T) or (T) int64 position ids; undefined = offset, offset+1, …
  Tensor key_mask;               // (B,S) bool over cached + new keys, true = real token
  nn::KVCache* cache = nullptr;  // append the new keys/values, attend over all cached
  // When set, hidden() appends each layer's self-attention probabilities
  // (B,NH,T,S), in layer order — the pictures of `qkv plot attention`.
  std::vector<Tensor>* weights = nullptr;
  Generator* gen = nullptr;      // training draws (LoRA dropout in a model without dropout of its own)
};

class CausalDecoderLM : public CausalLM, public Decoder {
 public:
  int64_t vocab_size() const override = 0;  // one answer for CausalLM and Decoder
  // models::Decoder over last_token_logits below.
  Tensor start(DecodeState& st, const DecodeInput& in) const override;
  Tensor step(DecodeState& st, const std::vector<int64_t>& next) const override;

  // The longest window the model attends over (GPT's block_size, Llama's
  // max_position_embeddings): the cache's capacity; longer contexts are cropped.
  virtual int64_t context_length() const = 0;
  // One self-attention slot per block, context_length() long.
  virtual nn::KVCache make_cache(int64_t batch) const = 0;
  virtual int64_t cache_layers() const = 0;
  // The logits (B,V) of the token after ids's (B,T) last position (no grad,
  // eval mode: nothing random is drawn).
  virtual Tensor last_token_logits(const Tensor& ids, const CausalInputs& in) const = 0;

  // Inference with fewer bytes per weight (bf16, or int8 blocks of 32) in
  // every Linear and the output projection; F32 switches back.
  virtual void quantize(WeightFormat format) = 0;
  virtual WeightFormat weight_format() const = 0;
  // Bytes of weights one decoding step reads (qkv bench's GB/s): every
  // parameter once in its stored format (Linear weights as quantized), one
  // row of each embedding table, and a tied output projection whole.
  int64_t decode_weight_bytes() const;
  // The output projection's bytes when it is an embedding table used again
  // (tied; counted once above as one row); 0 when it is its own Linear.
  virtual int64_t tied_head_bytes() const = 0;

 private:
  Tensor prefill(DecodeState& st) const;  // runs st's last ≤ context_length() columns afresh
};

// Position ids of left-padded rows: each row counts from its first real
// token (pads get 0; their outputs are never used). mask (B,W) → (B,W).
Tensor positions_from_mask(const Tensor& mask);

}  // namespace qkv::models
