#include "qkv/tokenizers/unicode.h"

#include <utf8proc.h>

#include <cstdlib>

#include "qkv/tokenizers/utf8.h"

namespace qkv::tokenizers {

namespace {
utf8proc_category_t cat(char32_t c) { return utf8proc_category(utf8proc_int32_t(c)); }
}  // namespace

bool is_letter(char32_t c) {
  if (c < 0x80) return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
  auto k = cat(c);
  return k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_LO;
}

bool is_number(char32_t c) {
  if (c < 0x80) return c >= '0' && c <= '9';
  auto k = cat(c);
  return k >= UTF8PROC_CATEGORY_ND && k <= UTF8PROC_CATEGORY_NO;
}

bool is_white_space(char32_t c) {
  if (c < 0x80) return c == ' ' || (c >= 0x09 && c <= 0x0D);
  if (c == 0x85) return true;
  auto k = cat(c);  // White_Space = Zs ∪ Zl ∪ Zp ∪ {U+0009..U+000D, U+0085}
  return k == UTF8PROC_CATEGORY_ZS || k == UTF8PROC_CATEGORY_ZL || k == UTF8PROC_CATEGORY_ZP;
}

bool is_punctuation(char32_t c) {
  auto k = cat(c);
  return k >= UTF8PROC_CATEGORY_PC && k <= UTF8PROC_CATEGORY_PO;
}

bool is_bert_punctuation(char32_t c) {
  if (c < 0x80)
    return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126);
  return is_punctuation(c);
}

bool is_other(char32_t c) {
  auto k = cat(c);
  return k == UTF8PROC_CATEGORY_CC || k == UTF8PROC_CATEGORY_CF || k == UTF8PROC_CATEGORY_CO ||
         k == UTF8PROC_CATEGORY_CS;
}

bool is_mark_nonspacing(char32_t c) { return c >= 0x300 && cat(c) == UTF8PROC_CATEGORY_MN; }

bool is_bert_chinese(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
         (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

bool is_alnum_or_underscore(char32_t c) {
  if (c == '_') return true;
  if (is_letter(c) || is_number(c)) return true;
  auto k = cat(c);  // \w also covers marks and connector punctuation
  return k == UTF8PROC_CATEGORY_MN || k == UTF8PROC_CATEGORY_MC || k == UTF8PROC_CATEGORY_ME ||
         k == UTF8PROC_CATEGORY_PC;
}

void append_lowercase(std::string& out, char32_t c) {
  if (c < 0x80) {
    out += char(c >= 'A' && c <= 'Z' ? c + 32 : c);
    return;
  }
  if (c == 0x130) {  // SpecialCasing.txt: İ → i + COMBINING DOT ABOVE (the only unconditional 1→2)
    out += 'i';
    append_utf8(out, 0x307);
    return;
  }
  append_utf8(out, char32_t(utf8proc_tolower(utf8proc_int32_t(c))));
}

std::string decompose(char32_t c, bool compat) {
  utf8proc_int32_t buf[32];
  int options = UTF8PROC_DECOMPOSE | (compat ? UTF8PROC_COMPAT : 0);
  utf8proc_ssize_t n = utf8proc_decompose_char(utf8proc_int32_t(c), buf, 32, utf8proc_option_t(options), nullptr);
  std::string out;
  if (n < 0 || n > 32) {
    append_utf8(out, c);
    return out;
  }
  for (utf8proc_ssize_t i = 0; i < n; ++i) append_utf8(out, char32_t(buf[i]));
  return out;
}

std::string normalize(std::string_view text, NormalForm form) {
  std::string clean;  // utf8proc rejects invalid UTF-8: replace bad bytes by U+FFFD first
  const std::string* src = nullptr;
  std::string owned(text);
  if (!is_valid_utf8(text)) {
    for (size_t i = 0; i < text.size();) {
      Utf8Char c = next_char(text, i);
      append_utf8(clean, c.cp);
      i += c.len;
    }
    src = &clean;
  } else {
    src = &owned;
  }
  int options = UTF8PROC_STABLE;
  switch (form) {
    case NormalForm::NFC: options |= UTF8PROC_COMPOSE; break;
    case NormalForm::NFD: options |= UTF8PROC_DECOMPOSE; break;
    case NormalForm::NFKC: options |= UTF8PROC_COMPOSE | UTF8PROC_COMPAT; break;
    case NormalForm::NFKD: options |= UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT; break;
  }
  utf8proc_uint8_t* out = nullptr;
  utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(src->data()),
                                    utf8proc_ssize_t(src->size()), &out, utf8proc_option_t(options));
  if (n < 0) return *src;
  std::string result(reinterpret_cast<char*>(out), size_t(n));
  std::free(out);
  return result;
}

}  // namespace qkv::tokenizers
