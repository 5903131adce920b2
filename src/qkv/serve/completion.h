// /v1/completions between the HTTP handler and the scheduler: a checked
// request becomes a Job (prompt ids, one SequenceSpec per choice), and the
// Job's deltas become OpenAI's response body or stream chunks. Private to serve/.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "qkv/models/causal_decoder.h"
#include "qkv/serve/openai.h"
#include "qkv/tokenizers/text_codec.h"
#include "scheduler.h"

namespace qkv::serve {

struct Completion {
  std::shared_ptr<Job> job;
  std::string id;                         // "cmpl-…"
  int64_t created = 0;                    // Unix seconds
  std::string model;
  std::vector<std::string> echo_text;     // per choice: the prompt's text when echo, else ""
  int64_t prompt_tokens = 0;
  bool echo = false, logprobs = false, include_usage = false;
};

// Tokenizes and checks the prompts (400 naming `prompt`; the context-length
// check names both counts, as OpenAI's context_length_exceeded does), seeds
// each choice's stream: choice j of prompt i draws from
// sequence_stream(base, i·n + j), base = Generator(seed).next_u64() — so a
// request with seed S decodes as `qkv generate --seed S` does.
Completion prepare_completion(const CompletionRequest& r, const tokenizers::TextCodec& codec,
                              const std::vector<int64_t>& eos_ids, int64_t vocab_size, int64_t ctx,
                              const std::string& model_id);

// The whole response once the job is done (non-streaming).
nlohmann::json completion_body(const Completion& c);
// One server-sent event's JSON for a delta.
nlohmann::json completion_chunk(const Completion& c, const Delta& d);
nlohmann::json usage_json(const Completion& c);

// JSON text that never throws on invalid UTF-8 (byte-level pieces): U+FFFD instead.
std::string dump(const nlohmann::json& j);

}  // namespace qkv::serve
