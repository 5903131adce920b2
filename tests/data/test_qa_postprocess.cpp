// tests/data/test_qa_postprocess.cpp — start/end logits → answers
// (postprocess_qa_predictions, qkv/data/qa.h): hand-made logits, the cases
// of tests/fixtures/qa/postprocess_cases.json (written by
// make_qa_postprocess_fixture.py, a stdlib transcription of Hugging Face's
// utils_qa.postprocess_qa_predictions), bad input, and gold-position logits
// on the shared SQuAD 2.0 subset giving back the answers.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "io/io_test_util.h"
#include "qkv/data/qa.h"

using namespace qkv;
using namespace qkv::data;
using nlohmann::json;
using qkv::testing::expect_error;

namespace {

using Span = std::optional<std::pair<size_t, size_t>>;
using Logits = std::vector<std::vector<float>>;

// "The cat sat on the mat." as [CLS] q [SEP] the cat sat on the mat . [SEP]
const std::string kCtx = "The cat sat on the mat.";
QaFeature cat_feature(size_t example_index = 0) {
  QaFeature f;
  f.example_index = example_index;
  f.offsets = {std::nullopt, std::nullopt, std::nullopt, std::pair{0, 3}, std::pair{4, 7}, std::pair{8, 11},
               std::pair{12, 14}, std::pair{15, 18}, std::pair{19, 22}, std::pair{22, 23}, std::nullopt};
  return f;
}
SquadExample cat_example(const std::string& id) {
  SquadExample e;
  e.id = id;
  e.context = kCtx;
  return e;
}

// Logits that are `base` everywhere except the given positions.
std::vector<float> logits(std::initializer_list<std::pair<size_t, float>> at, size_t n = 11, float base = -5) {
  std::vector<float> v(n, base);
  for (auto [i, x] : at) v[i] = x;
  return v;
}

}  // namespace

TEST(DataQaPostprocess, BestSpanAndItsText) {
  // start best at "mat" (8), end best at "." (9): "mat."; the question token (1) is never chosen
  Logits st = {logits({{1, 9}, {8, 4}, {4, 3}})}, en = {logits({{1, 9}, {9, 5}, {5, 2}})};
  auto p = postprocess_qa_predictions({cat_example("a")}, {cat_feature()}, st, en, {});
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].id, "a");
  EXPECT_EQ(p[0].text, "mat.");
  EXPECT_FALSE(p[0].null_score_diff);
  ASSERT_GE(p[0].nbest.size(), 3u);
  EXPECT_EQ(p[0].nbest[0].score, 9.f);
  EXPECT_EQ(p[0].nbest[0].char_start, 19u);
  EXPECT_EQ(p[0].nbest[0].char_end, 23u);
  // next: start "cat" (3) with end "." (5) = 8, then "cat sat" (3 + 2) = 5
  EXPECT_EQ(p[0].nbest[1].text, "cat sat on the mat.");
  EXPECT_EQ(p[0].nbest[1].score, 8.f);
  EXPECT_EQ(p[0].nbest[2].text, "cat sat");
  double sum = 0;
  for (const QaCandidate& c : p[0].nbest) sum += c.probability;
  EXPECT_NEAR(sum, 1.0, 1e-9);
  EXPECT_NEAR(p[0].nbest[0].probability / p[0].nbest[1].probability, std::exp(1.0), 1e-6);
  // max_answer_length 3 drops "cat sat on the mat." (6 tokens); end < start is never kept
  auto q = postprocess_qa_predictions({cat_example("a")}, {cat_feature()}, st, en, {.max_answer_length = 3});
  for (const QaCandidate& c : q[0].nbest) EXPECT_NE(c.text, "cat sat on the mat.");
  EXPECT_EQ(q[0].nbest[1].text, "cat sat");
  // n_best_size 1: only the top start and the top end, here both the question token → no span → "empty"
  auto r = postprocess_qa_predictions({cat_example("a")}, {cat_feature()}, st, en, {.n_best_size = 1});
  EXPECT_EQ(r[0].text, "empty");
  ASSERT_EQ(r[0].nbest.size(), 1u);
  EXPECT_EQ(r[0].nbest[0].probability, 1.0);
}

