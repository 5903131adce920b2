// qkv/core/json_parse.h — JSON text parsed with its nesting bounded, for every
// JSON input qkv reads (configs, tokenizer.json, safetensors headers, JSON
// lines). Lives in core beside config_fields.h (std + nlohmann::json) so that
// tokenizers/ and io/ share it.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace qkv {

// The deepest nesting a JSON input may have. Deeper input (a few hundred KB
// of "[[[[…" reach 100,000 levels) would overflow the stack in nlohmann's
// recursive copy and dump; it is refused while parsing.
constexpr int kMaxJsonDepth = 256;

// nlohmann::json::parse(text) with the depth bounded: ValueError "<source>:
// JSON nested deeper than 256 levels"; malformed text throws nlohmann's
// parse_error as before, for the caller to word.
nlohmann::json parse_json(std::string_view text, const std::string& source);

// An nlohmann exception's message without its "[json.exception.type_error.302] "
// prefix: what qkv's errors quote after naming the file and field.
std::string strip_json_prefix(const std::string& what);

// A JSON value as an error message quotes it: its compact text, cut to at
// most `max_chars` bytes (at a UTF-8 character boundary) with "… (N bytes)"
// after, so a megabyte string or array in a hostile file does not become a
// megabyte message.
std::string json_excerpt(const nlohmann::json& value, size_t max_chars = 80);

}  // namespace qkv
