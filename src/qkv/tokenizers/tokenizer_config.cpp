// tokenizer_config.json (see qkv/tokenizers/tokenizer_config.h).
#include "qkv/tokenizers/tokenizer_config.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "file_util.h"
#include "qkv/core/error.h"
#include "qkv/core/json_parse.h"

namespace qkv::tokenizers {

namespace {

[[noreturn]] void bad(const std::string& source, const std::string& field, const std::string& what,
                      const nlohmann::json& v) {
  throw ValueError(source + ": field '" + field + "' must be " + what + ", got " + json_excerpt(v));
}

std::optional<bool> boolean(const nlohmann::json& j, const std::string& source, const char* field) {
  if (!j.contains(field) || j[field].is_null()) return std::nullopt;
  if (!j[field].is_boolean()) bad(source, field, "true or false", j[field]);
  return j[field].get<bool>();
}

// A special token: "<s>", or {"content": "<s>", …} (transformers' AddedToken form).
std::optional<std::string> token(const nlohmann::json& j, const std::string& source, const char* field) {
  if (!j.contains(field) || j[field].is_null()) return std::nullopt;
  const nlohmann::json& v = j[field];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string()) return v["content"].get<std::string>();
  bad(source, field, "a token (a string or an object with a \"content\" string)", v);
}

}  // namespace

std::optional<TokenizerConfig> read_tokenizer_config(const std::string& dir) {
  const std::string path = (std::filesystem::path(dir) / "tokenizer_config.json").string();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return std::nullopt;
  TokenizerConfig c;
  c.source = path;
  c.text = detail::read_file(path);
  nlohmann::json j;
  try {
    j = parse_json(c.text, path);
  } catch (const nlohmann::json::parse_error& e) {
    throw ValueError(path + ": not valid JSON (" + strip_json_prefix(e.what()) + ")");
  }
  if (!j.is_object()) throw ValueError(path + ": expected a JSON object, got " + json_excerpt(j));
  c.add_bos_token = boolean(j, path, "add_bos_token");
  c.add_eos_token = boolean(j, path, "add_eos_token");
  c.bos_token = token(j, path, "bos_token");
  c.eos_token = token(j, path, "eos_token");
  c.unk_token = token(j, path, "unk_token");
  c.pad_token = token(j, path, "pad_token");
  if (j.contains("tokenizer_class") && !j["tokenizer_class"].is_null()) {
    if (!j["tokenizer_class"].is_string()) bad(path, "tokenizer_class", "a string", j["tokenizer_class"]);
    c.tokenizer_class = j["tokenizer_class"].get<std::string>();
  }
  if (j.contains("model_max_length") && !j["model_max_length"].is_null()) {
    const nlohmann::json& m = j["model_max_length"];
    if (!m.is_number() || m.get<double>() < 1) bad(path, "model_max_length", "a positive number", m);
    if (m.is_number_integer() && m.get<double>() < 1e15) c.model_max_length = m.get<int64_t>();  // else "no limit"
  }
  return c;
}

}  // namespace qkv::tokenizers
