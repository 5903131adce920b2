#include "qkv/tokenizers/normalizers.h"

#include "qkv/tokenizers/unicode.h"
#include "qkv/tokenizers/utf8.h"

namespace qkv::tokenizers {

NormalizedString NormalizedString::identity(std::string_view original, uint32_t base) {
  NormalizedString s;
  s.text.assign(original);
  s.start.resize(original.size());
  s.end.resize(original.size());
  for (uint32_t i = 0; i < original.size(); ++i) {
    s.start[i] = base + i;
    s.end[i] = base + i + 1;
  }
  return s;
}

namespace {

// Rewrites s character by character: fn(cp, out) appends the replacement
// (UTF-8) of one character; every output byte inherits the character's span.
template <class Fn>
void map_chars(NormalizedString& s, Fn&& fn) {
  NormalizedString r;
  r.text.reserve(s.text.size());
  r.start.reserve(s.text.size());
  r.end.reserve(s.text.size());
  std::string piece;
  for (size_t i = 0; i < s.text.size();) {
    Utf8Char c = next_char(s.text, i);
    piece.clear();
    fn(c.cp, piece);
    uint32_t a = s.start[i], b = s.end[i + c.len - 1];
    r.text += piece;
    r.start.insert(r.start.end(), piece.size(), a);
    r.end.insert(r.end.end(), piece.size(), b);
    i += c.len;
  }
  s = std::move(r);
}

// NFC/NFKC compose across characters: normalize each run of a starter and its
// following combining marks as a unit; the outputs share the run's span.
void compose_runs(NormalizedString& s, NormalForm form) {
  NormalizedString r;
  size_t i = 0;
  const size_t n = s.text.size();
  while (i < n) {
    size_t j = i + next_char(s.text, i).len;
    while (j < n) {
      Utf8Char c = next_char(s.text, j);
      if (!is_mark_nonspacing(c.cp) && !(c.cp >= 0x300 && c.cp < 0x370) && !(c.cp >= 0x1161 && c.cp <= 0x11FF))
        break;
      j += c.len;
    }
    std::string out = normalize(std::string_view(s.text).substr(i, j - i), form);
    r.text += out;
    r.start.insert(r.start.end(), out.size(), s.start[i]);
    r.end.insert(r.end.end(), out.size(), s.end[j - 1]);
    i = j;
  }
  s = std::move(r);
}

void bert_normalize(const Normalizer& n, NormalizedString& s) {
  if (n.clean_text) {
    map_chars(s, [](char32_t c, std::string& out) {
      // Hugging Face filters first (controls incl. U+0085 NEL are deleted), then maps spaces
      if (c == '\t' || c == '\n' || c == '\r') {
        out += ' ';
        return;
      }
      if (c == 0 || c == 0xFFFD || is_other(c)) return;
      if (is_white_space(c)) {
        out += ' ';
        return;
      }
      append_utf8(out, c);
    });
  }
  if (n.handle_chinese_chars) {
    map_chars(s, [](char32_t c, std::string& out) {
      if (is_bert_chinese(c)) {
        out += ' ';
        append_utf8(out, c);
        out += ' ';
      } else {
        append_utf8(out, c);
      }
    });
  }
  if (n.strip_accents.value_or(n.lowercase)) {
    map_chars(s, [](char32_t c, std::string& out) {
      std::string d = decompose(c, false);
      for (size_t i = 0; i < d.size();) {
        Utf8Char k = next_char(d, i);
        if (!is_mark_nonspacing(k.cp)) append_utf8(out, k.cp);
        i += k.len;
      }
    });
  }
  if (n.lowercase) map_chars(s, [](char32_t c, std::string& out) { append_lowercase(out, c); });
}

}  // namespace

void normalize(const Normalizer& n, NormalizedString& s) {
  using K = Normalizer::Kind;
  switch (n.kind) {
    case K::Bert:
      bert_normalize(n, s);
      break;
    case K::NFD:
    case K::NFKD: {
      bool compat = n.kind == K::NFKD;
      map_chars(s, [compat](char32_t c, std::string& out) { out += decompose(c, compat); });
      // canonical ordering of marks across characters is rare; utf8proc's full pass
      // would lose alignments, so only reorder when it changes something
      std::string full = tokenizers::normalize(s.text, compat ? NormalForm::NFKD : NormalForm::NFD);
      if (full.size() == s.text.size()) s.text = full;
      break;
    }
    case K::NFC:
      compose_runs(s, NormalForm::NFC);
      break;
    case K::NFKC:
      compose_runs(s, NormalForm::NFKC);
      break;
    case K::Lowercase:
      map_chars(s, [](char32_t c, std::string& out) { append_lowercase(out, c); });
      break;
    case K::StripAccents:
      map_chars(s, [](char32_t c, std::string& out) {
        if (!is_mark_nonspacing(c)) append_utf8(out, c);
      });
      break;
    case K::Strip: {
      size_t a = 0, b = s.text.size();
      auto ws = [&](size_t i) { return is_white_space(next_char(s.text, i).cp); };
      if (n.left)
        while (a < b && ws(a)) a += next_char(s.text, a).len;
      if (n.right)
        while (b > a) {
          size_t p = b - 1;
          while (p > a && (static_cast<unsigned char>(s.text[p]) & 0xC0) == 0x80) --p;
          if (!ws(p)) break;
          b = p;
        }
      s.text = s.text.substr(a, b - a);
      s.start = std::vector<uint32_t>(s.start.begin() + ptrdiff_t(a), s.start.begin() + ptrdiff_t(b));
      s.end = std::vector<uint32_t>(s.end.begin() + ptrdiff_t(a), s.end.begin() + ptrdiff_t(b));
      break;
    }
    case K::Replace: {
      if (n.pattern.empty()) break;
      NormalizedString r;
      for (size_t i = 0; i < s.text.size();) {
        if (s.text.compare(i, n.pattern.size(), n.pattern) == 0) {
          uint32_t a = s.start[i], b = s.end[i + n.pattern.size() - 1];
          r.text += n.content;
          r.start.insert(r.start.end(), n.content.size(), a);
          r.end.insert(r.end.end(), n.content.size(), b);
          i += n.pattern.size();
        } else {
          r.text += s.text[i];
          r.start.push_back(s.start[i]);
          r.end.push_back(s.end[i]);
          ++i;
        }
      }
      s = std::move(r);
      break;
    }
    case K::Prepend: {
      if (s.text.empty()) break;
      uint32_t a = s.start[0];
      s.text.insert(0, n.content);
      s.start.insert(s.start.begin(), n.content.size(), a);
      s.end.insert(s.end.begin(), n.content.size(), a);
      break;
    }
    case K::Sequence:
      for (const Normalizer& c : n.children) normalize(c, s);
      break;
  }
}

}  // namespace qkv::tokenizers
