// The pipelines (qkv/pipelines): fill-mask, text- and token-classification
// and feature extraction on a tiny random BERT with a WordPiece vocabulary
// written here, checked against the model's own heads computed by hand
// (softmax, top-k, the decoded sequence), Hugging Face's entity grouping on
// hand-made token labels, sentence embeddings, chunking and cosine search;
// and the errors a user meets.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "io/io_test_util.h"
#include "qkv/autograd/autograd.h"
#include "qkv/models/bert.h"
#include "qkv/models/transformer.h"
#include "qkv/ops/ops.h"
#include "qkv/pipelines/encoder.h"
#include "qkv/pipelines/pipelines.h"
#include "support/compare.h"

using namespace qkv;
using qkv::testing::expect_error;
using qkv::testing::max_abs_diff;

namespace {

const std::vector<std::string> kVocab = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "sat", "on",
                                         "mat",   "dog",   "ran",   "black", "##burn", "in",   "paris", "a",   "."};

tokenizers::Tokenizer tiny_tokenizer() {
  qkv::testing::ScratchDir dir;
  const std::string path = dir.path + "/vocab.txt";
  std::ofstream f(path);
  for (const auto& t : kVocab) f << t << "\n";
  f.close();
  return tokenizers::Tokenizer::bert(path, true);
}

std::unique_ptr<models::Bert> tiny_bert(models::BertHead head, std::vector<std::string> labels = {},
                                        int64_t max_pos = 16) {
  models::BertConfig c;
  c.vocab_size = static_cast<int64_t>(kVocab.size());
  c.hidden_size = 16, c.num_attention_heads = 2, c.num_hidden_layers = 2, c.intermediate_size = 32;
  c.max_position_embeddings = max_pos, c.head = head, c.labels = std::move(labels);
  Generator gen(11);
  auto m = std::make_unique<models::Bert>(c, gen);
  m->eval();
  return m;
}

}  // namespace

TEST(FillMask, TopKAreTheSoftmaxOfTheMlmHeadAtEachMask) {
  auto tok = tiny_tokenizer();
  auto m = tiny_bert(models::BertHead::MaskedLM);
  auto res = pipelines::fill_mask(*m, tok, "the [MASK] sat on the [MASK].", 3);
  ASSERT_EQ(res.size(), 2u);
  // By hand: [CLS] the [MASK] sat on the [MASK] . [SEP] → masks at 2 and 6.
  NoGradGuard ng;
  Generator gen(0);
  Tensor ids = tensor_i64({2, 5, 4, 7, 8, 5, 4, 17, 3}, {1, 9});
  Tensor probs = softmax(m->mlm_logits(m->hidden({ids, {}, {}}, gen)), 2);
  for (int k = 0; k < 2; ++k) {
    const int64_t pos = k == 0 ? 2 : 6;
    auto p = probs.select(0, 0).select(0, pos).to_vector();
    ASSERT_EQ(res[k].size(), 3u);
    double prev = 2.0;
    for (const auto& pred : res[k]) {
      EXPECT_NEAR(pred.score, p[pred.token], 1e-6);
      EXPECT_LE(pred.score, prev);
      prev = pred.score;
      EXPECT_EQ(pred.token_str, kVocab[pred.token]);
    }
    const float best = *std::max_element(p.begin(), p.end());
    EXPECT_NEAR(res[k][0].score, best, 1e-6);
  }
  // The sequence puts the token in its mask's place (the other mask stays, decoded without specials).
  const std::string word = res[0][0].token_str;
  EXPECT_EQ(res[0][0].sequence.rfind("the " + word + " sat on the", 0), 0u) << res[0][0].sequence;
}

TEST(FillMask, ErrorsNameTheProblem) {
  auto tok = tiny_tokenizer();
  auto m = tiny_bert(models::BertHead::MaskedLM, {}, 6);
  expect_error<ValueError>([&] { pipelines::fill_mask(*m, tok, "the cat sat"); }, {"no [MASK]", "the cat sat"});
  expect_error<ValueError>([&] { pipelines::fill_mask(*m, tok, "the cat sat on the mat [MASK]"); },
                           {"past the model's 6 tokens"});
  auto cls = tiny_bert(models::BertHead::SequenceClassification, {"neg", "pos"});
  expect_error<ValueError>([&] { pipelines::fill_mask(*cls, tok, "the [MASK]"); },
                           {"masked-LM head", "BertForSequenceClassification"});
}

TEST(TextClassification, LabelsAndScoresAreTheSoftmaxOfTheClassifier) {
  auto tok = tiny_tokenizer();
  auto m = tiny_bert(models::BertHead::SequenceClassification, {"neg", "neutral", "pos"});
  auto all = pipelines::classify_text(*m, tok, "the cat sat", "", 0);
  ASSERT_EQ(all.size(), 3u);
  double total = 0;
  for (const auto& l : all) total += l.score;
  EXPECT_NEAR(total, 1.0, 1e-6);
  EXPECT_GE(all[0].score, all[1].score);
  auto top = pipelines::classify_text(*m, tok, "the cat sat");
  ASSERT_EQ(top.size(), 1u);
  EXPECT_EQ(top[0].label, all[0].label);
  // A pair reads segment B: a different input, so (almost surely) different scores.
  auto pair = pipelines::classify_text(*m, tok, "the cat", "sat", 0);
  EXPECT_NE(pair[0].score, all[0].score);
  auto tokcls = tiny_bert(models::BertHead::TokenClassification, {"O", "B-X"});
  expect_error<ValueError>([&] { pipelines::classify_text(*tokcls, tok, "the cat"); }, {"BertForSequenceClassification"});
}

