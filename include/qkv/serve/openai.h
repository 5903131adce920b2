// qkv/serve/openai.h — the request and response bodies of OpenAI's
// completions and embeddings API, as llama.cpp's server speaks them: parsed
// and checked here, with no HTTP in sight (qkv/serve/server.h does that).
//
// Every check failure is an ApiError: the HTTP status and OpenAI's error
// object ({"error": {"message", "type", "param", "code"}}) naming the field.
#pragma once
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

namespace qkv::serve {

class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string message, std::string type = "invalid_request_error",
           std::optional<std::string> param = std::nullopt, std::optional<std::string> code = std::nullopt)
      : std::runtime_error(message), status(status), type(std::move(type)), param(std::move(param)),
        code(std::move(code)) {}
  int status;
  std::string type;
  std::optional<std::string> param, code;
  nlohmann::json body() const;  // {"error": {...}}
};

// A prompt is text or token ids (the API takes both).
using Prompt = std::variant<std::string, std::vector<int64_t>>;

// The limits a server enforces on every request (qkv serve's flags).
struct Limits {
  int64_t max_tokens = 4096;       // the largest max_tokens accepted
  int64_t max_prompt_tokens = 0;   // 0 = the model's context length
  int64_t max_n = 16;              // choices per prompt × prompts
  int64_t max_logprobs = 20;
  size_t max_stop = 4;             // stop sequences (OpenAI's limit)
  int64_t max_translations = 64;   // sentences per /v1/translations request
};

struct CompletionRequest {
  std::optional<std::string> model;
  std::vector<Prompt> prompts;     // one or more (a batch of prompts)
  int64_t max_tokens = 16;         // OpenAI's default
  float temperature = 1.0f;
  float top_p = 1.0f;
  int64_t top_k = 0;               // llama.cpp's extension; 0 = off
  std::optional<uint64_t> seed;
  std::vector<std::string> stop;
  int64_t n = 1;
  bool echo = false;
  std::optional<int64_t> logprobs;  // null = none
  bool stream = false;
  bool include_usage = false;       // stream_options.include_usage
};

// Checks types and ranges of every field (400 naming it); unknown fields
// are refused as OpenAI does ("Unrecognized request argument supplied").
CompletionRequest parse_completion_request(const nlohmann::json& body, const Limits& limits);

struct EmbeddingRequest {
  std::optional<std::string> model;
  std::vector<Prompt> inputs;
  std::string encoding_format = "float";  // only "float"
};
EmbeddingRequest parse_embedding_request(const nlohmann::json& body, const Limits& limits);

// POST /v1/translations (encoder–decoder models): qkv's own shape, in the
// style of the others (OpenAI has no text translation endpoint).
struct TranslationRequest {
  std::optional<std::string> model;
  std::vector<std::string> inputs;
  int64_t beam_size = 4;         // 1 … 16
  int64_t n_best = 1;            // 1 … beam_size
  float length_penalty = 0.6f;   // α of Wu et al.'s lp(n), 0 … 10
};
TranslationRequest parse_translation_request(const nlohmann::json& body, const Limits& limits);

// Parses an HTTP body as JSON: 400 "We could not parse the JSON body of your
// request" (OpenAI's words) with the parser's position, never the body itself;
// nesting deeper than kMaxJsonDepth is refused (core/json_parse.h).
nlohmann::json parse_body(const std::string& body);

// The legacy completions `logprobs` object of one choice.
struct ChoiceLogprobs {
  std::vector<std::string> tokens;
  std::vector<float> token_logprobs;
  std::vector<std::vector<std::pair<std::string, float>>> top_logprobs;
  std::vector<int64_t> text_offset;
  nlohmann::json to_json() const;
};

}  // namespace qkv::serve
