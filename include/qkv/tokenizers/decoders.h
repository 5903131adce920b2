// qkv/tokenizers/decoders.h — the way back: tokens → text.
//
// ByteLevel maps the byte-level alphabet back to the exact bytes (tokens that
// split a multi-byte character give its raw bytes, as tiktoken does — qkv
// never substitutes U+FFFD). WordPiece joins "##" pieces to the previous word
// and puts a space before the others, then (cleanup) removes spaces before
// punctuation and in English contractions. Fuse concatenates; BPEDecoder
// turns the end-of-word suffix into spaces. The SentencePiece-style kinds of
// Llama/Mistral files: Replace (a literal pattern in each token), ByteFallback
// (runs of <0xNN> tokens to their bytes; a run that is not valid UTF-8 gives
// one U+FFFD per byte), Strip (up to `start` leading and `stop` trailing
// copies of one character off each token), Metaspace (the replacement
// character to spaces; in the first token dropped instead unless
// prepend_scheme is "never" — every copy in it, as Hugging Face does). Each
// works token by token, so Fuse decides what "first token" means. Without a
// decoder, tokens are joined with single spaces (as Hugging Face).
#pragma once
#include <string>
#include <vector>

namespace qkv::tokenizers {

struct Decoder {
  enum class Kind { ByteLevel, WordPiece, Fuse, BPEDecoder, Sequence, Replace, ByteFallback, Strip, Metaspace };
  Kind kind = Kind::Fuse;
  std::string prefix = "##";  // WordPiece
  bool cleanup = true;        // WordPiece
  std::string suffix = "</w>";  // BPEDecoder
  std::string pattern, content;  // Replace: pattern → content; Strip: content is the character
  size_t start = 0, stop = 0;    // Strip
  std::string replacement = "\u2581", prepend_scheme = "always";  // Metaspace ("always", "first", "never")
  bool split = true;                                               // Metaspace (kept for saving)
  std::vector<Decoder> children;
};

// Decodes tokens (model vocabulary strings) to text; decoder may be null.
std::string decode_tokens(const Decoder* d, std::vector<std::string> tokens);

// Hugging Face's clean_up_tokenization: " ." → "." and the like.
std::string cleanup_tokenization(std::string s);

}  // namespace qkv::tokenizers
