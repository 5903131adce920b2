// qkv/tokenizers/decoders.h — the way back: tokens → text.
//
// ByteLevel maps the byte-level alphabet back to the exact bytes (tokens that
// split a multi-byte character give its raw bytes, as tiktoken does — qkv
// never substitutes U+FFFD). WordPiece joins "##" pieces to the previous word
// and puts a space before the others, then (cleanup) removes spaces before
// punctuation and in English contractions. Fuse concatenates; BPEDecoder
// turns the end-of-word suffix into spaces. Without a decoder, tokens are
// joined with single spaces (as Hugging Face).
#pragma once
#include <string>
#include <vector>

namespace qkv::tokenizers {

struct Decoder {
  enum class Kind { ByteLevel, WordPiece, Fuse, BPEDecoder, Sequence };
  Kind kind = Kind::Fuse;
  std::string prefix = "##";  // WordPiece
  bool cleanup = true;        // WordPiece
  std::string suffix = "</w>";  // BPEDecoder
  std::vector<Decoder> children;
};

// Decodes tokens (model vocabulary strings) to text; decoder may be null.
std::string decode_tokens(const Decoder* d, std::vector<std::string> tokens);

// Hugging Face's clean_up_tokenization: " ." → "." and the like.
std::string cleanup_tokenization(std::string s);

}  // namespace qkv::tokenizers
