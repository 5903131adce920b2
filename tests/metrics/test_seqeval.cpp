// Hand-worked entity spans and scores (include/qkv/metrics/seqeval.h): the
// lenient (conlleval / seqeval default) and strict IOB2 rules where they part,
// E-/S- tags, invalid tags, and conlleval's report layout.
#include <gtest/gtest.h>

#include "io/io_test_util.h"
#include "qkv/core/error.h"
#include "qkv/metrics/seqeval.h"

namespace m = qkv::metrics;
using m::Entity;
using m::SpanMode;
using qkv::testing::expect_error;
using Tags = std::vector<std::string>;
using Spans = std::vector<Entity>;

TEST(MetricSeqeval, IAfterOStartsAnEntityOnlyInTheDefaultMode) {
  const Tags t = {"O", "I-PER", "I-PER", "O"};
  EXPECT_EQ(m::extract_entities(t), (Spans{{"PER", 1, 2}}));
  EXPECT_EQ(m::extract_entities(t, SpanMode::StrictIob2), Spans{});
  // I- first in the sentence: the same (the sentence starts after an O)
  EXPECT_EQ(m::extract_entities({"I-PER", "B-PER"}), (Spans{{"PER", 0, 0}, {"PER", 1, 1}}));
  EXPECT_EQ(m::extract_entities({"I-PER", "B-PER"}, SpanMode::StrictIob2), (Spans{{"PER", 1, 1}}));
}

TEST(MetricSeqeval, ATypeSwitchEndsTheEntity) {
  const Tags t = {"B-PER", "I-LOC", "I-LOC", "B-PER", "I-PER", "B-PER"};
  EXPECT_EQ(m::extract_entities(t), (Spans{{"PER", 0, 0}, {"LOC", 1, 2}, {"PER", 3, 4}, {"PER", 5, 5}}));
  EXPECT_EQ(m::extract_entities(t, SpanMode::StrictIob2), (Spans{{"PER", 0, 0}, {"PER", 3, 4}, {"PER", 5, 5}}));
  // types may hold '-': "B-X-Y" is type "X-Y", and I-X-Y continues it
  EXPECT_EQ(m::extract_entities({"B-X-Y", "I-X-Y", "I-X"}), (Spans{{"X-Y", 0, 1}, {"X", 2, 2}}));
}

TEST(MetricSeqeval, EndAndSingleTags) {
  // B-LOC E-LOC | S-PER | S-PER | E-ORG (an E after S of another type starts a chunk)
  EXPECT_EQ(m::extract_entities({"B-LOC", "E-LOC", "S-PER", "S-PER", "E-ORG"}),
            (Spans{{"LOC", 0, 1}, {"PER", 2, 2}, {"PER", 3, 3}, {"ORG", 4, 4}}));
  // E ends the chunk: an I-X after it starts another
  EXPECT_EQ(m::extract_entities({"B-X", "I-X", "E-X", "I-X"}), (Spans{{"X", 0, 2}, {"X", 3, 3}}));
  // E-X B-X: two entities (seqeval; conlleval.pl would join them)
  EXPECT_EQ(m::extract_entities({"E-X", "B-X"}), (Spans{{"X", 0, 0}, {"X", 1, 1}}));
  // S-X I-X: the I starts a new chunk
  EXPECT_EQ(m::extract_entities({"S-X", "I-X", "E-X"}), (Spans{{"X", 0, 0}, {"X", 1, 2}}));
  // strict IOB2 refuses E- and S-
  expect_error<qkv::ValueError>([] { m::extract_entities({"O", "S-PER"}, SpanMode::StrictIob2); },
                                {"tag 2: invalid tag 'S-PER'", "strict IOB2"});
  expect_error<qkv::ValueError>([] { m::extract_entities({"E-PER"}, SpanMode::StrictIob2); }, {"'E-PER'"});
}

