// Depth-bounded JSON parsing (see qkv/core/json_parse.h).
#include "qkv/core/json_parse.h"

#include "qkv/core/error.h"

namespace qkv {

nlohmann::json parse_json(std::string_view text, const std::string& source) {
  // nlohmann's parser is iterative; the callback sees each value's depth
  // before anything recursive (copy, dump, the error text) touches it.
  auto depth_guard = [&](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
    if (depth > kMaxJsonDepth)
      throw ValueError(source + ": JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
    return true;
  };
  try {
    return nlohmann::json::parse(text, depth_guard);
  } catch (const nlohmann::json::out_of_range& e) {
    // A number too large for a double ("1e999"): nlohmann reports it as
    // out_of_range, not parse_error, which callers word; say it here.
    throw ValueError(source + ": invalid JSON: " + strip_json_prefix(e.what()));
  }
}

namespace {

// `text` cut to `max_chars` bytes at a UTF-8 character boundary, "… (N bytes)" after.
std::string cut_quoted(std::string text, size_t max_chars) {
  if (text.size() <= max_chars) return text;
  const size_t total = text.size();
  size_t cut = max_chars;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // not inside a character
  text.resize(cut);
  return text + "… (" + std::to_string(total) + " bytes)";
}

}  // namespace

std::string strip_json_prefix(const std::string& what) {
  std::string_view text = what;
  if (!text.empty() && text[0] == '[') {
    const size_t close = text.find("] ");
    if (close != std::string::npos) text.remove_prefix(close + 2);
  }
  return cut_quoted(std::string(text), 200);  // a parse error quotes the token it read: maybe megabytes
}

std::string json_excerpt(const nlohmann::json& value, size_t max_chars) {
  return cut_quoted(value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), max_chars);
}

}  // namespace qkv
