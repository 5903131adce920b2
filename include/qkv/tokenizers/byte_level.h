// qkv/tokenizers/byte_level.h — GPT-2's reversible byte ↔ printable-character map
// and its pre-tokenizer split.
//
// Every byte 0..255 gets a printable code point: the bytes ! .. ~, ¡ .. ¬ and ® .. ÿ
// map to themselves, the other 68 bytes to U+0100.. in byte order (so a space is
// 'Ġ' U+0120, a newline 'Ċ' U+010A). BPE vocabularies are written in this alphabet.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace qkv::tokenizers {

// byte -> code point of its printable stand-in.
const std::array<char32_t, 256>& bytes_to_unicode();
// byte -> UTF-8 of its printable stand-in.
const std::array<std::string, 256>& byte_to_utf8();
// Maps raw bytes to the byte-level alphabet (UTF-8 out).
std::string bytes_to_byte_level(std::string_view bytes);
// Inverse: byte-level text back to raw bytes. Returns false when a character is
// not in the alphabet (out then holds the bytes decoded so far).
bool byte_level_to_bytes(std::string_view text, std::string& out);

// A piece of the input: byte range [start, end).
struct Span {
  uint32_t start;
  uint32_t end;
};

// GPT-2's split, equivalent to the regex
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// on all of Unicode (\s = White_Space). An invalid UTF-8 byte counts as a
// character of none of the classes (like U+FFFD). Appends pieces of text to out.
void gpt2_split(std::string_view text, std::vector<Span>& out);

}  // namespace qkv::tokenizers
