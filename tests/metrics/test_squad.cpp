// Hand-worked SQuAD cases (include/qkv/metrics/squad.h): normalisation order,
// articles as whole \w-runs, Unicode, the v1/v2 F1 difference on empty
// answers, corpus scores and the best-threshold search of evaluate-v2.0.py.
#include <gtest/gtest.h>

#include "io/io_test_util.h"
#include "qkv/core/error.h"
#include "qkv/metrics/squad.h"

namespace m = qkv::metrics;
using qkv::testing::expect_error;

TEST(MetricSquad, NormalisePunctuationArticlesWhitespace) {
  EXPECT_EQ(m::squad_normalize("The Cat, the HAT!"), "cat hat");
  EXPECT_EQ(m::squad_normalize("an apple a day"), "apple day");
  EXPECT_EQ(m::squad_normalize("  An\tapple\u00a0a\u3000day \n"), "apple day");  // Python whitespace
  // punctuation goes first: "the-end" becomes "theend" (no article left), "(the)" becomes "the" → removed
  EXPECT_EQ(m::squad_normalize("the-end"), "theend");
  EXPECT_EQ(m::squad_normalize("(the)"), "");
  EXPECT_EQ(m::squad_normalize("U.S.A."), "usa");
  EXPECT_EQ(m::squad_normalize("a_b _a_"), "ab");  // '_' is punctuation: "_a_" → "a" → removed
  EXPECT_EQ(m::squad_normalize("$5, 1,000 & 3.14"), "5 1000 314");
}

TEST(MetricSquad, ArticlesAreWholeWordsByPythonsUnicodeWordRule) {
  EXPECT_EQ(m::squad_normalize("a1 th\u00e9a a\u00e9 the2"), "a1 th\u00e9a a\u00e9 the2");  // letters/digits glue
  EXPECT_EQ(m::squad_normalize("a\u4e00 an\u00b2 the\u2160"), "a\u4e00 an\u00b2 the\u2170");  // CJK, ², Ⅰ are \w
  EXPECT_EQ(m::squad_normalize("a\u0301"), "\u0301");       // a combining mark is not \w
  EXPECT_EQ(m::squad_normalize("\u00abthe\u00bb"), "\u00ab \u00bb");  // « » are not ASCII punctuation
  EXPECT_EQ(m::squad_normalize("na\u00efve\u2014the"), "na\u00efve\u2014");
  EXPECT_EQ(m::squad_normalize("THE \u0130stanbul"), "i\u0307stanbul");  // Python's lower: İ → i + U+0307
  EXPECT_EQ(m::squad_normalize("\u212a"), "k");                         // KELVIN SIGN lowercases to k
}

TEST(MetricSquad, ExactMatchAndF1) {
  EXPECT_TRUE(m::squad_exact_match("The cat.", "cat"));
  EXPECT_FALSE(m::squad_exact_match("cats", "cat"));
  // [cat sat] vs [cat sat on mat]: common 2, P 1, R .5 → 2/3
  EXPECT_DOUBLE_EQ(m::squad_f1_v1("the cat sat", "cat sat on the mat"), 2.0 / 3);
  // Counter overlap clips: [cat cat cat] vs [cat]: common 1, P 1/3, R 1 → .5
  EXPECT_DOUBLE_EQ(m::squad_f1_v1("cat cat cat", "cat"), 0.5);
  EXPECT_DOUBLE_EQ(m::squad_f1_v2("cat cat cat", "cat"), 0.5);
  // empty answers: v1 scores F1 0 whenever nothing is common, v2 scores agreement on emptiness
  EXPECT_TRUE(m::squad_exact_match("", "the"));
  EXPECT_EQ(m::squad_f1_v1("", "the"), 0.0);
  EXPECT_EQ(m::squad_f1_v2("", "the"), 1.0);
  EXPECT_EQ(m::squad_f1_v2("", "cat"), 0.0);
  EXPECT_EQ(m::squad_f1_v2("cat", ""), 0.0);
}

