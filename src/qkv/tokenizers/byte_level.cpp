#include "qkv/tokenizers/byte_level.h"

#include "qkv/tokenizers/unicode.h"
#include "qkv/tokenizers/utf8.h"

namespace qkv::tokenizers {

const std::array<char32_t, 256>& bytes_to_unicode() {
  static const std::array<char32_t, 256> table = [] {
    std::array<char32_t, 256> t{};
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      t[b] = printable ? char32_t(b) : next++;
    }
    return t;
  }();
  return table;
}

const std::array<std::string, 256>& byte_to_utf8() {
  static const std::array<std::string, 256> table = [] {
    std::array<std::string, 256> t;
    for (int b = 0; b < 256; ++b) t[b] = to_utf8(bytes_to_unicode()[b]);
    return t;
  }();
  return table;
}

std::string bytes_to_byte_level(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  const auto& t = byte_to_utf8();
  for (unsigned char b : bytes) out += t[b];
  return out;
}

bool byte_level_to_bytes(std::string_view text, std::string& out) {
  static const std::array<int, 512> inverse = [] {
    std::array<int, 512> inv;
    inv.fill(-1);
    for (int b = 0; b < 256; ++b) inv[bytes_to_unicode()[b]] = b;
    return inv;
  }();
  for (size_t i = 0; i < text.size();) {
    Utf8Char c = next_char(text, i);
    if (!c.valid || c.cp >= 512 || inverse[c.cp] < 0) return false;
    out += char(inverse[c.cp]);
    i += c.len;
  }
  return true;
}

namespace {

enum Cls : uint8_t { kLetter, kNumber, kSpace, kOther };

struct Char {
  Cls cls;
  uint32_t len;
};

inline Char classify(std::string_view s, size_t i) {
  static const std::array<Cls, 128> ascii = [] {
    std::array<Cls, 128> t;
    for (int c = 0; c < 128; ++c)
      t[c] = is_letter(c) ? kLetter : is_number(c) ? kNumber : is_white_space(c) ? kSpace : kOther;
    return t;
  }();
  unsigned char b = s[i];
  if (b < 0x80) return {ascii[b], 1};
  Utf8Char c = next_char(s, i);
  if (!c.valid) return {kOther, 1};
  Cls k = is_letter(c.cp) ? kLetter : is_number(c.cp) ? kNumber : is_white_space(c.cp) ? kSpace : kOther;
  return {k, c.len};
}

// Length of the contraction at s[i] == '\'' ('s 't 're 've 'm 'll 'd; case-sensitive), or 0.
inline size_t contraction(std::string_view s, size_t i) {
  if (i + 1 >= s.size()) return 0;
  char a = s[i + 1];
  if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
  if (i + 2 >= s.size()) return 0;
  char b = s[i + 2];
  if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
  return 0;
}

// End of the run of characters of class k starting at i.
inline size_t run_of(std::string_view s, size_t i, Cls k) {
  while (i < s.size()) {
    Char c = classify(s, i);
    if (c.cls != k) break;
    i += c.len;
  }
  return i;
}

// End of the run of "other" characters ([^\s\p{L}\p{N}]) starting at i.
inline size_t run_of_other(std::string_view s, size_t i) { return run_of(s, i, kOther); }

}  // namespace

void gpt2_split(std::string_view s, std::vector<Span>& out) {
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    size_t end = 0;
    if (s[i] == '\'' && (end = contraction(s, i)) != 0) {
      end += i;
    } else {
      Char c = classify(s, i);
      size_t body = i;  // where the class run starts (after an optional ' ')
      Cls k = c.cls;
      if (s[i] == ' ' && i + 1 < n) {
        Char d = classify(s, i + 1);
        if (d.cls != kSpace) {
          body = i + 1;
          k = d.cls;
        }
      }
      if (k == kLetter || k == kNumber || k == kOther) {
        end = run_of(s, body, k);
      } else {
        // \s+(?!\S): the whitespace run, minus its last char if a non-space follows;
        // a single whitespace char before a non-space falls through to \s+.
        size_t j = run_of(s, i, kSpace);
        if (j == n) {
          end = j;
        } else {
          size_t last = i;  // start of the run's last char
          for (size_t p = i; p < j;) {
            last = p;
            p += classify(s, p).len;
          }
          end = last > i ? last : j;
        }
      }
    }
    out.push_back({uint32_t(i), uint32_t(end)});
    i = end;
  }
}

}  // namespace qkv::tokenizers
