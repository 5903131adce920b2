// train::score_at_length: the same targets at every length, each chunk scored
// from the window that ends with it, and a clear "cannot run" for a learned
// table asked past block_size.
#include <gtest/gtest.h>

#include <cmath>

#include "qkv/autograd/autograd.h"
#include "qkv/models/gpt.h"
#include "qkv/ops/ops.h"
#include "qkv/train/eval_lengths.h"

using namespace qkv;

namespace {

std::unique_ptr<models::GPT> tiny(const std::string& pos, Generator& gen) {
  models::GPTConfig c;
  c.vocab_size = 11, c.n_layer = 1, c.n_head = 2, c.n_embd = 8, c.block_size = 8, c.pos_encoding = pos;
  auto m = std::make_unique<models::GPT>(c, gen);
  m->eval();
  return m;
}

std::vector<int64_t> stream(int64_t n) {
  std::vector<int64_t> v;
  for (int64_t i = 0; i < n; ++i) v.push_back((i * 7 + i / 3) % 11);
  return v;
}

// Mean cross-entropy of the last `k` predictions of one forward over x.
double last_k_loss(const models::GPT& m, const std::vector<int64_t>& v, int64_t a, int64_t L, int64_t k) {
  NoGradGuard ng;
  Generator gen(0);
  std::vector<int64_t> x(v.begin() + a, v.begin() + a + L), y(v.begin() + a + 1, v.begin() + a + L + 1);
  for (int64_t t = 0; t < L - k; ++t) y[t] = -100;
  return static_cast<double>(cross_entropy(m.forward(tensor_i64(x, {1, L}), gen), tensor_i64(y, {1, L})).item());
}

}  // namespace

TEST(EvalLengths, OneChunkIsTheLastHalfOfOneWindow) {
  Generator gen(3);
  const auto model = tiny("rope", gen);
  const models::GPT& m = *model;
  // 8 + 4 tokens, first = 8: one chunk of 4 targets (8 … 11), window [3, 11).
  const std::vector<int64_t> v = stream(12);
  const train::LengthScore s = train::score_at_length(m, v, 8, {.first = 8});
  ASSERT_TRUE(s.error.empty()) << s.error;
  EXPECT_EQ(s.targets, 4);
  EXPECT_NEAR(s.loss, last_k_loss(m, v, 3, 8, 4), 1e-5);
  EXPECT_NEAR(s.perplexity(), std::exp(s.loss), 1e-9);
}

TEST(EvalLengths, EveryLengthScoresTheSameTargetsInAnyBatching) {
  Generator gen(5);
  const auto model = tiny("alibi", gen);
  const models::GPT& m = *model;
  const std::vector<int64_t> v = stream(203);
  double at16 = 0;
  for (int64_t L : {4, 8, 16, 32}) {
    const train::LengthScore a = train::score_at_length(m, v, L, {.first = 32, .batch = 1});
    const train::LengthScore b = train::score_at_length(m, v, L, {.first = 32, .batch = 5});
    EXPECT_EQ(a.targets, 203 - 32) << L;
    EXPECT_EQ(b.targets, a.targets) << L;
    EXPECT_NEAR(a.loss, b.loss, 1e-6) << L;
    if (L == 16) at16 = a.loss;
  }
  const train::LengthScore capped = train::score_at_length(m, v, 16, {.first = 32, .max_targets = 50});
  EXPECT_EQ(capped.targets, 50);
  EXPECT_NE(capped.loss, at16);  // another set of targets
}

TEST(EvalLengths, LearnedPositionsPastTheirTableCannotRun) {
  Generator gen(7);
  const auto model = tiny("learned", gen);
  const models::GPT& m = *model;
  const std::vector<int64_t> v = stream(100);
  EXPECT_TRUE(train::score_at_length(m, v, 8, {.first = 16}).error.empty());
  const train::LengthScore s = train::score_at_length(m, v, 16, {.first = 16});
  EXPECT_NE(s.error.find("block_size 8"), std::string::npos) << s.error;
  EXPECT_EQ(s.targets, 0);
  EXPECT_TRUE(std::isnan(s.loss));
}

TEST(EvalLengths, BadArgumentsAreErrors) {
  Generator gen(9);
  const auto model = tiny("none", gen);
  const models::GPT& m = *model;
  const std::vector<int64_t> v = stream(40);
  EXPECT_THROW(train::score_at_length(m, v, 1), ValueError);                  // length < 2
  EXPECT_THROW(train::score_at_length(m, v, 8, {.first = 4}), ValueError);    // first inside the window
  EXPECT_THROW(train::score_at_length(m, v, 8, {.first = 40}), ValueError);   // nothing left to score
  EXPECT_THROW(train::score_at_length(m, v, 8, {.batch = 0}), ValueError);
}
