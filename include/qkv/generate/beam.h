// qkv/generate/beam.h — beam search (and greedy search, its beam size 1) for
// any models::Decoder, batched over sentences and their beams.
//
//   generate::BeamOptions opt{.beam_size = 4, .length_penalty = 0.6f, .eos = 2};
//   models::DecodeInput in{.ids = bos (B,1), .source_ids = src (B,S), .source_mask = real (B,S)};
//   auto hyps = generate::beam_search(model, in, opt);   // hyps[b][0] is sentence b's best
//
// Semantics (Wu et al. 2016 §7; fairseq's sequence generator):
// - every row of `in` is one sentence; it starts with one live hypothesis (its
//   prompt) and grows to beam_size after the first step;
// - at each step every live hypothesis is extended by every token; per
//   sentence the 2·beam_size best continuations by summed log-probability are
//   examined in order: one ending in eos becomes a finished hypothesis (while
//   fewer than beam_size are finished), the others fill the beam_size live slots;
// - a finished hypothesis of n generated tokens (eos included) scores
//   log P / lp(n), lp(n) = ((5 + n) / 6)^α (α = length_penalty; α = 0: the raw
//   sum). A hypothesis still live when the length limit is reached is
//   finished there, without eos;
// - a sentence is done when it has beam_size finished hypotheses and no live
//   one could still beat the worst of them (with α ≥ 0 the bound is its score
//   at the length limit), or at the length limit; the search stops when every
//   sentence is done, and done sentences leave the batch;
// - at most max_len_a·S + max_len_b new tokens per sentence (S = its source
//   length without padding, 0 for a decoder-only prompt), capped by max_new_tokens.
// Encoder–decoder models compute the cross-attention keys/values once per
// sentence; its beams share them (models::Decoder::reorder keeps beams of one
// sentence pointing at that sentence's source).
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "qkv/models/decoder.h"

namespace qkv::generate {

struct BeamOptions {
  int64_t beam_size = 4;        // 1 = greedy search (with α > 0 up to a runner-up that outscores at the limit)
  float length_penalty = 0.6f;  // α of lp(n) = ((5 + n) / 6)^α; 0 = no normalisation
  int64_t n_best = 1;           // hypotheses returned per sentence (≤ beam_size), best first
  float max_len_a = 1.5f;       // length limit a·S + b new tokens …
  int64_t max_len_b = 10;
  int64_t max_new_tokens = 256; // … and never more than this
  std::optional<int64_t> eos;   // the end token (required for a finished hypothesis)
  bool use_cache = true;        // false: every step re-runs the whole context (reference)
  void validate() const;        // ValueError naming the field
};

struct Hypothesis {
  std::vector<int64_t> tokens;  // generated ids (the prompt excluded), eos excluded
  double log_prob = 0;          // summed log-probability of tokens (+ eos when it ended)
  double score = 0;             // log_prob / lp(n)
  bool finished = false;        // ended with eos (false: stopped by the length limit)
};

// Per sentence of `in` (B rows), its n_best hypotheses, best score first.
std::vector<std::vector<Hypothesis>> beam_search(const models::Decoder& model, const models::DecodeInput& in,
                                                 const BeamOptions& opt);

// How an encoder–decoder model's sources are grouped for beam_search_sources.
struct SourceBatching {
  int64_t pad_id = 0, bos_id = 1;  // the model's padding and decoder-start ids
  int64_t batch_size = 32;         // sentences per batch …
  int64_t max_tokens = 0;          // … and at most this many padded source tokens per batch (0 = no limit)
};

// Translates many sources (ids, without BOS/EOS) with an encoder–decoder
// model: sorted by length (stable) and cut into batches, so little of a batch
// is padding. Returns each source's hypotheses in input order; an empty
// source gets none and never reaches the model. `on_batch` (optional) hears,
// after every batch, the input indices it finished and the results so far
// (for streaming output in input order).
using BatchDone = std::function<void(const std::vector<size_t>& done, const std::vector<std::vector<Hypothesis>>& all)>;
std::vector<std::vector<Hypothesis>> beam_search_sources(const models::Decoder& model,
                                                         const std::vector<std::vector<int64_t>>& sources,
                                                         const BeamOptions& opt, const SourceBatching& batching,
                                                         const BatchDone& on_batch = nullptr);

}  // namespace qkv::generate
