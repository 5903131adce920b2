// tests/data/test_mlm_masking.cpp — BERT's masked-LM corruption and its
// collator (qkv/data/mlm.h): the 15 % / 80 / 10 / 10 proportions on a large
// sample within binomial bounds, specials and padding never chosen, labels,
// whole-word masking, padding, and bad inputs.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "data/pretraining_test_util.h"
#include "qkv/data/mlm.h"

using namespace qkv;
using namespace qkv::data;
using qkv::testing::expect_error;
using qkv_test::expect_binomial;
using qkv_test::toy_vocab;

namespace {

// [CLS] x… [SEP] y… [SEP] [PAD]… with ids uniform in [5, 500) (no "##" pieces), lengths 20…120.
std::vector<int64_t> random_pair(Generator& g) {
  std::vector<int64_t> s{1};
  const int64_t la = 10 + static_cast<int64_t>(g.next_u64() % 50), lb = 10 + static_cast<int64_t>(g.next_u64() % 50);
  for (int64_t i = 0; i < la; ++i) s.push_back(5 + static_cast<int64_t>(g.next_u64() % 495));
  s.push_back(2);
  for (int64_t i = 0; i < lb; ++i) s.push_back(5 + static_cast<int64_t>(g.next_u64() % 495));
  s.push_back(2);
  s.insert(s.end(), g.next_u64() % 4, 0);  // [PAD]s of a row padded beforehand: never chosen
  return s;
}

struct Counts {
  int64_t eligible = 0, chosen = 0, mask = 0, random = 0, keep = 0;
};

// Checks one masked sequence against its original and adds up what happened.
void check_and_count(const std::vector<int64_t>& ids, const MaskedTokens& m, const MlmVocab& v, Counts& c) {
  ASSERT_EQ(m.input_ids.size(), ids.size());
  ASSERT_EQ(m.labels.size(), ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    const bool special = v.is_special(ids[i]);
    c.eligible += !special;
    if (m.actions[i] == MaskAction::None) {
      EXPECT_EQ(m.labels[i], kIgnoreIndex) << "position " << i;
      EXPECT_EQ(m.input_ids[i], ids[i]) << "position " << i;
      continue;
    }
    ASSERT_FALSE(special) << "special id " << ids[i] << " chosen at position " << i;
    EXPECT_EQ(m.labels[i], ids[i]) << "position " << i;
    ++c.chosen;
    if (m.actions[i] == MaskAction::Mask) {
      ++c.mask;
      EXPECT_EQ(m.input_ids[i], v.mask_id);
    } else if (m.actions[i] == MaskAction::Keep) {
      ++c.keep;
      EXPECT_EQ(m.input_ids[i], ids[i]);
    } else {
      ++c.random;
      EXPECT_GE(m.input_ids[i], 0);
      EXPECT_LT(m.input_ids[i], v.vocab_size);
    }
  }
}

}  // namespace

TEST(MlmMasking, ProportionsFollowMlmProbabilityAndEightyTenTen) {
  const MlmVocab v = toy_vocab();
  Generator data(7), gen(11);
  Counts c;
  for (int i = 0; i < 3000; ++i) {  // ~200k eligible positions
    auto ids = random_pair(data);
    check_and_count(ids, mask_tokens(ids, v, {}, gen), v, c);
  }
  expect_binomial(c.chosen, c.eligible, 0.15, "chosen / non-special");
  expect_binomial(c.mask, c.chosen, 0.8, "[MASK] / chosen");
  expect_binomial(c.random, c.chosen, 0.1, "random / chosen");
  expect_binomial(c.keep, c.chosen, 0.1, "kept / chosen");
}

TEST(MlmMasking, OtherProbabilitiesAreFollowed) {
  const MlmVocab v = toy_vocab();
  MlmOptions o;
  o.mlm_probability = 0.4, o.mask_replace_prob = 0.5, o.random_replace_prob = 0.3;
  Generator data(3), gen(5);
  Counts c;
  for (int i = 0; i < 1000; ++i) {
    auto ids = random_pair(data);
    check_and_count(ids, mask_tokens(ids, v, o, gen), v, c);
  }
  expect_binomial(c.chosen, c.eligible, 0.4, "chosen");
  expect_binomial(c.mask, c.chosen, 0.5, "[MASK]");
  expect_binomial(c.random, c.chosen, 0.3, "random");
  expect_binomial(c.keep, c.chosen, 0.2, "kept");
}

