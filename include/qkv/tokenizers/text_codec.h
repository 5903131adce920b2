// qkv/tokenizers/text_codec.h — text ↔ ids for a language model, whatever the
// tokenizer kind: a character tokenizer (built from the corpus, or a
// tokenizer.json whose vocabulary is single characters — encoded strictly, so
// an unknown character is an error naming it and its position) or any
// tokenizer qkv loads (GPT-2 BPE, WordPiece, a tokenizer.json; see
// docs/TOKENIZERS.md). `qkv train gpt`, `generate` and `plot attention` use
// it; a model directory always gets a tokenizer.json (or the SentencePiece
// tokenizer.model it was made with).
//
//   TextCodec tok = load_codec("runs/shakespeare");   // DIR or file
//   std::vector<int64_t> ids = tok.encode("ROMEO:");
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "qkv/tokenizers/char_tokenizer.h"

namespace qkv::tokenizers {

struct TextCodec {
  std::string kind;  // "char" or "tokenizer"
  int64_t vocab_size = 0;
  std::function<std::vector<int64_t>(std::string_view)> encode;  // ValueError on text it cannot encode
  std::function<std::string(const std::vector<int64_t>&)> decode;
  std::function<void(const std::string& path)> save;             // writes tokenizer.json
  // One token as a visible label ("␣But", "↵", "<0xE6>"; token_label.h).
  std::function<std::string(int64_t id)> label;
};

// A character tokenizer built from `corpus`.
TextCodec char_codec(std::string_view corpus);
// DIR (with tokenizer.json, tokenizer.model, vocab.json + merges.txt or
// vocab.txt) or a file. With a tokenizer_config.json in that directory, its
// add_bos_token / add_eos_token apply to encode (tokenizer_config.h).
TextCodec load_codec(const std::string& path);
// The character tokenizer at `path` (DIR with tokenizer.json, or the file);
// nullopt when the file is another kind of tokenizer (or missing).
std::optional<CharTokenizer> load_char_tokenizer(const std::string& path);

}  // namespace qkv::tokenizers
