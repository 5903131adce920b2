// qkv/tokenizers/model.h — the model stage: one pre-tokenized word → token ids.
//
// Three models follow Hugging Face `tokenizers`: BPE (bpe.h), WordPiece
// (wordpiece.h) and WordLevel (word_level.h); the fourth is a SentencePiece
// tokenizer.model run by libsentencepiece (sentencepiece.h). A model sees one
// word at a time and reports each token's byte span inside that word, so
// offsets map back to the input (a SentencePiece piece that is only the "▁"
// dummy prefix has an empty span).
#pragma once
#include <cstdint>
#include <string_view>
#include <vector>

#include "qkv/tokenizers/vocab.h"

namespace qkv::tokenizers {

struct Piece {
  int32_t id;
  uint32_t start;  // byte span inside the word
  uint32_t end;
};

enum class ModelKind { BPE, WordPiece, WordLevel, SentencePiece };

class Model {
 public:
  virtual ~Model() = default;
  virtual ModelKind kind() const = 0;
  // Appends the tokens of word to out.
  virtual void tokenize(std::string_view word, std::vector<Piece>& out) const = 0;
  const Vocab& vocab() const { return vocab_; }
  Vocab& mutable_vocab() { return vocab_; }

 protected:
  Vocab vocab_;
};

}  // namespace qkv::tokenizers