TEST(MlmMasking, RandomReplacementsAreUniformOverTheVocabulary) {
  // 16 ids (0–4 special): a random replacement may be any of them, as HF's
  // torch.randint(len(tokenizer)). Chi-square with 15 degrees of freedom
  // against 50 (P ≈ 1e-5 for a uniform source).
  const MlmVocab v = toy_vocab(16, 16);
  MlmOptions o;
  o.mlm_probability = 0.5, o.mask_replace_prob = 0, o.random_replace_prob = 1;
  Generator gen(9);
  std::vector<int64_t> ids(200, 7), hist(16, 0);
  int64_t n = 0;
  for (int i = 0; i < 100; ++i) {
    MaskedTokens m = mask_tokens(ids, v, o, gen);
    for (size_t j = 0; j < ids.size(); ++j)
      if (m.actions[j] == MaskAction::Random) ++hist[static_cast<size_t>(m.input_ids[j])], ++n;
  }
  double chi2 = 0, e = static_cast<double>(n) / 16;
  for (int64_t h : hist) chi2 += (static_cast<double>(h) - e) * (static_cast<double>(h) - e) / e;
  EXPECT_LT(chi2, 50.0) << "n = " << n;
  EXPECT_GT(hist[1] + hist[3], 0) << "specials are part of the draw";
}

TEST(MlmMasking, WholeWordMaskingKeepsEveryPieceWithItsHead) {
  const MlmVocab v = toy_vocab();  // ids ≥ 500 are "##" pieces
  MlmOptions o;
  o.whole_word = true;
  Generator data(21), gen(22);
  int64_t words = 0, chosen_words = 0, tokens = 0, chosen_tokens = 0, masked_words = 0;
  for (int seq = 0; seq < 2000; ++seq) {
    // [CLS] words [SEP], each word a head and 0–3 pieces; one sequence in 4
    // starts with an orphan piece (a word cut by truncation): its own word.
    std::vector<int64_t> ids{1};
    std::vector<std::pair<size_t, size_t>> spans;
    if (seq % 4 == 0) spans.push_back({1, 2}), ids.push_back(600);
    for (int w = 0; w < 20; ++w) {
      const size_t start = ids.size();
      ids.push_back(5 + static_cast<int64_t>(data.next_u64() % 495));
      for (uint64_t p = data.next_u64() % 4; p > 0; --p) ids.push_back(500 + static_cast<int64_t>(data.next_u64() % 500));
      spans.push_back({start, ids.size()});
    }
    ids.push_back(2);
    ids.push_back(700);  // a piece after [SEP] is not part of the word before it
    spans.push_back({ids.size() - 1, ids.size()});
    ids.push_back(2);
    MaskedTokens m = mask_tokens(ids, v, o, gen);
    for (auto [a, b] : spans) {
      ++words;
      tokens += static_cast<int64_t>(b - a);
      for (size_t j = a + 1; j < b; ++j)
        ASSERT_EQ(m.actions[j], m.actions[a]) << "sequence " << seq << ": piece " << j << " of the word at " << a;
      if (m.actions[a] != MaskAction::None) ++chosen_words, chosen_tokens += static_cast<int64_t>(b - a);
      masked_words += m.actions[a] == MaskAction::Mask;
    }
    for (size_t j : {size_t(0), ids.size() - 3, ids.size() - 1}) EXPECT_EQ(m.actions[j], MaskAction::None);
  }
  expect_binomial(chosen_words, words, 0.15, "chosen words");
  expect_binomial(masked_words, chosen_words, 0.8, "[MASK] words / chosen words");
  // Every token is chosen with its word's probability, so ~15 % of tokens too
  // (not binomial: a word's pieces go together; checked loosely).
  EXPECT_NEAR(static_cast<double>(chosen_tokens) / static_cast<double>(tokens), 0.15, 0.01);
}

