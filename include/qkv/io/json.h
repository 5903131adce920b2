// qkv/io/json.h — JSON files for configs and trainer state (nlohmann::json).
//
// read_json reports the file and the parse position on malformed input;
// write_json_atomic writes pretty JSON (2-space indent, trailing newline)
// through write_file_atomic.
//
//   nlohmann::json cfg = qkv::io::read_json(dir + "/config.json");
//   qkv::io::write_json_atomic(dir + "/config.json", cfg);
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace qkv::io {


// Parses `path` (nesting bounded: qkv/core/json_parse.h). IOError "cannot open …" or "<path>: invalid JSON: parse error
// at line L, column C: …".
nlohmann::json read_json(const std::string& path);

// Pretty-prints `j` (2-space indent, trailing newline) and writes it atomically.
// Strings that are not valid UTF-8 raise ValueError naming the path.
void write_json_atomic(const std::string& path, const nlohmann::json& j);

}  // namespace qkv::io
