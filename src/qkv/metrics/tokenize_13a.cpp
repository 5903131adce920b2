// mteval-v13a tokenization as sacreBLEU 2.x's Tokenizer13a + TokenizerRegexp
// (sacrebleu/tokenizers/tokenizer_13a.py, tokenizer_re.py).
//
// The four regular expressions only ever look at ASCII characters and insert
// spaces, so they run on bytes: a non-ASCII byte is "not a digit" exactly as
// the code point it belongs to is, and spaces land between whole characters.
// Each pass is Python's re.sub: leftmost matches, non-overlapping, scanning on
// after the end of each match.
#include <string>

#include "qkv/metrics/bleu.h"
#include "qkv/metrics/text.h"

namespace qkv::metrics {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Python's str.replace(from, to) (all non-overlapping occurrences, left to right).
void replace_all(std::string& s, std::string_view from, std::string_view to) {
  std::string out;
  size_t pos = 0;
  for (size_t hit; (hit = s.find(from, pos)) != std::string::npos; pos = hit + from.size()) {
    out.append(s, pos, hit - pos);
    out.append(to);
  }
  out.append(s, pos, std::string::npos);
  s = std::move(out);
}

// [\{-\~\[-\` -\&\(-\+\:-\@\/]: ASCII symbols and space, but not ' , - . and the digits/letters.
bool is_13a_symbol(char c) {
  const unsigned char u = static_cast<unsigned char>(c);
  return (u >= 0x7B && u <= 0x7E) || (u >= 0x5B && u <= 0x60) || (u >= 0x20 && u <= 0x26) ||
         (u >= 0x28 && u <= 0x2B) || (u >= 0x3A && u <= 0x40) || u == 0x2F;
}

// re.sub over two-character matches a·b where first(a) and second(b) hold;
// `emit` writes the replacement of one match.
template <class First, class Second, class Emit>
std::string sub_pairs(const std::string& s, First first, Second second, Emit emit) {
  std::string out;
  out.reserve(s.size() + s.size() / 4);
  size_t i = 0;
  while (i < s.size()) {
    if (i + 1 < s.size() && first(s[i]) && second(s[i + 1])) {
      emit(out, s[i], s[i + 1]);
      i += 2;
    } else {
      out += s[i++];
    }
  }
  return out;
}

bool is_period_or_comma(char c) { return c == '.' || c == ','; }
bool not_digit(char c) { return !is_digit(c); }

}  // namespace

std::string tokenize_13a(std::string_view text) {
  std::string line(text);
  replace_all(line, "<skipped>", "");
  replace_all(line, "-\n", "");
  replace_all(line, "\n", " ");
  if (line.find('&') != std::string::npos) {  // in this order, as sacreBLEU: "&amp;lt;" ends as "<"
    replace_all(line, "&quot;", "\"");
    replace_all(line, "&amp;", "&");
    replace_all(line, "&lt;", "<");
    replace_all(line, "&gt;", ">");
  }
  line = " " + line + " ";
  std::string spaced;  // ([symbols]) → " \1 "
  spaced.reserve(line.size() * 2);
  for (char c : line) {
    if (is_13a_symbol(c)) {
      spaced += ' ';
      spaced += c;
      spaced += ' ';
    } else {
      spaced += c;
    }
  }
  // ([^0-9])([\.,]) → "\1 \2 ": period and comma unless preceded by a digit.
  spaced = sub_pairs(spaced, not_digit, is_period_or_comma, [](std::string& o, char a, char b) {
    o += a, o += ' ', o += b, o += ' ';
  });
  // ([\.,])([^0-9]) → " \1 \2": period and comma unless followed by a digit.
  spaced = sub_pairs(spaced, is_period_or_comma, not_digit, [](std::string& o, char a, char b) {
    o += ' ', o += a, o += ' ', o += b;
  });
  // ([0-9])(-) → "\1 \2 ": a dash after a digit.
  spaced = sub_pairs(spaced, is_digit, [](char c) { return c == '-'; }, [](std::string& o, char a, char b) {
    o += a, o += ' ', o += b, o += ' ';
  });
  std::string out;  // ' '.join(line.split())
  for (const std::string& w : py_split(spaced)) {
    if (!out.empty()) out += ' ';
    out += w;
  }
  return out;
}

}  // namespace qkv::metrics
