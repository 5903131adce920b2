// Helpers for the BERT pretraining data tests: a toy vocabulary, binomial
// bounds, synthetic corpora whose token ids tell where each token came from.
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "io/io_test_util.h"
#include "qkv/data/mlm.h"
#include "qkv/data/pretraining_corpus.h"
#include "qkv/tokenizers/tokenizer.h"
#include "qkv/tokenizers/wordpiece.h"

namespace qkv_test {

inline const std::string kSharedData = QKV_SHARED_DATA;

// |k − n·p| ≤ 5 standard deviations of Binomial(n, p): a wrong proportion
// fails, sampling noise does not (P ≈ 6e-7 for a correct one).
inline void expect_binomial(int64_t k, int64_t n, double p, const std::string& what) {
  ASSERT_GT(n, 0) << what;
  const double mean = static_cast<double>(n) * p, sd = std::sqrt(static_cast<double>(n) * p * (1 - p));
  EXPECT_LE(std::abs(static_cast<double>(k) - mean), 5 * sd + 1e-9)
      << what << ": " << k << " of " << n << " (" << static_cast<double>(k) / static_cast<double>(n)
      << "), expected p = " << p << " ± " << 5 * sd / static_cast<double>(n);
}

// A hand-made vocabulary of `size` ids: 0 [PAD], 1 [CLS], 2 [SEP], 3 [MASK],
// 4 [UNK] are special; ids ≥ first_piece are "##" continuation pieces.
inline qkv::data::MlmVocab toy_vocab(int64_t size = 1000, int64_t first_piece = 500) {
  qkv::data::MlmVocab v;
  v.vocab_size = size;
  v.pad_id = 0, v.cls_id = 1, v.sep_id = 2, v.mask_id = 3;
  v.special.assign(static_cast<size_t>(size), 0);
  v.continuation.assign(static_cast<size_t>(size), 0);
  for (int i = 0; i < 5; ++i) v.special[static_cast<size_t>(i)] = 1;
  for (int64_t i = first_piece; i < size; ++i) v.continuation[static_cast<size_t>(i)] = 1;
  return v;
}

// A BERT tokenizer over a small vocab.txt written to `dir` (`lines`, one token
// a line; the default has the five specials and a few words).
inline qkv::tokenizers::Tokenizer toy_tokenizer(const qkv::testing::ScratchDir& dir,
                                                const std::string& lines =
                                                    "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nthe\ncat\nsat\non\nmat\n"
                                                    "dog\nran\nhome\na\nbird\nflew\n##s\n.\n") {
  qkv::testing::write_bytes(dir.file("vocab.txt"), lines);
  return qkv::tokenizers::Tokenizer::bert(dir.file("vocab.txt"));
}

// A corpus of `docs` documents of `sentences` sentences whose lengths cycle
// through [min_len, max_len]; token ids count up from 10 across the corpus,
// so consecutive text has consecutive ids.
inline qkv::data::PretrainingCorpus counting_corpus(int64_t docs, int64_t sentences, int64_t min_len,
                                                    int64_t max_len) {
  std::vector<std::vector<std::vector<int64_t>>> d(static_cast<size_t>(docs));
  int64_t next = 10, k = 0;
  for (auto& doc : d)
    for (int64_t s = 0; s < sentences; ++s, ++k) {
      std::vector<int64_t> ids(static_cast<size_t>(min_len + k * 7 % (max_len - min_len + 1)));
      for (auto& id : ids) id = next++;
      doc.push_back(ids);
    }
  return qkv::data::PretrainingCorpus::from_documents(d);
}

}  // namespace qkv_test
