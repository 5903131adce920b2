// tests/data/test_token_classification.cpp — word tags on sub-word tokens and
// back (qkv/data/token_classification.h) with the real BERT uncased
// vocabulary. Expected pieces were split by hand with WordPiece's greedy
// longest match on vocab.txt; ids are vocab.txt line − 1.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "io/io_test_util.h"
#include "qkv/data/conll.h"
#include "qkv/data/token_classification.h"

using namespace qkv;
using namespace qkv::data;
using qkv::testing::expect_error;

namespace {

using Ids = std::vector<int64_t>;
using Strings = std::vector<std::string>;
constexpr int64_t X = kIgnoreIndex;
constexpr int64_t CLS = 101, SEP = 102;

const std::string kShared = QKV_SHARED_DATA;
const std::string kVocab = kShared + "/tokenizers/bert-base-uncased/vocab.txt";

#define REQUIRE_FILE(path) \
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "shared data not found: " << (path)

const tokenizers::Tokenizer& bert() {
  static tokenizers::Tokenizer t = tokenizers::Tokenizer::from_path(kVocab);
  return t;
}

}  // namespace

TEST(DataTokenClassification, LabelOnTheFirstSubword) {
  REQUIRE_FILE(kVocab);
  // CoNLL-2003 test sentence 2: "Nadim Ladki" B-PER I-PER → nad ##im lad ##ki
  TokenFeatures f = tokenize_and_align_labels(bert(), {"Nadim", "Ladki"}, {1, 2});
  EXPECT_EQ(f.example.at("input_ids"), (Ids{CLS, 23233, 5714, 14804, 3211, SEP}));
  EXPECT_EQ(f.example.at("labels"), (Ids{X, 1, X, 2, X, X}));
  EXPECT_EQ(f.word_ids, (Ids{-1, 0, 0, 1, 1, -1}));
  EXPECT_EQ(f.example.at("token_type_ids"), (Ids{0, 0, 0, 0, 0, 0}));
  // "Peter Blackburn": both whole words in the vocabulary
  f = tokenize_and_align_labels(bert(), {"Peter", "Blackburn"}, {1, 2});
  EXPECT_EQ(f.example.at("input_ids"), (Ids{CLS, 2848, 13934, SEP}));
  EXPECT_EQ(f.example.at("labels"), (Ids{X, 1, 2, X}));
  // one word the pre-tokenizer splits on punctuation: all pieces are that word's
  f = tokenize_and_align_labels(bert(), {"BRUSSELS", "1996-08-22"}, {5, 0});
  EXPECT_EQ(f.example.at("input_ids"), (Ids{CLS, 9371, 2727, 1011, 5511, 1011, 2570, SEP}));
  EXPECT_EQ(f.example.at("labels"), (Ids{X, 5, 0, X, X, X, X, X}));
  EXPECT_EQ(f.word_ids, (Ids{-1, 0, 1, 1, 1, 1, 1, -1}));
}

TEST(DataTokenClassification, WordsAreEncodedOneByOne) {
  REQUIRE_FILE(kVocab);
  // a word with no token (only a control character) loses its label; no labels → no "labels" field
  TokenFeatures f = tokenize_and_align_labels(bert(), {"AL-AIN", "\x01", ","}, {5, 7, 0});
  EXPECT_EQ(f.example.at("input_ids"), (Ids{CLS, 2632, 1011, 7110, 1010, SEP}));  // al - ain ,
  EXPECT_EQ(f.example.at("labels"), (Ids{X, 5, X, X, 0, X}));
  EXPECT_EQ(f.word_ids, (Ids{-1, 0, 0, 0, 2, -1}));
  TokenFeatures g = tokenize_and_align_labels(bert(), {"AL-AIN", ","}, {});
  EXPECT_FALSE(g.example.has("labels"));
  EXPECT_EQ(g.word_ids, (Ids{-1, 0, 0, 0, 1, -1}));
  TokenFeatures none = tokenize_and_align_labels(bert(), {}, {});
  EXPECT_EQ(none.example.at("input_ids"), (Ids{CLS, SEP}));
}

