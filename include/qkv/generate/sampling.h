// qkv/generate/sampling.h — choosing the next token from logits.
//
// Order of operations (as Hugging Face's and nanoGPT's samplers): logits /
// temperature, keep the top-k, keep the smallest set whose probability
// reaches top-p (nucleus, Holtzman et al. 2020), softmax, draw. temperature 0
// means greedy (argmax; ties → lowest id).
#pragma once
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "qkv/core/rng.h"

namespace qkv::generate {

struct SamplingOptions {
  float temperature = 1.0f;  // 0 = greedy
  int64_t top_k = 0;         // 0 = off
  float top_p = 1.0f;        // 1 = off
  void validate() const;     // ValueError naming the field
};

// logits: V scores (any finite values, −∞ allowed). Returns a token id.
int64_t sample_token(const float* logits, int64_t V, const SamplingOptions& opt, Generator& gen);

// The model's log-probabilities (log-softmax of the raw logits, in double:
// what OpenAI's and llama.cpp's `logprobs` report): of `token`, and of the
// k most likely tokens, best first (ties → lower id) in `top` when k > 0.
struct TokenLogprobs {
  float logprob = 0.0f;
  std::vector<std::pair<int64_t, float>> top;
};
TokenLogprobs token_logprobs(const float* logits, int64_t V, int64_t token, int64_t k);

// The k most likely tokens of softmax(logits / temperature) (temperature 0
// counts as 1: greedy decoding still has a distribution to show), most likely
// first, ties by lower id; k is capped at V: token_logprobs of the scaled
// logits, as probabilities. The next-token view of `qkv generate
// --show-probs` and `qkv plot next-token`.
struct TokenProb {
  int64_t id;
  double p;
};
std::vector<TokenProb> top_probs(const float* logits, int64_t V, int64_t k, float temperature = 1.0f);

}  // namespace qkv::generate
