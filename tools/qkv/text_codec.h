// Text ↔ ids for the GPT commands: a character tokenizer (built from the
// corpus, or a tokenizer.json whose vocabulary is single characters) or any
// tokenizer qkv loads (GPT-2 BPE, WordPiece, a tokenizer.json; see
// docs/TOKENIZERS.md). The model directory always gets a tokenizer.json.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace qkv::cli {

struct TextCodec {
  std::string kind;  // "char" or "tokenizer"
  int64_t vocab_size = 0;
  std::function<std::vector<int64_t>(std::string_view)> encode;  // ValueError on text it cannot encode
  std::function<std::string(const std::vector<int64_t>&)> decode;
  std::function<void(const std::string& path)> save;             // writes tokenizer.json
};

// A character tokenizer built from `corpus`.
TextCodec char_codec(std::string_view corpus);
// DIR (with tokenizer.json, vocab.json + merges.txt or vocab.txt) or a file.
TextCodec load_codec(const std::string& path);

}  // namespace qkv::cli
