// qkv/data/token_classification.h — word-level tags (NER) ↔ sub-word tokens.
//
// Hugging Face's run_ner `tokenize_and_align_labels` with
// label_all_tokens=False: the words are already split (is_split_into_words),
// each word is encoded on its own (normalizer, pre-tokenizer, WordPiece), so
// all its sub-words share its word index (word_ids()); the word's label goes
// on its first sub-word and kIgnoreIndex (-100) on the others and on the
// special tokens. A word that yields no token (e.g. only control characters)
// loses its label, as in Hugging Face.
//
//   words   Peter      Blackburn               (tags B-PER I-PER → ids 1 2)
//   tokens  [CLS] peter black ##burn [SEP]
//   labels  -100  1     2     -100   -100
//   word_ids  -1  0     1     1      -1
//
// The inverse, for evaluation: word_predictions takes one prediction per
// token and gives each word its first sub-word's prediction.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "qkv/data/batch.h"
#include "qkv/tokenizers/tokenizer.h"

namespace qkv::data {

struct TokenFeatures {
  // "input_ids", "token_type_ids" and, when labels were given, "labels"
  // (one per token, as above).
  Example example;
  std::vector<int64_t> word_ids;  // per token: the word's index, -1 for special tokens
};

// The tokens are truncated to max_length (special tokens included): the words
// past the cut have no first sub-word, so no label. word_labels is empty (no
// "labels" field) or has one id per word; ValueError otherwise, or when
// max_length leaves no room beside the special tokens.
TokenFeatures tokenize_and_align_labels(const tokenizers::Tokenizer& tok, const std::vector<std::string>& words,
                                        const std::vector<int64_t>& word_labels, size_t max_length = 512);

// Word w's prediction is token_predictions[t] at the first t with
// word_ids[t] == w; words with no token (truncated away or empty) get
// `missing`. ValueError when the sizes differ or a word id is ≥ num_words.
std::vector<int64_t> word_predictions(const std::vector<int64_t>& word_ids,
                                      const std::vector<int64_t>& token_predictions, size_t num_words,
                                      int64_t missing = kIgnoreIndex);

}  // namespace qkv::data