TEST(MetricSeqeval, InvalidTags) {
  for (const char* bad : {"PER", "X-PER", "B-", "B_PER", "o", "", "BB-PER", "O-PER"}) {
    EXPECT_NE(m::tag_problem(bad, SpanMode::Default), "") << bad;
    expect_error<qkv::ValueError>([&] { m::extract_entities({"O", bad}); },
                                  {"tag 2: invalid tag '" + std::string(bad) + "'"});
  }
  EXPECT_EQ(m::tag_problem("S-PER", SpanMode::Default), "");
  EXPECT_EQ(m::tag_problem("I-X", SpanMode::StrictIob2), "");
  expect_error<qkv::ValueError>([] { m::entity_scores({{"O"}, {"B-X", "Q"}}, {{"O"}, {"B-X", "O"}}); },
                                {"gold sentence 2, tag 2: invalid tag 'Q'"});
  expect_error<qkv::ValueError>([] { m::entity_scores({{"O"}}, {{"O", "O"}}); },
                                {"sentence 1 has 1 gold tags but 2 predicted tags"});
  expect_error<qkv::ValueError>([] { m::entity_scores({{"O"}}, {}); }, {"1 gold sentences but 0 predicted"});
}

TEST(MetricSeqeval, ScoresAndConllevalReport) {
  // gold: PER(0:0-1) LOC(0:3) ORG(1:0); pred: PER(0:0-1) ORG(0:3) ORG(1:0-1)
  //   PER 1/1/1 → 1,1,1; LOC correct 0, predicted 0, support 1; ORG correct 0, predicted 2, support 1
  //   micro: 1 of 3 found, 1 of 3 gold → 1/3; macro F (1+0+0)/3; tags equal 4 of 6
  const m::EntityReport r = m::entity_scores({{"B-PER", "I-PER", "O", "B-LOC"}, {"B-ORG", "O"}},
                                             {{"B-PER", "I-PER", "O", "B-ORG"}, {"B-ORG", "I-ORG"}});
  ASSERT_EQ(r.per_type.size(), 3u);
  EXPECT_EQ(r.per_type[1].type, "ORG");
  EXPECT_EQ(r.per_type[1].predicted, 2);
  EXPECT_EQ(r.per_type[1].correct, 0);
  EXPECT_DOUBLE_EQ(r.micro.precision, 1.0 / 3);
  EXPECT_DOUBLE_EQ(r.micro.f1, 1.0 / 3);
  EXPECT_DOUBLE_EQ(r.macro.f1, 1.0 / 3);
  EXPECT_DOUBLE_EQ(r.token_accuracy, 4.0 / 6);
  EXPECT_EQ(m::format_conlleval(r),
            "processed 6 tokens with 3 phrases; found: 3 phrases; correct: 1.\n"
            "accuracy:  66.67%; precision:  33.33%; recall:  33.33%; FB1:  33.33\n"
            "              LOC: precision:   0.00%; recall:   0.00%; FB1:   0.00  0\n"
            "              ORG: precision:   0.00%; recall:   0.00%; FB1:   0.00  2\n"
            "              PER: precision: 100.00%; recall: 100.00%; FB1: 100.00  1\n");
}

TEST(MetricSeqeval, LenientAndStrictScoresDiffer) {
  // pred I-PER I-PER: one PER(0-1) in the default mode (correct), none in strict mode
  const std::vector<Tags> gold = {{"B-PER", "I-PER", "O"}}, pred = {{"I-PER", "I-PER", "O"}};
  EXPECT_DOUBLE_EQ(m::entity_scores(gold, pred).micro.f1, 1.0);
  const m::EntityReport s = m::entity_scores(gold, pred, SpanMode::StrictIob2);
  EXPECT_EQ(s.predicted, 0);
  EXPECT_EQ(s.micro.precision, 0.0);
  EXPECT_EQ(s.micro.f1, 0.0);
  EXPECT_DOUBLE_EQ(s.token_accuracy, 2.0 / 3);
  // weighted vs macro: gold PER×3, LOC×1; pred finds the 3 PER and misses LOC
  const m::EntityReport w = m::entity_scores({{"B-PER", "B-PER", "B-PER", "B-LOC"}}, {{"B-PER", "B-PER", "B-PER", "O"}});
  EXPECT_DOUBLE_EQ(w.macro.f1, 0.5);      // (1 + 0) / 2
  EXPECT_DOUBLE_EQ(w.weighted.f1, 0.75);  // (3·1 + 1·0) / 4
  EXPECT_DOUBLE_EQ(w.micro.recall, 0.75);
  EXPECT_DOUBLE_EQ(w.micro.precision, 1.0);
}