TEST(MlmMasking, WithoutWholeWordPiecesAreChosenAlone) {
  const MlmVocab v = toy_vocab();
  Generator gen(4);
  std::vector<int64_t> ids{1};
  for (int i = 0; i < 400; ++i) ids.push_back(i % 2 ? 600 : 10);  // head, piece, head, piece…
  ids.push_back(2);
  MaskedTokens m = mask_tokens(ids, v, {}, gen);
  int64_t split = 0;
  for (size_t j = 1; j + 1 < ids.size(); j += 2) split += (m.actions[j] == MaskAction::None) != (m.actions[j + 1] == MaskAction::None);
  EXPECT_GT(split, 0) << "token-level masking should split some words";
}

TEST(MlmMasking, SameGeneratorStateSameMask) {
  const MlmVocab v = toy_vocab();
  Generator data(1);
  auto ids = random_pair(data);
  Generator a(99), b(99);
  EXPECT_EQ(mask_tokens(ids, v, {}, a).input_ids, mask_tokens(ids, v, {}, b).input_ids);
  EXPECT_NE(mask_tokens(ids, v, {}, a).labels, mask_tokens(ids, v, {}, a).labels) << "a fresh mask per call";
}

TEST(MlmCollator, PadsLabelsTypesAndNextSentenceLabel) {
  MlmOptions o;
  o.mlm_probability = 0.5;
  MlmCollator c(toy_vocab(), o);
  Generator gen(3);
  Batch b = c.collate({{{"input_ids", {1, 10, 11, 2, 12, 2}}, {"token_type_ids", {0, 0, 0, 0, 1, 1}},
                        {"next_sentence_label", {1}}},
                       {{"input_ids", {1, 13, 2}}, {"token_type_ids", {0, 0, 0}}, {"next_sentence_label", {0}}}},
                      gen);
  ASSERT_EQ(b.input_ids.shape(), (Shape{2, 6}));
  EXPECT_EQ(b.attention_mask.dtype(), DType::Bool);
  const auto ids = b.input_ids.to_int_vector(), labels = b.labels.to_int_vector();
  const auto types = b.get("token_type_ids").to_int_vector(), keep = b.attention_mask.to_int_vector();
  EXPECT_EQ(keep, (std::vector<int64_t>{1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0}));
  EXPECT_EQ(types, (std::vector<int64_t>{0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0}));
  for (int j = 9; j < 12; ++j) EXPECT_EQ(ids[j], 0) << "padding is [PAD]";
  for (int j : {0, 3, 5, 6, 8, 9, 10, 11}) EXPECT_EQ(labels[j], kIgnoreIndex) << "special or padding at " << j;
  EXPECT_EQ(b.get("next_sentence_label").shape(), (Shape{2}));
  EXPECT_EQ(b.get("next_sentence_label").to_int_vector(), (std::vector<int64_t>{1, 0}));
}

TEST(MlmCollator, WithoutNspOrTypesGivesZeroTypesAndNoNspField) {
  MlmCollator c(toy_vocab());
  Generator gen(3);
  Batch b = c.collate({{{"input_ids", {1, 10, 2}}}}, gen);
  EXPECT_EQ(b.get("token_type_ids").to_int_vector(), (std::vector<int64_t>{0, 0, 0}));
  EXPECT_EQ(b.extra.count("next_sentence_label"), 0u);
}

TEST(MlmBadInput, OptionsOutOfRangeNameTheField) {
  for (double p : {0.0, 1.0, -0.1, 1.5, std::nan("")}) {
    MlmOptions o;
    o.mlm_probability = p;
    expect_error<ValueError>([&] { o.validate(); }, {"mlm_probability", "(0, 1)"});
  }
  MlmOptions o;
  o.mask_replace_prob = 0.95;
  expect_error<ValueError>([&] { o.validate(); }, {"mask_replace_prob + random_replace_prob", "at most 1"});
  o.mask_replace_prob = -0.1;
  expect_error<ValueError>([&] { o.validate(); }, {"mask_replace_prob", "[0, 1]"});
  MlmOptions bad;
  bad.mlm_probability = 0;
  expect_error<ValueError>([&] { MlmCollator c(toy_vocab(), bad); }, {"mlm_probability"});
}