TEST(DataTokenClassification, TruncationAndBadInput) {
  REQUIRE_FILE(kVocab);
  // max_length 4 keeps 2 tokens: nad ##im; Ladki is cut off, so only Nadim keeps a label
  TokenFeatures f = tokenize_and_align_labels(bert(), {"Nadim", "Ladki"}, {1, 2}, 4);
  EXPECT_EQ(f.example.at("input_ids"), (Ids{CLS, 23233, 5714, SEP}));
  EXPECT_EQ(f.example.at("labels"), (Ids{X, 1, X, X}));
  // a word cut in its middle keeps its first piece and label
  f = tokenize_and_align_labels(bert(), {"Nadim", "Ladki"}, {1, 2}, 5);
  EXPECT_EQ(f.example.at("labels"), (Ids{X, 1, X, 2, X}));
  EXPECT_EQ(word_predictions(f.word_ids, {0, 1, 8, 2, 0}, 2), (Ids{1, 2}));
  expect_error<ValueError>([] { tokenize_and_align_labels(bert(), {"a", "b"}, {1}); }, {"2 words but 1 labels"});
  expect_error<ValueError>([] { tokenize_and_align_labels(bert(), {"a"}, {1}, 2); },
                           {"max_length 2", "2 special tokens"});
}

TEST(DataTokenClassification, WordPredictionsTakeTheFirstSubword) {
  // tokens: [CLS] nad ##im lad ##ki [SEP]
  const Ids word_ids{-1, 0, 0, 1, 1, -1};
  EXPECT_EQ(word_predictions(word_ids, {7, 1, 0, 2, 3, 7}, 2), (Ids{1, 2}));
  // a word past the truncation gets `missing`
  EXPECT_EQ(word_predictions({-1, 0, -1}, {4, 5, 6}, 3), (Ids{5, X, X}));
  EXPECT_EQ(word_predictions({-1, 0, -1}, {4, 5, 6}, 2, 0), (Ids{5, 0}));
  expect_error<ValueError>([&] { word_predictions(word_ids, {1, 2}, 2); }, {"6 word ids but 2 token predictions"});
  expect_error<ValueError>([&] { word_predictions(word_ids, {0, 0, 0, 0, 0, 0}, 1); },
                           {"token 3 has word id 1", "1 words"});
}

TEST(DataTokenClassification, ConllRoundTripOnSharedData) {
  const std::string path = kShared + "/conll2003/valid.txt";
  REQUIRE_FILE(kVocab);
  REQUIRE_FILE(path);
  ConllData c = read_conll(path);
  auto ids = tag_ids(c, conll2003_ner_labels());
  size_t sentences = 0, words = 0, subwords = 0, lost = 0;
  for (size_t s = 0; s < c.sentences.size(); ++s) {
    TokenFeatures f = tokenize_and_align_labels(bert(), c.sentences[s].words, ids[s], 512);
    const Ids& labels = f.example.at("labels");
    // predicting every token's gold label gives back the word tags
    Ids back = word_predictions(f.word_ids, labels, ids[s].size());
    for (size_t w = 0; w < back.size(); ++w) lost += back[w] == X;
    back.erase(std::remove(back.begin(), back.end(), X), back.end());
    Ids kept;
    for (size_t w = 0; w < ids[s].size(); ++w)
      if (std::find(f.word_ids.begin(), f.word_ids.end(), int64_t(w)) != f.word_ids.end()) kept.push_back(ids[s][w]);
    sentences += back == kept;
    words += ids[s].size();
    subwords += std::count(labels.begin(), labels.end(), X) - 2;
  }
  EXPECT_EQ(sentences, c.sentences.size());
  EXPECT_EQ(words, 51362u);
  EXPECT_EQ(lost, 0u);  // every word of valid.txt has a token and fits in 512
  EXPECT_GT(subwords, 10000u);  // many words are split (the labels skip their continuation pieces)
  std::printf("[ conll valid ] %zu words, %zu continuation pieces labelled -100\n", words, subwords);
}
