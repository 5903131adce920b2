// qkv/tokenizers/char_tokenizer.h — character-level tokenizer (the seeds' and
// nanoGPT's Shakespeare setup): one token per Unicode character.
//
// The vocabulary is the corpus's distinct characters sorted by code point, ids
// 0..n-1 (nanoGPT's `sorted(set(text))`). Saved as a Hugging Face tokenizer.json
// with a BPE model that has no merges (so each character is one token), no
// normalizer or pre-tokenizer, and a Fuse decoder: Hugging Face `tokenizers` and
// qkv's Tokenizer::from_path load it and encode identically.
//
//   auto tok = CharTokenizer::build(text);
//   std::vector<int64_t> ids = tok.encode("First Citizen");
//   tok.decode(ids) == "First Citizen";
//   tok.save("run/tokenizer.json");  auto again = CharTokenizer::load("run/tokenizer.json");
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "qkv/tokenizers/vocab.h"

namespace qkv::tokenizers {

class CharTokenizer {
 public:
  // Throws ValueError on invalid UTF-8 (naming the byte offset) or an empty corpus.
  static CharTokenizer build(std::string_view corpus);
  // From characters in id order (each one UTF-8 character, distinct).
  static CharTokenizer from_chars(const std::vector<std::string>& chars);

  // Throws ValueError naming the first unknown character, its code point and
  // its position: "at character index 3 (byte offset 5)", both 0-based.
  std::vector<int64_t> encode(std::string_view text) const;
  // Throws ValueError naming the first id out of range and its position.
  std::string decode(const std::vector<int64_t>& ids) const;
  int64_t vocab_size() const { return int64_t(chars_.size()); }
  const std::vector<std::string>& chars() const { return chars_; }

  std::string to_json() const;
  void save(const std::string& path) const;  // atomic: temp + rename
  // Reads a tokenizer.json whose vocabulary is single characters (as save writes).
  static CharTokenizer load(const std::string& path);

 private:
  std::vector<std::string> chars_;
  std::vector<int32_t> ascii_;  // id of each ASCII byte, -1 if absent (fast path)
  StringMap<int32_t> ids_;
};

}  // namespace qkv::tokenizers
