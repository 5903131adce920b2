// Hand-computed classification cases (include/qkv/metrics/classification.h):
// each expected value is worked out in the comment beside it from
// scikit-learn's definitions.
#include <gtest/gtest.h>

#include <cmath>

#include "io/io_test_util.h"
#include "qkv/core/error.h"
#include "qkv/metrics/classification.h"

namespace m = qkv::metrics;
using qkv::testing::expect_error;

TEST(MetricClassification, PerLabelAndAveragesWithAClassNeverPredicted) {
  // gold a a b c / pred a b b a:
  //   a: tp 1, predicted 2, support 2 → P .5  R .5  F .5
  //   b: tp 1, predicted 2, support 1 → P .5  R 1   F 2/3
  //   c: tp 0, predicted 0, support 1 → P 0 (zero_division) R 0 F 0
  const m::ClassificationReport r = m::classification_report({"a", "a", "b", "c"}, {"a", "b", "b", "a"});
  ASSERT_EQ(r.per_label.size(), 3u);
  EXPECT_EQ(r.per_label[2].label, "c");
  EXPECT_EQ(r.per_label[2].predicted, 0);
  EXPECT_EQ(r.per_label[2].precision, 0.0);
  EXPECT_DOUBLE_EQ(r.per_label[1].f1, 2.0 / 3);
  // macro: P (.5+.5+0)/3, R (.5+1+0)/3, F (.5+2/3+0)/3 = 7/18 — c's 0 precision counts
  EXPECT_DOUBLE_EQ(r.macro.precision, 1.0 / 3);
  EXPECT_DOUBLE_EQ(r.macro.recall, 0.5);
  EXPECT_DOUBLE_EQ(r.macro.f1, 7.0 / 18);
  // weighted by support 2,1,1: P (1+.5)/4, R (1+1)/4, F (1+2/3)/4
  EXPECT_DOUBLE_EQ(r.weighted.precision, 0.375);
  EXPECT_DOUBLE_EQ(r.weighted.recall, 0.5);
  EXPECT_DOUBLE_EQ(r.weighted.f1, 5.0 / 12);
  // micro over every label = accuracy = 2/4
  EXPECT_DOUBLE_EQ(r.micro.precision, 0.5);
  EXPECT_DOUBLE_EQ(r.micro.f1, 0.5);
  EXPECT_DOUBLE_EQ(r.accuracy, 0.5);
  EXPECT_EQ(r.correct, 2);
  EXPECT_EQ(r.micro.support, 4);
  // MCC: t = (2,1,1), p = (2,2,0), c = 2, s = 4: (8 − 6) / sqrt((16 − 8)(16 − 6)) = 2/sqrt(80)
  EXPECT_DOUBLE_EQ(r.mcc, 2 / std::sqrt(80.0));
}

TEST(MetricClassification, GivenLabelsRestrictTheReportAndMicroAverage) {
  // labels = [b, z]: b as above; z never occurs → all 0; micro over b only:
  // tp 1, predicted 2, support 1 → P .5, R 1, F 2/3; weighted = b's (z has support 0).
  const m::ClassificationReport r = m::classification_report({"a", "a", "b", "c"}, {"a", "b", "b", "a"}, {"b", "z"});
  ASSERT_EQ(r.per_label.size(), 2u);
  EXPECT_EQ(r.per_label[0].label, "b");
  EXPECT_EQ(r.per_label[1].label, "z");
  EXPECT_EQ(r.per_label[1].f1, 0.0);
  EXPECT_DOUBLE_EQ(r.micro.precision, 0.5);
  EXPECT_DOUBLE_EQ(r.micro.recall, 1.0);
  EXPECT_DOUBLE_EQ(r.micro.f1, 2.0 / 3);
  EXPECT_DOUBLE_EQ(r.macro.precision, 0.25);
  EXPECT_DOUBLE_EQ(r.macro.f1, 1.0 / 3);
  EXPECT_DOUBLE_EQ(r.weighted.f1, 2.0 / 3);
  EXPECT_DOUBLE_EQ(r.accuracy, 0.5);  // still over every pair
  // only labels that never occur: supports sum to 0 → weighted is 0, not NaN
  const m::ClassificationReport z = m::classification_report({"a"}, {"a"}, {"q"});
  EXPECT_EQ(z.weighted.f1, 0.0);
  EXPECT_EQ(z.micro.precision, 0.0);
}

TEST(MetricClassification, LabelsSortByCodePoint) {
  const m::ClassificationReport r = m::classification_report({"b", "\u00e9", "10", "9"}, {"B", "a", "10", "9"});
  std::vector<std::string> order;
  for (const auto& l : r.per_label) order.push_back(l.label);
  EXPECT_EQ(order, (std::vector<std::string>{"10", "9", "B", "a", "b", "\u00e9"}));
}

TEST(MetricClassification, MccEdges) {
  EXPECT_DOUBLE_EQ(m::matthews_corrcoef({"0", "1", "1"}, {"0", "1", "1"}), 1.0);
  EXPECT_DOUBLE_EQ(m::matthews_corrcoef({"0", "1"}, {"1", "0"}), -1.0);
  EXPECT_EQ(m::matthews_corrcoef({"0", "1", "1"}, {"1", "1", "1"}), 0.0);  // one predicted class: denominator 0
}

TEST(MetricClassification, BadInput) {
  expect_error<qkv::ValueError>([] { m::accuracy({"a", "b", "c"}, {"a", "b"}); },
                                {"3 gold labels but 2 predicted labels"});
  expect_error<qkv::ValueError>([] { m::classification_report({"a"}, {"a", "b"}); }, {"1 gold labels but 2 predicted"});
  expect_error<qkv::ValueError>([] { m::matthews_corrcoef({}, {}); }, {"no labels to score"});
  expect_error<qkv::ValueError>([] { m::classification_report({"a"}, {"a"}, {"a", "b", "a"}); },
                                {"label 'a' is listed twice"});
}