TEST(DataQaPostprocess, NullAnswerAndThreshold) {
  // two windows of one example; their null scores are 2 + 2 = 4 and 1 + 0.5 = 1.5: the smaller counts
  Logits st = {logits({{0, 2}, {4, 3}}), logits({{0, 1}, {6, 1}})};
  Logits en = {logits({{0, 2}, {5, 1}}), logits({{0, 0.5f}, {7, 1}})};
  std::vector<QaFeature> f = {cat_feature(), cat_feature()};
  QaPostprocessOptions v2{.version_2_with_negative = true};
  auto p = postprocess_qa_predictions({cat_example("b")}, f, st, en, v2);
  // best span "cat sat" = 3 + 1 = 4; null 1.5; diff = 1.5 − 4 = −2.5 ≤ 0 → the span
  EXPECT_EQ(p[0].text, "cat sat");
  ASSERT_TRUE(p[0].null_score_diff);
  EXPECT_FLOAT_EQ(*p[0].null_score_diff, -2.5f);
  bool has_null = false;
  for (const QaCandidate& c : p[0].nbest) has_null |= c.text.empty() && c.score == 1.5f;
  EXPECT_TRUE(has_null);
  // a threshold below the difference answers "" (no answer)
  v2.null_score_diff_threshold = -3;
  EXPECT_EQ(postprocess_qa_predictions({cat_example("b")}, f, st, en, v2)[0].text, "");
  // a high null score: no answer at threshold 0
  st[0][0] = st[1][0] = 10;
  en[0][0] = en[1][0] = 10;
  auto q = postprocess_qa_predictions({cat_example("b")}, f, st, en, {.version_2_with_negative = true});
  EXPECT_EQ(q[0].text, "");
  EXPECT_FLOAT_EQ(*q[0].null_score_diff, 20.f - 4.f);
  EXPECT_EQ(q[0].nbest[0].text, "");
}

TEST(DataQaPostprocess, BadInput) {
  Logits st = {logits({})}, en = {logits({})};
  const std::vector<SquadExample> ex = {cat_example("a")};
  expect_error<ValueError>([&] { postprocess_qa_predictions(ex, {cat_feature(), cat_feature()}, st, en); },
                           {"2 features but 1 rows of start logits"});
  expect_error<ValueError>([&] { postprocess_qa_predictions(ex, {cat_feature()}, {logits({}, 5)}, en); },
                           {"feature 0 has 11 tokens but 5 start"});
  expect_error<ValueError>([&] { postprocess_qa_predictions(ex, {cat_feature(3)}, st, en); },
                           {"feature 0 belongs to example 3 of 1"});
  expect_error<ValueError>(
      [&] { postprocess_qa_predictions({cat_example("a"), cat_example("lonely")}, {cat_feature()}, st, en); },
      {"example 1 (id lonely) has no feature"});
  // longer rows (padding) are fine; a padded position never wins
  auto p = postprocess_qa_predictions(ex, {cat_feature()}, {logits({{12, 50}, {3, 1}}, 14)},
                                      {logits({{13, 50}, {4, 1}}, 14)});
  EXPECT_EQ(p[0].text, "The cat");
}

