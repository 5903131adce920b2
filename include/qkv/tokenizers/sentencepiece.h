// qkv/tokenizers/sentencepiece.h — a SentencePiece `tokenizer.model` (Llama,
// Mistral, T5, …) as the model stage of a Tokenizer, through Debian's
// libsentencepiece: encoding and decoding are the library's own, so ids are
// exactly what `spm_encode` and Hugging Face's slow tokenizers give (BPE or
// unigram, any normalization rule, byte fallback to <0xNN> pieces).
//
//   Tokenizer t = Tokenizer::from_path("tinyllama");   // a directory with tokenizer.model
//   t.encode("Hello", {.add_special_tokens = true}).ids;   // {1, 15043}: <s> ▁Hello
//
// A Tokenizer built by sentencepiece_tokenizer() has no normalizer or
// pre-tokenizer (the library normalizes and adds the "▁" dummy prefix
// itself); its control symbols (<s>, </s>, …) and <unk> are special added
// tokens, matched in the text as Hugging Face's Llama tokenizer does, and
// the post-processor puts <s> first (the model's bos_id), as LlamaTokenizer's
// add_bos_token. Offsets are the library's byte spans. It saves as
// tokenizer.model (the file's bytes unchanged), never as tokenizer.json.
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "qkv/tokenizers/model.h"

namespace qkv::tokenizers {

class Tokenizer;

class SentencePieceModel : public Model {
 public:
  // The bytes of a tokenizer.model; source names it in errors (ValueError
  // with the library's message when it is not a SentencePiece model).
  SentencePieceModel(std::string serialized, const std::string& source);
  ~SentencePieceModel() override;
  ModelKind kind() const override { return ModelKind::SentencePiece; }
  // The pieces of one text (the library's normalization and dummy prefix
  // included), with byte spans inside it.
  void tokenize(std::string_view text, std::vector<Piece>& out) const override;
  // The library's detokenization of ids (all in the vocabulary).
  std::string decode(const std::vector<int64_t>& ids) const;
  const std::string& serialized() const { return serialized_; }
  int64_t bos_id() const;  // −1 when the model has none
  int64_t eos_id() const;
  int64_t unk_id() const;
  bool is_control(int64_t id) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string serialized_;
};

// A Tokenizer around the tokenizer.model at path (IOError when unreadable,
// ValueError when not a SentencePiece model).
Tokenizer sentencepiece_tokenizer(const std::string& path);

}  // namespace qkv::tokenizers
