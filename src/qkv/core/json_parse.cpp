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
  return nlohmann::json::parse(text, depth_guard);
}

std::string strip_json_prefix(const std::string& what) {
  if (!what.empty() && what[0] == '[') {
    const size_t close = what.find("] ");
    if (close != std::string::npos) return what.substr(close + 2);
  }
  return what;
}

}  // namespace qkv
