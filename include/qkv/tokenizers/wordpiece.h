// qkv/tokenizers/wordpiece.h — WordPiece (Schuster & Nakajima 2012; BERT's form),
// and WordLevel (one token per word).
//
// WordPiece is greedy longest-match-first: from the word's start, take the
// longest vocabulary entry, then continue with "##"-prefixed entries. If some
// position matches nothing, or the word is longer than max_input_chars_per_word
// characters, the whole word becomes the unk token.
#pragma once
#include <string>

#include "qkv/tokenizers/model.h"

namespace qkv::tokenizers {

class WordPieceModel : public Model {
 public:
  WordPieceModel(Vocab vocab, std::string unk_token = "[UNK]", std::string continuing_subword_prefix = "##",
                 size_t max_input_chars_per_word = 100);
  ModelKind kind() const override { return ModelKind::WordPiece; }
  void tokenize(std::string_view word, std::vector<Piece>& out) const override;

  const std::string& unk_token() const { return unk_token_; }
  const std::string& prefix() const { return prefix_; }
  size_t max_input_chars_per_word() const { return max_chars_; }

 private:
  std::string unk_token_, prefix_;
  size_t max_chars_;
  int32_t unk_id_;
  size_t longest_token_ = 0;  // bytes; bounds the longest-match search
};

class WordLevelModel : public Model {
 public:
  WordLevelModel(Vocab vocab, std::string unk_token);
  ModelKind kind() const override { return ModelKind::WordLevel; }
  void tokenize(std::string_view word, std::vector<Piece>& out) const override;
  const std::string& unk_token() const { return unk_token_; }

 private:
  std::string unk_token_;
};

}  // namespace qkv::tokenizers
