// Python's whitespace, split, rstrip and lower (qkv/metrics/text.h).
#include "qkv/metrics/text.h"

#include "qkv/tokenizers/unicode.h"
#include "qkv/tokenizers/utf8.h"

namespace qkv::metrics {

bool is_py_space(char32_t c) {
  // CPython's _PyUnicode_IsWhitespace: bidirectional class WS, B or S, or category Zs.
  if (c <= 0x20) return c == 0x20 || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F);
  switch (c) {
    case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029:
    case 0x202F: case 0x205F: case 0x3000:
      return true;
    default:
      return c >= 0x2000 && c <= 0x200A;
  }
}

std::vector<std::string> py_split(std::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  bool in_word = false;
  for (size_t i = 0; i < text.size();) {
    const tokenizers::Utf8Char c = tokenizers::next_char(text, i);
    if (is_py_space(c.cp)) {
      if (in_word) out.push_back(std::move(cur));
      cur.clear();
      in_word = false;
    } else {
      cur.append(text.substr(i, c.len));
      in_word = true;
    }
    i += c.len;
  }
  if (in_word) out.push_back(std::move(cur));
  return out;
}

std::string py_rstrip(std::string_view text) {
  size_t end = 0;  // byte just after the last non-space character
  for (size_t i = 0; i < text.size();) {
    const tokenizers::Utf8Char c = tokenizers::next_char(text, i);
    i += c.len;
    if (!is_py_space(c.cp)) end = i;
  }
  return std::string(text.substr(0, end));
}

std::u32string to_code_points(std::string_view text) {
  std::u32string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const tokenizers::Utf8Char c = tokenizers::next_char(text, i);
    out.push_back(c.cp);
    i += c.len;
  }
  return out;
}

std::string py_lower(std::string_view text) {
  const std::u32string cps = to_code_points(text);
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < cps.size(); ++i) {
    if (cps[i] == U'\u03A3') {  // Final_Sigma (Unicode 3.13, Table 3-17), approximated
      const bool after_letter = i > 0 && tokenizers::is_letter(cps[i - 1]);
      const bool before_letter = i + 1 < cps.size() && tokenizers::is_letter(cps[i + 1]);
      tokenizers::append_utf8(out, after_letter && !before_letter ? U'\u03C2' : U'\u03C3');
      continue;
    }
    tokenizers::append_lowercase(out, cps[i]);
  }
  return out;
}

}  // namespace qkv::metrics
