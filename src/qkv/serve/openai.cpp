// OpenAI-style request parsing and error bodies (see qkv/serve/openai.h).
#include "qkv/serve/openai.h"

#include <cmath>
#include <limits>
#include <set>

#include "qkv/core/error.h"
#include "qkv/core/json_parse.h"

namespace qkv::serve {

using nlohmann::json;

json ApiError::body() const {
  json e = {{"message", what()}, {"type", type}, {"param", nullptr}, {"code", nullptr}};
  if (param) e["param"] = *param;
  if (code) e["code"] = *code;
  return {{"error", e}};
}

namespace {

ApiError bad(const std::string& param, const std::string& message) {
  return ApiError(400, message, "invalid_request_error", param);
}

std::string type_name(const json& v) {
  if (v.is_number_integer()) return "an integer";
  if (v.is_number()) return "a number";
  return std::string("a") + (v.is_array() || v.is_object() ? "n " : " ") + v.type_name();
}

ApiError wrong_type(const std::string& param, const std::string& want, const json& v) {
  return bad(param, "'" + param + "' must be " + want + ", got " + type_name(v));
}

int64_t get_int(const json& body, const std::string& key, int64_t lo, int64_t hi, int64_t fallback) {
  if (!body.contains(key) || body[key].is_null()) return fallback;
  const json& v = body[key];
  if (!v.is_number_integer()) throw wrong_type(key, "an integer", v);
  const int64_t x = v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(hi) ? hi + 1 : v.get<int64_t>();
  if (x < lo || x > hi)
    throw bad(key, "'" + key + "' must be between " + std::to_string(lo) + " and " + std::to_string(hi) + ", got " +
                       json_excerpt(v));
  return x;
}

float get_float(const json& body, const std::string& key, double lo, double hi, float fallback, bool lo_open = false) {
  if (!body.contains(key) || body[key].is_null()) return fallback;
  const json& v = body[key];
  if (!v.is_number()) throw wrong_type(key, "a number", v);
  const double x = v.get<double>();
  if (!std::isfinite(x) || x < lo || x > hi || (lo_open && x == lo))
    throw bad(key, "'" + key + "' must be " + (lo_open ? "above " : "between ") + std::to_string(lo).substr(0, 3) +
                       (lo_open ? " and at most " : " and ") + std::to_string(hi).substr(0, 3) + ", got " + json_excerpt(v));
  return static_cast<float>(x);
}

bool get_bool(const json& body, const std::string& key, bool fallback) {
  if (!body.contains(key) || body[key].is_null()) return fallback;
  if (!body[key].is_boolean()) throw wrong_type(key, "a boolean", body[key]);
  return body[key].get<bool>();
}

std::optional<std::string> get_model(const json& body) {
  if (!body.contains("model") || body["model"].is_null()) return std::nullopt;
  if (!body["model"].is_string()) throw wrong_type("model", "a string", body["model"]);
  return body["model"].get<std::string>();
}

bool is_token_array(const json& v) {
  if (!v.is_array() || v.empty()) return false;
  for (const json& x : v)
    if (!x.is_number_integer()) return false;
  return true;
}

std::vector<int64_t> token_ids(const json& v, const std::string& param) {
  std::vector<int64_t> ids;
  for (const json& x : v) {
    if (x.is_number_unsigned() && x.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      throw bad(param, "'" + param + "' has a token id out of range: " + json_excerpt(x));
    ids.push_back(x.get<int64_t>());
  }
  return ids;
}

// string | [string…] | [int…] | [[int…]…], as OpenAI takes `prompt` and `input`.
std::vector<Prompt> get_prompts(const json& body, const std::string& key, size_t max_count) {
  if (!body.contains(key) || body[key].is_null()) throw bad(key, "'" + key + "' is required");
  const json& v = body[key];
  const std::string want = "a string, an array of strings, an array of token ids or an array of such arrays";
  std::vector<Prompt> out;
  if (v.is_string()) {
    out.emplace_back(v.get<std::string>());
  } else if (is_token_array(v)) {
    out.emplace_back(token_ids(v, key));
  } else if (v.is_array() && !v.empty()) {
    for (const json& x : v) {
      if (x.is_string()) out.emplace_back(x.get<std::string>());
      else if (is_token_array(x)) out.emplace_back(token_ids(x, key));
      else throw wrong_type(key, want, v);
    }
  } else {
    throw v.is_array() ? bad(key, "'" + key + "' must not be empty") : wrong_type(key, want, v);
  }
  if (out.size() > max_count)
    throw bad(key, "'" + key + "' has " + std::to_string(out.size()) + " entries; this server takes at most " +
                       std::to_string(max_count) + " per request");
  for (const Prompt& p : out)
    if (const auto* s = std::get_if<std::string>(&p); s && s->empty())
      throw bad(key, "'" + key + "' must not be an empty string");
  return out;
}

void refuse_unknown(const json& body, const std::set<std::string>& known) {
  for (const auto& [key, value] : body.items())
    if (!known.count(key)) throw bad(key, "Unrecognized request argument supplied: " + key);
}

// Fields qkv accepts but only at their neutral value (it does not implement them).
void neutral_only(const json& body, const std::string& key, const json& neutral) {
  if (body.contains(key) && !body[key].is_null() && body[key] != neutral)
    throw bad(key, "'" + key + "' is not supported by this server (only " + neutral.dump() + ")");
}

}  // namespace

json parse_body(const std::string& body) {
  try {
    json j = parse_json(body, "request body");
    if (!j.is_object()) throw ApiError(400, "The request body must be a JSON object, got " + type_name(j));
    return j;
  } catch (const nlohmann::json::parse_error& e) {
    throw ApiError(400, "We could not parse the JSON body of your request: " + strip_json_prefix(e.what()));
  } catch (const ValueError& e) {
    throw ApiError(400, "We could not parse the JSON body of your request: " + strip_json_prefix(e.what()));
  }
}

CompletionRequest parse_completion_request(const json& body, const Limits& limits) {
  refuse_unknown(body, {"model", "prompt", "max_tokens", "temperature", "top_p", "top_k", "seed", "stop", "n",
                        "echo", "logprobs", "stream", "stream_options", "presence_penalty", "frequency_penalty",
                        "logit_bias", "best_of", "suffix", "user"});
  neutral_only(body, "presence_penalty", 0);
  neutral_only(body, "frequency_penalty", 0);
  neutral_only(body, "suffix", nullptr);
  if (body.contains("logit_bias") && !body["logit_bias"].is_null() && !body["logit_bias"].empty())
    throw bad("logit_bias", "'logit_bias' is not supported by this server");
  CompletionRequest r;
  r.model = get_model(body);
  r.prompts = get_prompts(body, "prompt", static_cast<size_t>(limits.max_n));
  r.max_tokens = get_int(body, "max_tokens", 1, limits.max_tokens, 16);
  r.temperature = get_float(body, "temperature", 0.0, 2.0, 1.0f);
  r.top_p = get_float(body, "top_p", 0.0, 1.0, 1.0f, true);
  r.top_k = get_int(body, "top_k", 0, std::numeric_limits<int32_t>::max(), 0);
  if (body.contains("seed") && !body["seed"].is_null()) {
    const json& v = body["seed"];
    if (!v.is_number_integer()) throw wrong_type("seed", "an integer", v);
    r.seed = v.is_number_unsigned() ? v.get<uint64_t>() : static_cast<uint64_t>(v.get<int64_t>());
  }
  if (body.contains("stop") && !body["stop"].is_null()) {
    const json& v = body["stop"];
    if (v.is_string()) r.stop.push_back(v.get<std::string>());
    else if (v.is_array()) {
      for (const json& s : v) {
        if (!s.is_string()) throw wrong_type("stop", "a string or an array of strings", v);
        r.stop.push_back(s.get<std::string>());
      }
    } else {
      throw wrong_type("stop", "a string or an array of strings", v);
    }
    if (r.stop.size() > limits.max_stop)
      throw bad("stop", "'stop' takes at most " + std::to_string(limits.max_stop) + " sequences");
    for (const std::string& s : r.stop)
      if (s.empty()) throw bad("stop", "'stop' sequences must not be empty");
  }
  r.n = get_int(body, "n", 1, limits.max_n, 1);
  if (static_cast<int64_t>(r.prompts.size()) * r.n > limits.max_n)
    throw bad("n", std::to_string(r.prompts.size()) + " prompts × n " + std::to_string(r.n) +
                       " choices exceed this server's limit of " + std::to_string(limits.max_n) + " per request");
  const int64_t best_of = get_int(body, "best_of", 1, limits.max_n, r.n);
  if (best_of != r.n) throw bad("best_of", "'best_of' other than n is not supported by this server");
  r.echo = get_bool(body, "echo", false);
  if (body.contains("logprobs") && !body["logprobs"].is_null())
    r.logprobs = get_int(body, "logprobs", 0, limits.max_logprobs, 0);
  if (r.echo && r.logprobs)
    throw bad("logprobs", "'logprobs' with 'echo' (log-probabilities of the prompt) is not supported by this server");
  r.stream = get_bool(body, "stream", false);
  if (body.contains("stream_options") && !body["stream_options"].is_null()) {
    const json& o = body["stream_options"];
    if (!o.is_object()) throw wrong_type("stream_options", "an object", o);
    if (!r.stream) throw bad("stream_options", "'stream_options' is only allowed when 'stream' is true");
    r.include_usage = get_bool(o, "include_usage", false);
  }
  if (body.contains("user") && !body["user"].is_null() && !body["user"].is_string())
    throw wrong_type("user", "a string", body["user"]);
  return r;
}

EmbeddingRequest parse_embedding_request(const json& body, const Limits& limits) {
  refuse_unknown(body, {"model", "input", "encoding_format", "user", "dimensions"});
  EmbeddingRequest r;
  r.model = get_model(body);
  r.inputs = get_prompts(body, "input", 2048);
  if (body.contains("encoding_format") && !body["encoding_format"].is_null()) {
    const json& v = body["encoding_format"];
    if (!v.is_string()) throw wrong_type("encoding_format", "a string", v);
    r.encoding_format = v.get<std::string>();
    if (r.encoding_format != "float")
      throw bad("encoding_format", "'encoding_format' must be \"float\" (this server does not write base64)");
  }
  neutral_only(body, "dimensions", nullptr);
  if (body.contains("user") && !body["user"].is_null() && !body["user"].is_string())
    throw wrong_type("user", "a string", body["user"]);
  return r;
}

TranslationRequest parse_translation_request(const json& body, const Limits& limits) {
  refuse_unknown(body, {"model", "input", "beam_size", "n_best", "length_penalty", "user"});
  TranslationRequest r;
  r.model = get_model(body);
  for (const Prompt& p : get_prompts(body, "input", static_cast<size_t>(limits.max_translations))) {
    if (!std::holds_alternative<std::string>(p))
      throw bad("input", "'input' must be text (a string or an array of strings), not token ids");
    r.inputs.push_back(std::get<std::string>(p));
  }
  r.beam_size = get_int(body, "beam_size", 1, 16, 4);
  r.n_best = get_int(body, "n_best", 1, r.beam_size, 1);
  r.length_penalty = get_float(body, "length_penalty", 0.0, 10.0, 0.6f);
  return r;
}

json ChoiceLogprobs::to_json() const {
  json top = json::array();
  for (const auto& alternatives : top_logprobs) {
    json o = json::object();
    for (const auto& [tok, lp] : alternatives) o[tok] = lp;
    top.push_back(o);
  }
  return {{"tokens", tokens}, {"token_logprobs", token_logprobs}, {"top_logprobs", top}, {"text_offset", text_offset}};
}

}  // namespace qkv::serve
