// POST /v1/translations for encoder–decoder models (qkv train translate's):
// beam search over the request's sentences, as `qkv translate` does.
// Private to serve/.
//
//   {"input": "ein Hund" | ["…", …], "beam_size": 4, "n_best": 1, "length_penalty": 0.6}
//   → {"object": "list", "model": ID, "data": [{"index": 0, "translations": [{"text", "score"}, …]}, …],
//      "usage": {"prompt_tokens", "completion_tokens", "total_tokens"}}
#pragma once
#include <nlohmann/json.hpp>

#include "qkv/models/transformer.h"
#include "qkv/serve/openai.h"
#include "qkv/tokenizers/tokenizer.h"

namespace qkv::serve {

// Translates a checked request (a source longer than the model reads is a
// 400 naming it); returns the response body.
nlohmann::json translate(const TranslationRequest& request, const models::Transformer& model,
                         const tokenizers::Tokenizer& tokenizer, const std::string& model_id);

}  // namespace qkv::serve
