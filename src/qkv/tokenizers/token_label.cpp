// Token labels (see qkv/tokenizers/token_label.h).
#include "qkv/tokenizers/token_label.h"

#include <cstdio>

#include "qkv/core/error.h"
#include "qkv/tokenizers/byte_level.h"
#include "qkv/tokenizers/tokenizer.h"
#include "qkv/tokenizers/utf8.h"

namespace qkv::tokenizers {

namespace {

std::string hex_byte(unsigned char b) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "<0x%02X>", b);
  return buf;
}

bool is_byte_level_decoder(const Decoder& d) {
  if (d.kind == Decoder::Kind::ByteLevel) return true;
  for (const Decoder& c : d.children)
    if (is_byte_level_decoder(c)) return true;
  return false;
}

}  // namespace

std::string visible_text(std::string_view s) {
  if (s.empty()) return "∅";
  std::string out;
  for (size_t i = 0; i < s.size();) {
    const Utf8Char c = next_char(s, i);
    if (!c.valid) out += hex_byte(static_cast<unsigned char>(s[i]));
    else if (c.cp == ' ') out += "␣";
    else if (c.cp == '\n') out += "↵";
    else if (c.cp == '\t') out += "⇥";
    else if (c.cp < 0x20 || c.cp == 0x7F) out += hex_byte(static_cast<unsigned char>(c.cp));
    else out.append(s.substr(i, c.len));
    i += c.len;
  }
  return out;
}

std::string token_label(std::string_view piece, bool byte_level) {
  if (byte_level) {
    std::string bytes;
    if (byte_level_to_bytes(piece, bytes)) return visible_text(bytes);
  }
  std::string text;  // SentencePiece: "▁" (U+2581) marks a space
  for (size_t i = 0; i < piece.size();) {
    const Utf8Char c = next_char(piece, i);
    if (c.valid && c.cp == 0x2581) text += ' ';
    else text.append(piece.substr(i, c.len));
    i += c.len;
  }
  return visible_text(text);
}

std::string token_label(const Tokenizer& tok, int64_t id) {
  const std::optional<std::string> piece = tok.id_to_token(id);
  if (!piece) throw ValueError("token id " + std::to_string(id) + " is not in the vocabulary");
  for (const AddedToken& a : tok.added_tokens)  // "<|endoftext|>", "[CLS]": their own names
    if (a.id == id) return visible_text(*piece);
  return token_label(*piece, tok.decoder && is_byte_level_decoder(*tok.decoder));
}

}  // namespace qkv::tokenizers