TEST(TokenClassification, GroupsAsHuggingFaceSimpleAggregation) {
  auto tok = tiny_tokenizer();
  // "black ##burn in paris": B-PER I-PER (O) B-LOC, then two B-LOC in a row stay apart.
  auto t = [](std::string e, double s, int64_t i, int64_t id, int64_t a, int64_t b) {
    pipelines::TokenEntity x;
    x.entity = e, x.score = s, x.index = i, x.token_ids = {id}, x.start = a, x.end = b;
    return x;
  };
  std::vector<pipelines::TokenEntity> tokens = {t("B-PER", 0.9, 1, 12, 0, 5), t("I-PER", 0.7, 2, 13, 5, 9),
                                                t("B-LOC", 0.8, 4, 15, 13, 18), t("B-LOC", 0.6, 5, 15, 19, 24),
                                                t("I-LOC", 0.4, 6, 15, 25, 30)};
  auto g = pipelines::group_entities(tokens, tok);
  ASSERT_EQ(g.size(), 3u);
  EXPECT_EQ(g[0].entity, "PER");
  EXPECT_EQ(g[0].word, "blackburn");
  EXPECT_NEAR(g[0].score, 0.8, 1e-12);
  EXPECT_EQ(g[0].start, 0);
  EXPECT_EQ(g[0].end, 9);
  EXPECT_EQ(g[1].entity, "LOC");
  EXPECT_EQ(g[1].end, 18);
  EXPECT_EQ(g[2].start, 19);
  EXPECT_EQ(g[2].end, 30);
  EXPECT_NEAR(g[2].score, 0.5, 1e-12);
  // I- after a gap (an O token between) starts a new group; so does a type change.
  tokens = {t("I-PER", 0.5, 1, 12, 0, 5), t("I-PER", 0.5, 3, 13, 6, 9), t("I-LOC", 0.5, 4, 15, 10, 15)};
  EXPECT_EQ(pipelines::group_entities(tokens, tok).size(), 3u);
}

TEST(TokenClassification, TokensCarryCharacterOffsetsAndSkipO) {
  auto tok = tiny_tokenizer();
  auto m = tiny_bert(models::BertHead::TokenClassification, {"O", "B-PER", "I-PER"});
  auto tokens = pipelines::classify_tokens(*m, tok, "blackburn in paris", pipelines::Aggregation::None);
  for (const auto& x : tokens) {
    EXPECT_NE(x.entity, "O");
    EXPECT_GE(x.index, 1);
    EXPECT_LT(x.start, x.end);
  }
  auto grouped = pipelines::classify_tokens(*m, tok, "blackburn in paris", pipelines::Aggregation::Simple);
  EXPECT_LE(grouped.size(), tokens.size());
  expect_error<ValueError>([] { pipelines::aggregation_from_name("maximum"); },
                           {"none, simple, first, average or max", "maximum"});
}

// first / average / max (transformers' word-level strategies): "black ##burn"
// is one word whose label comes from its first token, the mean of its two
// tokens' probabilities, or its more confident token. B- labels only (no O),
// so every word is an entity and a group of its own.
TEST(TokenClassification, WordLevelAggregationLabelsWholeWords) {
  auto tok = tiny_tokenizer();
  const std::vector<std::string> labels{"B-A", "B-B", "B-C"};
  auto m = tiny_bert(models::BertHead::TokenClassification, labels);
  const std::string text = "blackburn in paris";
  auto enc = pipelines::TextEncoder::of(*m, tok);
  Generator gen(0);
  const Tensor p = softmax(m->token_logits(enc.hidden(enc.encode({text})), gen).select(0, 0), 1);  // (T,3)
  auto row = [&](int64_t t) {
    const auto v = p.select(0, t).contiguous().to_vector();
    return std::vector<double>(v.begin(), v.end());
  };
  // tokens: [CLS] black ##burn in paris [SEP]; words: {1, 2}, {3}, {4}
  auto best = [](const std::vector<double>& v) {
    return static_cast<size_t>(std::max_element(v.begin(), v.end()) - v.begin());
  };
  const std::vector<double> black = row(1), burn = row(2), paris = row(4);
  std::vector<double> avg = black;
  for (size_t k = 0; k < 3; ++k) avg[k] = (avg[k] + burn[k]) / 2;
  const std::vector<double>& peak = black[best(black)] >= burn[best(burn)] ? black : burn;
  const std::vector<std::pair<pipelines::Aggregation, std::vector<double>>> cases{
      {pipelines::Aggregation::First, black}, {pipelines::Aggregation::Average, avg}, {pipelines::Aggregation::Max, peak}};
  for (const auto& [how, first_word] : cases) {
    const auto g = pipelines::classify_tokens(*m, tok, text, how);
    ASSERT_EQ(g.size(), 3u);
    EXPECT_EQ(g[0].word, "blackburn");
    EXPECT_EQ(g[0].start, 0);
    EXPECT_EQ(g[0].end, 9);
    EXPECT_EQ(g[0].entity, labels[best(first_word)].substr(2));
    EXPECT_NEAR(g[0].score, first_word[best(first_word)], 1e-6);
    EXPECT_EQ(g[2].word, "paris");
    EXPECT_EQ(g[2].entity, labels[best(paris)].substr(2));
    EXPECT_NEAR(g[2].score, paris[best(paris)], 1e-6);
  }
}

