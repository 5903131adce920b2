#include "qkv/tokenizers/pre_tokenizers.h"

#include "qkv/tokenizers/unicode.h"
#include "qkv/tokenizers/utf8.h"

namespace qkv::tokenizers {

bool PreTokenizer::is_byte_level() const {
  if (kind == Kind::ByteLevel) return true;
  for (const PreTokenizer& c : children)
    if (c.is_byte_level()) return true;
  return false;
}

namespace {

// Splits [a, b) of text into pieces by a per-character class function.
// cls(cp) returns: 0 = remove (separator), 1 = isolated, or >= 2 = a run class
// (consecutive characters of the same run class stay together).
template <class Cls>
void split_by_class(std::string_view text, Span in, std::vector<Span>& out, Cls&& cls) {
  uint32_t run_start = in.start;
  int run_cls = -1;
  auto flush = [&](uint32_t at) {
    if (run_cls >= 2 && at > run_start) out.push_back({run_start, at});
    run_cls = -1;
  };
  for (uint32_t i = in.start; i < in.end;) {
    Utf8Char c = next_char(text, i);
    int k = cls(c.cp);
    if (k != run_cls || k < 2) flush(i);
    if (k == 1) {
      out.push_back({i, i + c.len});
    } else if (k >= 2 && run_cls < 0) {
      run_cls = k;
      run_start = i;
    }
    i += c.len;
  }
  flush(in.end);
}

void apply(const PreTokenizer& p, std::string_view text, const std::vector<Span>& in, std::vector<Span>& out) {
  using K = PreTokenizer::Kind;
  for (Span w : in) {
    switch (p.kind) {
      case K::ByteLevel:
        if (p.use_regex) {
          std::vector<Span> pieces;
          gpt2_split(text.substr(w.start, w.end - w.start), pieces);
          for (Span s : pieces) out.push_back({w.start + s.start, w.start + s.end});
        } else {
          out.push_back(w);
        }
        break;
      case K::Bert:
        split_by_class(text, w, out, [](char32_t c) { return is_white_space(c) ? 0 : is_bert_punctuation(c) ? 1 : 2; });
        break;
      case K::Whitespace:  // \w+|[^\w\s]+
        split_by_class(text, w, out, [](char32_t c) {
          return is_white_space(c) ? 0 : is_alnum_or_underscore(c) ? 2 : 3;
        });
        break;
      case K::WhitespaceSplit:
        split_by_class(text, w, out, [](char32_t c) { return is_white_space(c) ? 0 : 2; });
        break;
      case K::Digits:
        split_by_class(text, w, out, [&](char32_t c) {
          bool d = is_number(c);
          return d ? (p.individual_digits ? 1 : 2) : 3;
        });
        break;
      case K::Punctuation:
        split_by_class(text, w, out, [](char32_t c) { return is_bert_punctuation(c) ? 1 : 2; });
        break;
      case K::Metaspace: {  // a word starts at each replacement (merged with what follows)
        if (!p.split || p.replacement.empty()) {
          out.push_back(w);
          break;
        }
        uint32_t from = w.start;
        for (size_t at = text.find(p.replacement, w.start + 1); at != std::string_view::npos && at < w.end;
             at = text.find(p.replacement, at + 1)) {
          out.push_back({from, uint32_t(at)});
          from = uint32_t(at);
        }
        out.push_back({from, w.end});
        break;
      }
      case K::Sequence:
        break;  // handled by the caller
    }
  }
}

void run(const PreTokenizer& p, std::string_view text, std::vector<Span>& words) {
  if (p.kind == PreTokenizer::Kind::Sequence) {
    for (const PreTokenizer& c : p.children) run(c, text, words);
    return;
  }
  std::vector<Span> out;
  apply(p, text, words, out);
  words = std::move(out);
}

// The text edits of a pre-tokenizer: ByteLevel's add_prefix_space, Metaspace's
// spaces → replacement and its prefix. Added characters take the span of the
// character they replace, or an empty span at the first one.
void edit_text(const PreTokenizer& p, NormalizedString& s) {
  auto prepend = [&](const std::string& what) {
    const uint32_t a = s.start[0];
    s.text.insert(0, what);
    s.start.insert(s.start.begin(), what.size(), a);
    s.end.insert(s.end.begin(), what.size(), a);
  };
  if (p.kind == PreTokenizer::Kind::ByteLevel && p.add_prefix_space && !s.text.empty() && s.text[0] != ' ')
    prepend(" ");
  if (p.kind == PreTokenizer::Kind::Metaspace && !s.text.empty()) {
    NormalizedString r;
    for (size_t i = 0; i < s.text.size(); ++i) {
      const bool space = s.text[i] == ' ';
      const std::string_view piece = space ? std::string_view(p.replacement) : std::string_view(&s.text[i], 1);
      r.text += piece;
      r.start.insert(r.start.end(), piece.size(), s.start[i]);
      r.end.insert(r.end.end(), piece.size(), s.end[i]);
    }
    s = std::move(r);
    const bool at_start = p.prepend_scheme == "always" || (p.prepend_scheme == "first" && s.start[0] == 0);
    if (at_start && !s.text.starts_with(p.replacement)) prepend(p.replacement);
  }
  for (const PreTokenizer& c : p.children) edit_text(c, s);
}

}  // namespace

void pre_tokenize(const PreTokenizer& p, NormalizedString& s, std::vector<Span>& words) {
  edit_text(p, s);
  words.clear();
  if (!s.text.empty()) words.push_back({0, uint32_t(s.text.size())});
  run(p, s.text, words);
}

}  // namespace qkv::tokenizers
