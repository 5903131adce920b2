// qkv/generate/generate.h — autoregressive generation for any model that
// implements the decoding interface (models::Decoder: start / step / reorder).
//
// All prompts run as one batch, left-padded to the longest: the prompt is run
// once (prefill), filling the model's KV cache; each new token then costs one
// step over a single position. Each sequence samples from its own random
// stream, seeded by one draw from `gen` and the sequence's index, so sample i
// does not depend on how many others run beside it.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "qkv/generate/sampling.h"
#include "qkv/models/decoder.h"
#include "qkv/models/hf.h"

namespace qkv::generate {

struct GenerateOptions {
  int64_t max_new_tokens = 100;
  SamplingOptions sampling;
  std::optional<int64_t> eos;  // stop a sequence after emitting this id
  bool use_cache = true;       // false: re-run the whole context every step (reference)
  // The run-wide index of prompts[0]: sequence b draws from stream
  // first_sequence + b, so a caller that splits many samples into batches
  // (each from a copy of the same Generator) draws what one batch would.
  size_t first_sequence = 0;
  // Called at every step of sequence `seq` with the V logits the token was
  // drawn from and the token (the next-token view of --show-probs).
  std::function<void(size_t seq, const float* logits, int64_t V, int64_t token)> on_logits;
};

// A model directory's generation_config.json (models::read_generation_config)
// applied to `opt`, as `qkv generate` and the Python module do: its eos
// always; its sampling settings only when the caller chose none of
// temperature / top_k / top_p (`sampling_given`), with transformers' default
// when do_sample is false: greedy. ValueError naming DIR/generation_config.json
// for an eos_token_id not below `vocab` or sampling values out of range.
void apply_generation_config(const models::GenerationDefaults& g, const std::string& dir, int64_t vocab,
                             bool sampling_given, GenerateOptions& opt);

// Called after each new token of sequence `seq` (for streaming output).
using TokenCallback = std::function<void(size_t seq, int64_t token)>;

// Continues each prompt (ids; non-empty, each < vocab_size). Returns prompt +
// generated ids (cut right after a generated eos).
std::vector<std::vector<int64_t>> generate(const models::Decoder& model,
                                           const std::vector<std::vector<int64_t>>& prompts,
                                           const GenerateOptions& opt, Generator& gen,
                                           const TokenCallback& on_token = nullptr);

// Sequence `index`'s random stream in a run whose base draw is `base`
// (generate() takes base = gen.next_u64(), sequence i uses stream i): what
// lets another decoding loop (the server's continuous batch) draw exactly the
// tokens `qkv generate --seed S` draws.
Generator sequence_stream(uint64_t base, size_t index);

// The left-padded batch of `prompts`: ids (B,T) (padding holds `pad_id`) and
// mask (B,T), true at real tokens.
models::DecodeInput left_pad(const std::vector<std::vector<int64_t>>& prompts, int64_t pad_id = 0);

}  // namespace qkv::generate