TEST(DataQaPostprocess, MatchesTheReferenceScript) {
  const std::string path = std::string(QKV_TEST_FIXTURES) + "/qa/postprocess_cases.json";
  std::ifstream in(path);
  ASSERT_TRUE(in) << path;
  const json fixture = json::parse(in);
  size_t checked = 0;
  for (const json& c : fixture["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    std::vector<SquadExample> examples;
    for (const json& e : c["examples"]) {
      examples.emplace_back();
      examples.back().id = e["id"];
      examples.back().context = e["context"];
    }
    std::vector<QaFeature> features;
    for (const json& f : c["features"]) {
      features.emplace_back();
      features.back().example_index = f["example_index"];
      for (const json& o : f["offsets"])
        features.back().offsets.push_back(o.is_null() ? Span{} : Span{{o[0].get<size_t>(), o[1].get<size_t>()}});
    }
    const json& o = c["options"];
    QaPostprocessOptions opt{.n_best_size = o["n_best_size"], .max_answer_length = o["max_answer_length"],
                             .version_2_with_negative = o["version_2_with_negative"],
                             .null_score_diff_threshold = o["null_score_diff_threshold"].get<float>()};
    auto preds = postprocess_qa_predictions(examples, features, c["start_logits"].get<Logits>(),
                                            c["end_logits"].get<Logits>(), opt);
    ASSERT_EQ(preds.size(), c["expected"].size());
    for (size_t k = 0; k < preds.size(); ++k) {
      const json& want = c["expected"][k];
      EXPECT_EQ(preds[k].id, want["id"]);
      EXPECT_EQ(preds[k].text, want["text"]);
      ASSERT_EQ(preds[k].nbest.size(), want["nbest"].size());
      for (size_t i = 0; i < preds[k].nbest.size(); ++i) {
        const QaCandidate& got = preds[k].nbest[i];
        const json& w = want["nbest"][i];
        EXPECT_EQ(got.text, w["text"]) << "candidate " << i;
        EXPECT_EQ(got.score, w["score"].get<float>()) << "candidate " << i;
        EXPECT_EQ(got.start_logit, w["start_logit"].get<float>()) << "candidate " << i;
        EXPECT_NEAR(got.probability, w["probability"].get<double>(), 1e-6) << "candidate " << i;
      }
      if (want.contains("null_score_diff")) {
        ASSERT_TRUE(preds[k].null_score_diff);
        EXPECT_EQ(*preds[k].null_score_diff, want["null_score_diff"].get<float>());
      } else {
        EXPECT_FALSE(preds[k].null_score_diff);
      }
      ++checked;
    }
  }
  EXPECT_EQ(checked, 11u);  // every example of every case
}

TEST(DataQaPostprocess, GoldPositionsGiveBackTheAnswers) {
  const std::string shared = QKV_SHARED_DATA;
  const std::string vocab = shared + "/tokenizers/bert-base-uncased/vocab.txt", v2 = shared + "/squad/dev-v2.0-first5.json";
  if (!std::filesystem::exists(vocab) || !std::filesystem::exists(v2)) GTEST_SKIP() << "shared data not found";
  auto bert = tokenizers::Tokenizer::from_path(vocab);
  auto examples = read_squad(v2);
  auto features = prepare_qa_features(bert, examples, {.max_length = 128, .doc_stride = 48});
  // a model that is sure of the gold labels: 10 at the labelled start / end (at [CLS] for "no answer here")
  Logits st, en;
  for (const QaFeature& f : features) {
    st.push_back(std::vector<float>(f.offsets.size(), 0.f));
    en.push_back(std::vector<float>(f.offsets.size(), 0.f));
    st.back()[size_t(f.start_position)] = 10;
    en.back()[size_t(f.end_position)] = 10;
  }
  auto preds = postprocess_qa_predictions(examples, features, st, en, {.version_2_with_negative = true});
  size_t right_null = 0, right_text = 0, answerable = 0;
  for (size_t k = 0; k < examples.size(); ++k) {
    const SquadExample& e = examples[k];
    if (e.is_impossible) {
      right_null += preds[k].text.empty();
      continue;
    }
    // a window holding the answer has null score 0 and the span 20 → the span
    ++answerable;
    const std::string& want = e.answers[0].text;
    EXPECT_NE(preds[k].text.find(want), std::string::npos) << e.id << ": '" << preds[k].text << "' vs '" << want << "'";
    right_text += preds[k].text == want;
  }
  EXPECT_EQ(right_null, 702u);
  EXPECT_GT(right_text, answerable * 95 / 100);
  std::printf("[ squad v2 gold logits ] %zu/%zu answers exact, %zu/702 no-answers\n", right_text, answerable,
              right_null);
}
