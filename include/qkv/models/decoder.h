// qkv/models/decoder.h — the decoding interface: what a model that generates
// token by token exposes to generate/ (greedy, sampling, beam search), so the
// decoding loops never know a model by name.
//
//   DecodeState st;
//   Tensor logits = model.start(st, {.ids = prompts, .mask = real});  // (B,V)
//   for (…) logits = model.step(st, next_tokens);                       // (B,V)
//   model.reorder(st, beams);                                           // beam search
//
// Prompts of different lengths share one batch left-padded: `mask` (B,T) is
// true at real tokens (docs/ARCHITECTURE.md, "Masks"); each row's positions
// count from its first real token, so a row decodes as it would alone.
#pragma once
#include <cstdint>
#include <vector>

#include "qkv/core/tensor.h"
#include "qkv/nn/kv_cache.h"

namespace qkv::models {

struct DecodeInput {
  Tensor ids;          // (B,T) int64 prompt ids, left-padded
  Tensor mask;         // (B,T) bool, true = real token; undefined = all real
  Tensor source_ids;   // (B,S) encoder input (encoder–decoder models)
  Tensor source_mask;  // (B,S) bool, true = real token
};

// One batch in flight: owned by the caller, read and written by the model.
struct DecodeState {
  bool use_cache = true;  // false: every step re-runs the whole context (the reference path)
  nn::KVCache cache;
  Tensor ids, mask;       // (B,L) everything so far, left-padded, as the model keeps it
  Tensor memory;          // (G,S,C) encoder output, one row per source sentence (encoder–decoder models)
  Tensor source_mask;     // (G,S) bool, true = real source token (encoder–decoder models)
  // Row b decodes against sentence source_rows[b] of memory, source_mask and
  // the cache's cross-attention slots; empty = row b itself (G = B). Beams of
  // one sentence share its source this way instead of each holding a copy.
  std::vector<int64_t> source_rows;
  int64_t batch() const { return ids.defined() ? ids.size(0) : 0; }
};

// Continuous batching (generate/continuous.h) on decoder-only states: the
// rows of `from` join `into` below its rows, every part (ids, mask, cache)
// left-padded to the longer of the two, so each row decodes as it did alone.
// Both states must hold the whole context in their caches (no crop) and no
// encoder memory; ValueError otherwise. An empty `into` becomes `from`.
void join_states(DecodeState& into, DecodeState&& from);
// Drops the leading columns that are padding in every row (after rows left
// the batch), from ids, mask and cache alike; returns how many.
int64_t drop_leading_padding(DecodeState& st);

class Decoder {
 public:
  virtual ~Decoder() = default;
  virtual int64_t vocab_size() const = 0;
  // Runs the prompt (prefill) and returns the next-token logits (B,V).
  virtual Tensor start(DecodeState& st, const DecodeInput& in) const = 0;
  // Appends one token per row (B ids) and returns the next logits (B,V).
  virtual Tensor step(DecodeState& st, const std::vector<int64_t>& next) const = 0;
  // Row b becomes old row rows[b] (beam search: keep, drop, duplicate). The
  // per-sentence parts (memory, source_mask, cross-attention keys/values)
  // are not copied: source_rows follows the rows, and sentences no row reads
  // any more are dropped from them.
  virtual void reorder(DecodeState& st, const std::vector<int64_t>& rows) const;
  // Throws ValueError unless the model is ready to decode (eval mode, …).
  virtual void check_ready() const {}
};

}  // namespace qkv::models
