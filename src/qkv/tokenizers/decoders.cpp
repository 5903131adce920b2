#include "qkv/tokenizers/decoders.h"

#include "qkv/tokenizers/byte_level.h"
#include "qkv/tokenizers/utf8.h"

namespace qkv::tokenizers {

namespace {

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) s.replace(p, from.size(), to);
}

// "<0xAB>" → 0xAB; −1 for any other token.
int byte_token(const std::string& t) {
  if (t.size() != 6 || !t.starts_with("<0x") || t[5] != '>') return -1;
  auto hex = [](char c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1; };
  const int hi = hex(t[3]), lo = hex(t[4]);
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

// Runs of byte tokens become one token of their bytes when those are valid
// UTF-8, else one U+FFFD token per byte (Hugging Face's ByteFallback).
std::vector<std::string> byte_fallback(std::vector<std::string> tokens) {
  std::vector<std::string> out;
  std::string run;
  size_t run_len = 0;
  auto flush = [&] {
    if (run_len == 0) return;
    if (is_valid_utf8(run)) out.push_back(run);
    else out.insert(out.end(), run_len, "\xEF\xBF\xBD");
    run.clear();
    run_len = 0;
  };
  for (std::string& t : tokens) {
    if (const int b = byte_token(t); b >= 0) {
      run += static_cast<char>(b);
      ++run_len;
      continue;
    }
    flush();
    out.push_back(std::move(t));
  }
  flush();
  return out;
}

// Up to `start` leading and `stop` trailing copies of the character c off t.
void strip(std::string& t, const std::string& c, size_t start, size_t stop) {
  if (c.empty()) return;
  size_t a = 0, b = t.size();
  for (size_t i = 0; i < start && t.compare(a, c.size(), c) == 0 && a + c.size() <= b; ++i) a += c.size();
  for (size_t i = 0; i < stop && b >= a + c.size() && t.compare(b - c.size(), c.size(), c) == 0; ++i) b -= c.size();
  t = t.substr(a, b - a);
}

std::vector<std::string> decode_chain(const Decoder& d, std::vector<std::string> tokens) {
  using K = Decoder::Kind;
  switch (d.kind) {
    case K::ByteLevel: {
      std::string joined, bytes;
      for (const std::string& t : tokens) joined += t;
      if (!byte_level_to_bytes(joined, bytes)) {  // not byte-level text: keep the unknown characters
        bytes.clear();
        for (size_t i = 0; i < joined.size();) {
          Utf8Char c = next_char(joined, i);
          std::string one;
          if (!byte_level_to_bytes(joined.substr(i, c.len), one)) one = joined.substr(i, c.len);
          bytes += one;
          i += c.len;
        }
      }
      return {bytes};
    }
    case K::WordPiece: {
      for (size_t i = 0; i < tokens.size(); ++i) {
        std::string& t = tokens[i];
        if (i > 0) {
          if (!d.prefix.empty() && t.starts_with(d.prefix)) t.erase(0, d.prefix.size());
          else t = " " + t;
        }
        if (d.cleanup) t = cleanup_tokenization(t);
      }
      return tokens;
    }
    case K::Fuse: {
      std::string joined;
      for (const std::string& t : tokens) joined += t;
      return {joined};
    }
    case K::BPEDecoder: {
      for (size_t i = 0; i < tokens.size(); ++i) {
        replace_all(tokens[i], d.suffix, i + 1 == tokens.size() ? "" : " ");
      }
      return tokens;
    }
    case K::Sequence:
      for (const Decoder& c : d.children) tokens = decode_chain(c, std::move(tokens));
      return tokens;
    case K::Replace:
      if (!d.pattern.empty())
        for (std::string& t : tokens) replace_all(t, d.pattern, d.content);
      return tokens;
    case K::ByteFallback:
      return byte_fallback(std::move(tokens));
    case K::Strip:
      for (std::string& t : tokens) strip(t, d.content, d.start, d.stop);
      return tokens;
    case K::Metaspace:
      for (size_t i = 0; i < tokens.size(); ++i)
        replace_all(tokens[i], d.replacement, i == 0 && d.prepend_scheme != "never" ? "" : " ");
      return tokens;
  }
  return tokens;
}

}  // namespace

std::string cleanup_tokenization(std::string s) {
  static const std::pair<const char*, const char*> rules[] = {
      {" .", "."},     {" ?", "?"},       {" !", "!"},           {" ,", ","},     {" ' ", "'"},   {" n't", "n't"},
      {" 'm", "'m"},   {" do not", " don't"}, {" 's", "'s"},     {" 've", "'ve"}, {" 're", "'re"}};
  for (const auto& [from, to] : rules) replace_all(s, from, to);
  return s;
}

std::string decode_tokens(const Decoder* d, std::vector<std::string> tokens) {
  std::string out;
  if (!d) {
    for (size_t i = 0; i < tokens.size(); ++i) out += (i ? " " : "") + tokens[i];
    return out;
  }
  for (const std::string& t : decode_chain(*d, std::move(tokens))) out += t;
  return out;
}

}  // namespace qkv::tokenizers
