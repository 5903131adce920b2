// UTF-8 per RFC 3629 (Table 3-7 of the Unicode standard: well-formed byte sequences).
#include "qkv/tokenizers/utf8.h"

namespace qkv::tokenizers {

Utf8Char next_char(std::string_view s, size_t i) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  const unsigned char b0 = p[i];
  if (b0 < 0x80) return {b0, 1, true};
  const Utf8Char bad{0xFFFD, 1, false};
  auto cont = [&](size_t k) { return i + k < n && (p[i + k] & 0xC0) == 0x80; };
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    if (!cont(1)) return bad;
    return {char32_t((b0 & 0x1F) << 6 | (p[i + 1] & 0x3F)), 2, true};
  }
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    if (!cont(1) || !cont(2)) return bad;
    char32_t cp = (b0 & 0x0F) << 12 | (p[i + 1] & 0x3F) << 6 | (p[i + 2] & 0x3F);
    if (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF)) return bad;
    return {cp, 3, true};
  }
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return bad;
    char32_t cp = (b0 & 0x07) << 18 | (p[i + 1] & 0x3F) << 12 | (p[i + 2] & 0x3F) << 6 | (p[i + 3] & 0x3F);
    if (cp < 0x10000 || cp > 0x10FFFF) return bad;
    return {cp, 4, true};
  }
  return bad;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xC0 | (cp >> 6));
    out += char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += char(0xE0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  } else {
    out += char(0xF0 | (cp >> 18));
    out += char(0x80 | ((cp >> 12) & 0x3F));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  }
}

std::string to_utf8(char32_t cp) {
  std::string s;
  append_utf8(s, cp);
  return s;
}

bool is_valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    Utf8Char c = next_char(s, i);
    if (!c.valid) return false;
    i += c.len;
  }
  return true;
}

std::vector<size_t> byte_to_char_offsets(std::string_view s) {
  std::vector<size_t> map(s.size() + 1, 0);
  size_t chars = 0;
  for (size_t i = 0; i < s.size();) {
    Utf8Char c = next_char(s, i);
    for (uint32_t k = 0; k < c.len; ++k) map[i + k] = chars;
    i += c.len;
    ++chars;
  }
  map[s.size()] = chars;
  return map;
}

}  // namespace qkv::tokenizers
