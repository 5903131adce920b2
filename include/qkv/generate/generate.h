// qkv/generate/generate.h — autoregressive generation with a KV cache.
//
// The prompt is run once through the model (prefill), filling the cache;
// each new token then costs one forward step over a single position. When the
// context reaches block_size the model is conditioned on the last block_size
// tokens, as nanoGPT does: positions shift, so the cache is rebuilt from the
// cropped context (one prefill per step from then on).
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "qkv/generate/sampling.h"
#include "qkv/models/gpt.h"

namespace qkv::generate {

struct GenerateOptions {
  int64_t max_new_tokens = 100;
  SamplingOptions sampling;
  std::optional<int64_t> eos;  // stop a sequence after emitting this id
  bool use_cache = true;       // false: re-run the whole context every step (reference)
};

// Called after each new token of sequence `seq` (for streaming output).
using TokenCallback = std::function<void(size_t seq, int64_t token)>;

// Continues each prompt (ids; non-empty). Prompts of equal length run as one
// batch; others run one after another. Returns prompt + generated ids.
std::vector<std::vector<int64_t>> generate(const models::GPT& model,
                                           const std::vector<std::vector<int64_t>>& prompts,
                                           const GenerateOptions& opt, Generator& gen,
                                           const TokenCallback& on_token = nullptr);

}  // namespace qkv::generate
