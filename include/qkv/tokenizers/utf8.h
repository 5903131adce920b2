// qkv/tokenizers/utf8.h — UTF-8 decoding/encoding that never reads out of bounds.
//
// Invalid input is not an error here: `next_char` reports a malformed sequence
// as one byte with `valid == false` and code point U+FFFD, so every caller
// decides what to do (byte-level BPE keeps the raw byte, WordPiece replaces it).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace qkv::tokenizers {

struct Utf8Char {
  char32_t cp;  // the code point, or U+FFFD for an invalid byte
  uint32_t len;  // bytes consumed (1..4); 1 for an invalid byte
  bool valid;
};

// Decodes the character starting at s[i] (i < s.size()). Rejects overlong
// forms, surrogates and code points above U+10FFFF (each a 1-byte invalid char).
Utf8Char next_char(std::string_view s, size_t i);

// Appends the UTF-8 encoding of cp (cp <= U+10FFFF, not a surrogate).
void append_utf8(std::string& out, char32_t cp);
std::string to_utf8(char32_t cp);

// True when s is well-formed UTF-8.
bool is_valid_utf8(std::string_view s);

// Byte offset -> character offset for every byte boundary of s (size s.size()+1);
// an invalid byte counts as one character (as U+FFFD would).
std::vector<size_t> byte_to_char_offsets(std::string_view s);

}  // namespace qkv::tokenizers