TEST(MetricSquad, V1CorpusCountsMissingPredictionsAsZero) {
  // q1: "Paris" vs [Paris, the city of Paris] → EM 1, F1 1; q2 missing → 0;
  // q3: "whale" vs [blue whale] → EM 0, F1 2·1·.5/1.5 = 2/3.
  const std::vector<m::SquadQuestion> qs = {
      {"q1", {"Paris", "the city of Paris"}}, {"q2", {"1990"}}, {"q3", {"blue whale"}}};
  const m::SquadV1Result r = m::squad_v1_evaluate(qs, {{"q1", "Paris"}, {"q3", "whale"}, {"zz", "extra"}});
  EXPECT_EQ(r.total, 3);
  EXPECT_DOUBLE_EQ(r.exact_match, 100.0 / 3);
  EXPECT_DOUBLE_EQ(r.f1, 100.0 * (1 + 2.0 / 3) / 3);
  EXPECT_EQ(r.missing, (std::vector<std::string>{"q2"}));
  expect_error<qkv::ValueError>([] { m::squad_v1_evaluate({{"q", {}}}, {{"q", ""}}); }, {"'q' has no gold answer"});
  expect_error<qkv::ValueError>([] { m::squad_v1_evaluate({{"q", {"a"}}, {"q", {"b"}}}, {}); }, {"'q' appears twice"});
}

TEST(MetricSquad, V2HasAnsNoAnsThresholdAndBestThreshold) {
  // q1 answerable, "Paris" → 1; q2 unanswerable, "" → 1; q3 unanswerable, "London" → 0;
  // q4's only answer "the" normalises to nothing → gold [""], and "" → 1, but it
  // counts as HasAns (its raw answer list is not empty).
  const std::vector<m::SquadQuestion> qs = {{"q1", {"Paris"}}, {"q2", {}}, {"q3", {}}, {"q4", {"the"}}};
  const m::SquadPredictions preds = {{"q1", "Paris"}, {"q2", ""}, {"q3", "London"}, {"q4", ""}};
  const m::SquadV2Result r = m::squad_v2_evaluate(qs, preds);
  EXPECT_DOUBLE_EQ(r.all.exact, 75.0);
  ASSERT_TRUE(r.has_ans && r.no_ans);
  EXPECT_DOUBLE_EQ(r.has_ans->exact, 100.0);
  EXPECT_EQ(r.has_ans->total, 2);
  EXPECT_DOUBLE_EQ(r.no_ans->f1, 50.0);
  EXPECT_FALSE(r.has_best);
  // probabilities q1 .1, q2 .9, q3 .8, q4 .2, threshold .5: q2 and q3 become "no answer" → q3 now right
  m::SquadV2Options o;
  o.na_probs = std::vector<std::pair<std::string, double>>{{"q2", 0.9}, {"q1", 0.1}, {"q3", 0.8}, {"q4", 0.2}};
  o.na_prob_thresh = 0.5;
  const m::SquadV2Result t = m::squad_v2_evaluate(qs, preds, o);
  EXPECT_DOUBLE_EQ(t.all.exact, 100.0);
  // best threshold: start at 2 (the unanswerable ones); by probability q1 +1 → 3 (at .1),
  // q4 +1 → 4 (at .2), q3 −1 (answered "London") → 3, q2 +0 → 3: best 4/4 at .2
  ASSERT_TRUE(t.has_best);
  EXPECT_DOUBLE_EQ(t.best_exact, 100.0);
  EXPECT_EQ(t.best_exact_thresh, 0.2);
  EXPECT_DOUBLE_EQ(t.best_f1, 100.0);
}

TEST(MetricSquad, V2BadInput) {
  const std::vector<m::SquadQuestion> qs = {{"q1", {"Paris"}}, {"q2", {}}};
  expect_error<qkv::ValueError>([&] { m::squad_v2_evaluate(qs, {{"q1", "x"}}); }, {"no prediction for question 'q2'"});
  m::SquadV2Options o;
  o.na_probs = std::vector<std::pair<std::string, double>>{{"q1", 0.5}};
  expect_error<qkv::ValueError>([&] { m::squad_v2_evaluate(qs, {{"q1", "x"}, {"q2", ""}}, o); },
                                {"no no-answer probability for question 'q2'"});
}