TEST(MlmBadInput, IdsAndExamplesAreChecked) {
  const MlmVocab v = toy_vocab();
  Generator gen(1);
  expect_error<ValueError>([&] { mask_tokens({1, 10, 1000, 2}, v, {}, gen); }, {"id 1000", "position 2", "[0, 1000)"});
  expect_error<ValueError>([&] { mask_tokens({-1}, v, {}, gen); }, {"id -1", "position 0"});
  MlmCollator c(v);
  expect_error<ValueError>([&] { c.collate({{{"input_ids", {1, 2}}}, {{"labels", {1}}}}, gen); },
                           {"example 1", "no field 'input_ids'"});
  expect_error<ValueError>([&] { c.collate({{{"input_ids", {1, 5000}}}}, gen); }, {"example 0", "id 5000"});
  expect_error<ValueError>([&] { c.collate({{{"input_ids", {1, 2}}, {"next_sentence_label", {2}}}}, gen); },
                           {"example 0", "next_sentence_label", "0 (IsNext) or 1 (NotNext)"});
  expect_error<ValueError>([&] { c.collate({{{"input_ids", {1, 2}}, {"token_type_ids", {0}}}}, gen); },
                           {"row 0", "2 input_ids", "1 token_type_ids"});
  expect_error<ValueError>(
      [&] { c.collate({{{"input_ids", {1, 2}}, {"next_sentence_label", {0}}}, {{"input_ids", {1, 2}}}}, gen); },
      {"row 1 has no next_sentence_label"});
  MlmVocab w = v;
  w.mask_id = 1000;
  expect_error<ValueError>([&] { w.validate(); }, {"mask_id 1000", "[0, 1000)"});
  w = v;
  w.continuation.pop_back();
  expect_error<ValueError>([&] { MlmCollator x(w); }, {"1000 entries", "999"});
}

TEST(MlmVocab, TokenizerWithoutMaskIsRefusedByName) {
  qkv::testing::ScratchDir d;
  auto tok = qkv_test::toy_tokenizer(d, "[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\n##lo\n");
  expect_error<ValueError>([&] { MlmVocab::from_tokenizer(tok); }, {"no [MASK] token"});
  auto no_pad = qkv_test::toy_tokenizer(d, "[UNK]\n[CLS]\n[SEP]\nhello\n");
  expect_error<ValueError>([&] { MlmVocab::from_tokenizer(no_pad); }, {"no [PAD], [MASK] token"});
}

TEST(MlmVocab, TokenizerWithoutClsOrSepIsRefusedByName) {
  tokenizers::Tokenizer t;
  tokenizers::Vocab voc;
  voc.add("[PAD]", 0), voc.add("[UNK]", 1), voc.add("[MASK]", 2), voc.add("word", 3);
  t.model = std::make_shared<tokenizers::WordLevelModel>(voc, "[UNK]");
  expect_error<ValueError>([&] { MlmVocab::from_tokenizer(t); }, {"no [CLS], [SEP] token"});
}

TEST(MlmVocab, FromTheToyTokenizer) {
  qkv::testing::ScratchDir d;
  auto tok = qkv_test::toy_tokenizer(d);
  MlmVocab v = MlmVocab::from_tokenizer(tok);
  EXPECT_EQ(v.vocab_size, 18);
  EXPECT_EQ(v.pad_id, 0);
  EXPECT_EQ(v.cls_id, 2);
  EXPECT_EQ(v.sep_id, 3);
  EXPECT_EQ(v.mask_id, 4);
  for (int64_t id = 0; id < v.vocab_size; ++id) {
    EXPECT_EQ(v.is_special(id), id <= 4) << id;  // [UNK] (1) too, as HF's all_special_ids
    EXPECT_EQ(v.is_continuation(id), id == 16) << id;  // "##s"
  }
}

TEST(MlmVocabShared, BertBaseUncased) {
  const std::string path = qkv_test::kSharedData + "/tokenizers/bert-base-uncased/vocab.txt";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "shared data not found: " << path;
  auto tok = tokenizers::Tokenizer::from_path(path);
  MlmVocab v = MlmVocab::from_tokenizer(tok);
  EXPECT_EQ(v.vocab_size, 30522);
  EXPECT_EQ(v.pad_id, 0);
  EXPECT_EQ(v.cls_id, 101);
  EXPECT_EQ(v.sep_id, 102);
  EXPECT_EQ(v.mask_id, 103);
  EXPECT_TRUE(v.is_special(100));  // [UNK]
  EXPECT_FALSE(v.is_special(1996));  // "the"
  EXPECT_TRUE(v.is_continuation(*tok.token_to_id("##s")));
  EXPECT_FALSE(v.is_continuation(*tok.token_to_id("#")));
}
