// qkv/pipelines/encoder.h — texts → padded encoder inputs → hidden states,
// for any encoder qkv has: BERT (models::Bert) and the encoder of the
// translation model (models::Transformer::encode). The pipelines
// (pipelines.h) and `qkv embed` / `qkv search` sit on it.
//
//   auto enc = pipelines::TextEncoder::of(*model, tokenizer);
//   Tensor e = pipelines::embed_texts(enc, {"a cat", "a dog"}, Pooling::Mean);  // (2,C), rows of norm 1
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "qkv/core/tensor.h"
#include "qkv/models/model.h"
#include "qkv/tokenizers/encoding.h"
#include "qkv/tokenizers/tokenizer.h"

namespace qkv::pipelines {

// One batch of encodings as tensors: ids, token types, attention mask (true
// = real), all (B,T), right-padded to the longest with pad_id.
struct EncodedBatch {
  Tensor input_ids, token_type_ids, attention_mask;
  std::vector<tokenizers::Encoding> encodings;  // unpadded, as the tokenizer gave them (truncated)
};

class TextEncoder {
 public:
  // BERT or the encoder–decoder Transformer (its encoder); ValueError for
  // other families, naming them. The model must outlive the TextEncoder.
  static TextEncoder of(const models::Model& model, const tokenizers::Tokenizer& tokenizer);

  // Encodes texts (or pairs, when `pairs` is given) with the tokenizer's
  // special tokens, truncated to max_length (longest-first for pairs).
  EncodedBatch encode(const std::vector<std::string>& texts,
                      const std::vector<std::string>* pairs = nullptr) const;
  // The last layer's hidden states (B,T,C), in no-grad eval use.
  Tensor hidden(const EncodedBatch& batch) const;

  const tokenizers::Tokenizer& tokenizer() const { return *tok_; }
  int64_t max_length() const { return max_length_; }
  int64_t pad_id() const { return pad_id_; }

 private:
  const tokenizers::Tokenizer* tok_ = nullptr;
  std::function<Tensor(const EncodedBatch&)> hidden_;
  int64_t max_length_ = 0, pad_id_ = 0;
  bool add_special_ = true;
};

enum class Pooling { CLS, Mean };
Pooling pooling_from_name(const std::string& name);  // "cls" | "mean"; ValueError otherwise

// Sentence embeddings (N,C): the [CLS] (first) hidden state or the mean over
// real tokens, L2-normalised (as sentence-transformers' Normalize), in
// batches of batch_size.
Tensor embed_texts(const TextEncoder& enc, const std::vector<std::string>& texts, Pooling pooling,
                   int64_t batch_size = 32);

// A document cut into pieces the encoder can read: windows of at most
// `max_tokens` tokens, each starting `stride` tokens after the previous one
// (stride < max_tokens overlaps them), cut at token boundaries; each piece
// keeps its span [start, end) in the document in characters (code points, as
// Python's str indices).
struct Chunk {
  int64_t doc = 0, index = 0;
  size_t start = 0, end = 0;
  std::string text;
};
std::vector<Chunk> chunk_document(const tokenizers::Tokenizer& tok, const std::string& text, int64_t doc,
                                  int64_t max_tokens, int64_t stride);

// Cosine top-k of `query` (C) among rows of `embeddings` (N,C), both
// L2-normalised: (row, score) best first, ties by row.
std::vector<std::pair<int64_t, float>> top_k_cosine(const Tensor& embeddings, const Tensor& query, int64_t k);

}  // namespace qkv::pipelines
