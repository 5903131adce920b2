// JSON config files: parse with the file name and position in errors; write
// pretty and atomically.
#include "qkv/io/json.h"

#include "qkv/core/error.h"
#include "qkv/core/json_parse.h"
#include "qkv/io/file.h"

namespace qkv::io {

nlohmann::json read_json(const std::string& path) {
  std::string text = read_file(path);
  try {
    return parse_json(text, path);
  } catch (const nlohmann::json::exception& e) {
    throw IOError(path + ": invalid JSON: " + strip_json_prefix(e.what()));
  }
}

void write_json_atomic(const std::string& path, const nlohmann::json& j) {
  std::string text;
  try {
    text = j.dump(2);
  } catch (const nlohmann::json::exception& e) {
    throw ValueError(path + ": cannot serialise JSON: " + strip_json_prefix(e.what()));
  }
  text += '\n';
  write_file_atomic(path, text);
}

}  // namespace qkv::io