TEST(Embeddings, MeanAndClsPoolingAreUnitVectorsIndependentOfBatching) {
  auto tok = tiny_tokenizer();
  auto m = tiny_bert(models::BertHead::None);
  auto enc = pipelines::TextEncoder::of(*m, tok);
  std::vector<std::string> texts = {"the cat sat on the mat", "a dog", "paris"};
  for (auto pooling : {pipelines::Pooling::Mean, pipelines::Pooling::CLS}) {
    Tensor all = pipelines::embed_texts(enc, texts, pooling, 3);
    Tensor one = pipelines::embed_texts(enc, texts, pooling, 1);  // no padding at all
    EXPECT_LE(max_abs_diff(all, one), 1e-5f);
    for (int64_t r = 0; r < 3; ++r) {
      auto v = all.select(0, r).to_vector();
      double n = 0;
      for (float x : v) n += x * x;
      EXPECT_NEAR(n, 1.0, 1e-5);
    }
  }
  // Mean pooling by hand for the second text: mean of its hidden states.
  auto b = enc.encode({"a dog"});
  Tensor h = enc.hidden(b).select(0, 0);
  Tensor mean = mul(sum(h, {0}), 1.0f / static_cast<float>(h.size(0)));
  mean = div(mean, sqrt(sum(mul(mean, mean))));
  EXPECT_LE(max_abs_diff(pipelines::embed_texts(enc, {"a dog"}, pipelines::Pooling::Mean).select(0, 0), mean), 1e-5f);
  expect_error<ValueError>([] { pipelines::pooling_from_name("max"); }, {"cls or mean"});
}

TEST(Embeddings, SearchRanksByCosineAndChunksCoverTheDocument) {
  Tensor e = tensor({1, 0, 0, 1, 0.6f, 0.8f}, {3, 2});
  auto hits = pipelines::top_k_cosine(e, tensor({0.6f, 0.8f}), 2);
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(hits[0].first, 2);
  EXPECT_NEAR(hits[0].second, 1.0f, 1e-6f);
  EXPECT_EQ(hits[1].first, 1);
  EXPECT_EQ(pipelines::top_k_cosine(e, tensor({1.0f, 0.0f}), 10).size(), 3u);
  expect_error<ShapeError>([&] { pipelines::top_k_cosine(e, tensor({1.0f, 0.0f, 0.0f}), 1); }, {"same width"});

  auto tok = tiny_tokenizer();
  const std::string doc = "the cat sat on the mat. the dog ran in paris.";
  auto chunks = pipelines::chunk_document(tok, doc, 7, 5, 3);
  ASSERT_GE(chunks.size(), 3u);
  EXPECT_EQ(chunks.front().start, 0u);
  EXPECT_EQ(chunks.back().end, doc.size());
  for (size_t i = 0; i < chunks.size(); ++i) {
    EXPECT_EQ(chunks[i].doc, 7);
    EXPECT_EQ(chunks[i].index, static_cast<int64_t>(i));
    EXPECT_EQ(chunks[i].text, doc.substr(chunks[i].start, chunks[i].end - chunks[i].start));
    EXPECT_LE(tok.encode(chunks[i].text).size(), 5u);
    if (i > 0) EXPECT_LT(chunks[i].start, chunks[i - 1].end);  // stride 3 < 5: overlapping
  }
  expect_error<ValueError>([&] { pipelines::chunk_document(tok, doc, 0, 5, 6); }, {"stride <= max_tokens"});
}

TEST(Embeddings, OnlyEncodersEmbed) {
  auto tok = tiny_tokenizer();
  models::Seq2SeqConfig c;
  c.vocab_size = static_cast<int64_t>(kVocab.size());
  c.d_model = 16, c.n_heads = 2, c.n_encoder_layers = 1, c.n_decoder_layers = 1, c.d_ff = 32, c.max_len = 32;
  Generator gen(3);
  models::Transformer tr(c, gen);
  tr.eval();
  auto enc = pipelines::TextEncoder::of(tr, tok);
  Tensor e = pipelines::embed_texts(enc, {"the cat", "a dog ran"}, pipelines::Pooling::Mean);
  EXPECT_EQ(e.shape(), (Shape{2, 16}));
}
