#include "qkv/tokenizers/decoders.h"

#include "qkv/tokenizers/byte_level.h"
#include "qkv/tokenizers/utf8.h"

namespace qkv::tokenizers {

namespace {

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) s.replace(p, from.size(), to);
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
          else t.insert(0, " ");
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
