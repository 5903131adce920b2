// tests/tokenizers/test_truncation.cpp — pair truncation (truncate_pair in
// qkv/tokenizers/tokenizer.h) against Hugging Face's rule for longest_first.
#include <gtest/gtest.h>

#include "qkv/core/error.h"
#include "qkv/tokenizers/tokenizer.h"

using namespace qkv::tokenizers;

namespace {

Encoding of_length(size_t n) {
  Encoding e;
  for (size_t i = 0; i < n; ++i) {
    e.ids.push_back(int64_t(i));
    e.tokens.push_back(std::to_string(i));
    e.offsets.push_back({uint32_t(i), uint32_t(i + 1)});
  }
  return e;
}

std::pair<size_t, size_t> cut(size_t na, size_t nb, size_t max_length, size_t special = 0) {
  Encoding a = of_length(na), b = of_length(nb);
  truncate_pair(a, &b, {.max_length = max_length}, special);
  EXPECT_EQ(a.tokens.size(), a.size());
  EXPECT_EQ(b.offsets.size(), b.size());
  return {a.size(), b.size()};
}

using P = std::pair<size_t, size_t>;

}  // namespace

TEST(TokTruncation, LongestFirstMatchesHuggingFaceTable) {
  // The table of truncate_encodings_longest_first in huggingface/tokenizers
  // (src/utils/truncation.rs): lengths 0, 2, 4, 8 in a budget of 7.
  const size_t len[] = {0, 2, 4, 8};
  const P want[4][4] = {{{0, 0}, {0, 2}, {0, 4}, {0, 7}},
                        {{2, 0}, {2, 2}, {2, 4}, {2, 5}},
                        {{4, 0}, {4, 2}, {3, 4}, {3, 4}},
                        {{7, 0}, {5, 2}, {4, 3}, {3, 4}}};
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) EXPECT_EQ(cut(len[i], len[j], 7), want[i][j]) << len[i] << " + " << len[j];
}

TEST(TokTruncation, SpecialTokensComeOffTheBudgetAndOtherStrategies) {
  EXPECT_EQ(cut(8, 4, 10, 3), (P{4, 3}));   // BERT pair: max_length 10 leaves 7
  EXPECT_EQ(cut(20, 1, 10, 3), (P{6, 1}));  // only the longer one is cut
  EXPECT_EQ(cut(9, 9, 10, 3), (P{3, 4}));   // a tie: the second keeps the odd token
  EXPECT_EQ(cut(3, 3, 0, 3), (P{3, 3}));    // max_length 0: no truncation
  Encoding a = of_length(9), b = of_length(5);
  truncate_pair(a, &b, {.max_length = 10, .strategy = TruncationOptions::Strategy::OnlyFirst}, 3);
  EXPECT_EQ(P(a.size(), b.size()), (P{2, 5}));
  Encoding c = of_length(9), d = of_length(5);
  EXPECT_THROW(truncate_pair(c, &d, {.max_length = 10, .strategy = TruncationOptions::Strategy::OnlySecond}, 3),
               qkv::ValueError);
  Encoding single = of_length(9);
  truncate_pair(single, nullptr, {.max_length = 5}, 2);
  EXPECT_EQ(single.size(), 3u);
}
