// qkv/tokenizers/trainers.h — learn a vocabulary from text.
//
// Byte-level BPE (GPT-2 style; Sennrich et al. 2016 on bytes): count the words
// of GPT-2's split, start from the 256 byte tokens, then repeatedly merge the
// most frequent adjacent pair (ties: the pair with the smaller ids) until the
// vocabulary has vocab_size tokens or the best pair is rarer than min_frequency.
// WordPiece: the same merging on characters with "##" continuation pieces after
// BERT's normalizer (lowercase + strip accents, or cased) and pre-tokenizer — Hugging
// Face's WordPieceTrainer does the same. Word counting runs on the OpenMP
// threads over fixed 1 MB chunks, so the result never depends on the thread count.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "qkv/tokenizers/tokenizer.h"

namespace qkv::tokenizers {

struct TrainerOptions {
  size_t vocab_size = 8000;                 // including special tokens and the alphabet
  int64_t min_frequency = 2;                // a pair seen fewer times is never merged
  std::vector<std::string> special_tokens;  // ids 0.. in this order
  // WordPiece: BERT's normalizer lowercases and strips accents (uncased) or
  // keeps both (cased: BertNormalizer(lowercase=False), whose strip_accents
  // follows lowercase). Named-entity tagging wants cased.
  bool lowercase = true;
};

Tokenizer train_byte_level_bpe(const std::vector<std::string>& texts, const TrainerOptions& options);
// Defaults special_tokens to [PAD] [UNK] [CLS] [SEP] [MASK] when empty.
Tokenizer train_wordpiece(const std::vector<std::string>& texts, TrainerOptions options);

}  // namespace qkv::tokenizers

namespace qkv::tokenizers {

// Writes the model's classic files into dir: vocab.json + merges.txt (BPE) or
// vocab.txt (WordPiece, ids must be 0..n-1). Returns the file names written.
std::vector<std::string> save_model_files(const Tokenizer& tokenizer, const std::string& dir);

}  // namespace qkv::tokenizers
