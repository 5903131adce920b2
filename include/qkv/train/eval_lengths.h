// qkv/train/eval_lengths.h — a causal LM scored at context lengths other than
// the one it was trained at (the extrapolation study of docs/POSITIONS.md;
// `qkv eval-lengths`).
//
// Every length scores the same targets: tokens[first, N). They come in chunks
// of length/2; a chunk is predicted by one window of `length` tokens that ends
// where the chunk ends, so each target sees between length/2 + 1 and length
// tokens of context (sliding windows with stride length/2). The loss is the
// mean cross-entropy over those targets, summed in double.
//
//   train::LengthEvalOptions o{.first = 1024};
//   train::LengthScore s = train::score_at_length(model, val_tokens, 256, o);
//   if (s.error.empty()) std::printf("%.4f\n", s.perplexity());
#pragma once
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "qkv/models/model.h"

namespace qkv::train {

struct LengthEvalOptions {
  int64_t first = 0;        // first scored target; must be ≥ length (0 = length)
  int64_t batch = 8;        // windows per forward pass
  int64_t max_targets = 0;  // score at most this many targets (0 = all)
};

struct LengthScore {
  int64_t length = 0;
  double loss = NAN;    // mean cross-entropy (nats) over `targets`
  int64_t targets = 0;
  std::string error;    // why the model cannot run at this length (e.g. a learned position table), or empty
  double perplexity() const { return std::exp(loss); }
};

// ValueError when length < 2 or the tokens hold no target at or after
// `first`; a model that refuses the length (ValueError from its forward) gives
// a score with `error` set instead.
LengthScore score_at_length(const models::CausalLM& model, const std::vector<int64_t>& tokens, int64_t length,
                            const LengthEvalOptions& opt = {});

// Hugging Face's perplexity of a fixed-length model (the transformers guide
// "Perplexity of fixed-length models"; `qkv perplexity`): windows
// tokens[begin, begin + context) for begin = 0, stride, 2·stride, … until one
// reaches the end; each scores the targets no earlier window scored (the
// first: all but token 0), so every token after the first is scored once,
// with between context − stride and context − 1 tokens before it.
// ValueError for context < 2, a stride outside 1…context, fewer than 2 tokens;
// a model that refuses the context gives `error`, as score_at_length.
LengthScore sliding_window_perplexity(const models::CausalLM& model, const std::vector<int64_t>& tokens,
                                      int64_t context, int64_t stride, int64_t batch = 8);

}  // namespace qkv::train
