// Continuous batching: sequences joining and leaving a running batch decode
// exactly as they do alone (generate()), with the same random streams.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "qkv/generate/continuous.h"
#include "qkv/generate/generate.h"
#include "qkv/kernels/quantized.h"
#include "qkv/models/gpt.h"
#include "qkv/nn/kv_cache.h"
#include "qkv/ops/ops.h"

using namespace qkv;
using generate::ContinuousBatch;
using generate::FinishReason;
using generate::SequenceSpec;
using generate::TokenEvent;

namespace {
std::unique_ptr<models::GPT> model(int64_t vocab = 23, int64_t n_head = 2, int64_t n_embd = 32,
                                   int64_t block_size = 40, uint64_t seed = 11) {
  models::GPTConfig c;
  c.vocab_size = vocab;
  c.n_layer = 2;
  c.n_head = n_head;
  c.n_embd = n_embd;
  c.block_size = block_size;
  Generator gen(seed);
  auto m = std::make_unique<models::GPT>(c, gen);
  m->eval();
  return m;
}

SequenceSpec spec(std::vector<int64_t> prompt, int64_t n, uint64_t seed, float temperature) {
  SequenceSpec s;
  s.prompt = std::move(prompt);
  s.max_new_tokens = n;
  s.sampling.temperature = temperature;
  s.stream = generate::sequence_stream(Generator(seed).next_u64(), 0);
  return s;
}

// What generate() gives the spec alone, with the stream `qkv generate --seed` uses.
std::vector<int64_t> alone(const models::GPT& m, const SequenceSpec& s, uint64_t seed) {
  generate::GenerateOptions o;
  o.max_new_tokens = s.max_new_tokens;
  o.sampling = s.sampling;
  Generator gen(seed);
  auto out = generate::generate(m, {s.prompt}, o, gen);
  return {out[0].begin() + static_cast<long>(s.prompt.size()), out[0].end()};
}
}  // namespace

TEST(KVCacheJoin, AppendRowsRightAlignsAndZeroesThePadding) {
  nn::KVCache a(1, 6, 2, 1), b(2, 6, 2, 1);
  a.layer(0).append(full({1, 3, 2}, 1.0f), full({1, 3, 2}, 2.0f));
  b.layer(0).append(full({2, 1, 2}, 5.0f), full({2, 1, 2}, 6.0f));
  a.append_rows(b);
  EXPECT_EQ(a.batch(), 3);
  EXPECT_EQ(a.length(), 3);
  const std::vector<float> k = a.layer(0).keys().contiguous().to_vector();  // (3,3,2)
  EXPECT_EQ(k, (std::vector<float>{1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 5, 5, 0, 0, 0, 0, 5, 5}));
  a.drop_front(2);
  EXPECT_EQ(a.length(), 1);
  EXPECT_EQ(a.layer(0).values().contiguous().to_vector(), (std::vector<float>{2, 2, 6, 6, 6, 6}));
  nn::KVCache other_capacity(1, 7, 2, 1);
  EXPECT_THROW(a.append_rows(other_capacity), ValueError);
  EXPECT_THROW(a.drop_front(5), ValueError);
}

TEST(ContinuousBatch, StaggeredArrivalsDecodeAsTheyDoAlone) {
  auto m = model();
  const std::vector<SequenceSpec> specs{spec({1, 2, 3, 4, 5}, 12, 7, 0.0f), spec({9}, 9, 8, 1.0f),
                                        spec({4, 4, 4, 20, 1, 2, 3, 8, 9, 10}, 6, 9, 0.8f),
                                        spec({3, 1}, 15, 10, 1.3f)};
  const std::vector<uint64_t> seeds{7, 8, 9, 10};
  ContinuousBatch batch(*m);
  std::map<uint64_t, std::vector<int64_t>> got;
  std::map<uint64_t, size_t> which;
  // Arrivals: one at step 0, two together at step 3, the last at step 5.
  const std::map<int, std::vector<size_t>> arrivals{{0, {0}}, {3, {1, 2}}, {5, {3}}};
  int max_width = 0;
  for (int t = 0; t < 40; ++t) {
    if (arrivals.count(t)) {
      std::vector<SequenceSpec> now;
      for (size_t i : arrivals.at(t)) now.push_back(specs[i]);
      auto ids = batch.add(now);
      for (size_t j = 0; j < ids.size(); ++j) which[ids[j]] = arrivals.at(t)[j];
    }
    for (const TokenEvent& e : batch.step()) got[e.sequence].push_back(e.token);
    max_width = std::max(max_width, static_cast<int>(batch.width()));
  }
  EXPECT_TRUE(batch.empty());
  ASSERT_EQ(got.size(), 4u);
  for (const auto& [id, tokens] : got) {
    const size_t i = which.at(id);
    EXPECT_EQ(tokens, alone(*m, specs[i], seeds[i])) << "sequence " << i;
  }
  EXPECT_LE(max_width, 40);
}

// Bit for bit: a sequence's log-probabilities in a batch of 9 rows of other
// lengths (prefilled with a longer prompt, GEMMs of another shape, left
// padding) equal those of the sequence decoded alone — what makes a seeded sampled request reproducible under load
// (issue #13's soak). Widths chosen so that batched products take other
// kernels than a single row does (M > 4 rows; M·K·4 > 16 KiB).
class RowInvariance : public ::testing::TestWithParam<kernels::WeightFormat> {};

TEST_P(RowInvariance, EveryRowsLogitsAreBitForBitThoseOfTheRowAlone) {
  const auto model_ptr = model(301, 4, 128, 64, 5);
  models::GPT& m = *model_ptr;
  m.quantize(GetParam());
  auto target = [] {
    SequenceSpec s = spec({7, 100, 3, 250, 9, 9, 42}, 20, 3, 1.0f);
    s.logprobs = 3;
    return s;
  };
  auto run = [&](bool crowded) {
    ContinuousBatch batch(m);
    uint64_t id = 0;
    std::vector<TokenEvent> events;
    for (int t = 0; t < 40; ++t) {
      if (t == 0 && !crowded) id = batch.add({target()})[0];
      if (t == 0 && crowded) id = batch.add({spec({5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, 30, 99, 0.7f), target()})[1];
      if (crowded && t < 7) {  // a newcomer of another length at each of the first steps
        std::vector<int64_t> prompt;
        for (int i = 0; i <= 3 * t + 1; ++i) prompt.push_back((37 * i + 11 * t) % 301);
        batch.add({spec(prompt, 25, 100 + t, 0.9f)});
      }
      for (TokenEvent& e : batch.step())
        if (e.sequence == id) events.push_back(std::move(e));
    }
    return events;
  };
  const std::vector<TokenEvent> alone_events = run(false), crowded_events = run(true);
  ASSERT_EQ(alone_events.size(), 20u);
  ASSERT_EQ(crowded_events.size(), 20u);
  for (size_t i = 0; i < alone_events.size(); ++i) {
    const TokenEvent &a = alone_events[i], &b = crowded_events[i];
    EXPECT_EQ(a.token, b.token) << "token " << i;
    EXPECT_EQ(a.logprob, b.logprob) << "token " << i;  // exact, not near
    ASSERT_EQ(a.top.size(), b.top.size());
    for (size_t k = 0; k < a.top.size(); ++k) {
      EXPECT_EQ(a.top[k].first, b.top[k].first) << "token " << i;
      EXPECT_EQ(a.top[k].second, b.top[k].second) << "token " << i << " top " << k;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(ContinuousBatch, RowInvariance,
                         ::testing::Values(kernels::WeightFormat::F32, kernels::WeightFormat::BF16,
                                           kernels::WeightFormat::Int8),
                         [](const auto& info) { return std::string(kernels::weight_format_name(info.param)); });

TEST(ContinuousBatch, PaddingLeavesWithTheLongRowAndCancelFreesARowAtOnce) {
  auto m = model();
  ContinuousBatch batch(*m);
  const SequenceSpec longer = spec({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, 2, 1, 0.0f);
  const SequenceSpec shorter = spec({5}, 10, 2, 0.0f);
  batch.add({longer, shorter});
  EXPECT_EQ(batch.width(), 12);
  batch.step();
  batch.step();  // the long row's second token: it leaves
  EXPECT_EQ(batch.size(), 1u);
  EXPECT_EQ(batch.width(), 3) << "columns only the long row used are dropped";
  const auto third = batch.add({spec({7, 7}, 10, 3, 1.0f)});
  batch.cancel(third[0]);
  const auto events = batch.step();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_NE(events[0].sequence, third[0]);
  std::vector<int64_t> rest{events[0].token};
  while (!batch.empty())
    for (const TokenEvent& e : batch.step()) rest.push_back(e.token);
  const std::vector<int64_t> expected = alone(*m, shorter, 2);
  EXPECT_EQ(rest, std::vector<int64_t>(expected.begin() + 2, expected.end()));
}

TEST(ContinuousBatch, StopIdsLengthAndLogprobs) {
  auto m = model();
  ContinuousBatch batch(*m);
  SequenceSpec s = spec({1, 2}, 30, 5, 0.0f);
  const std::vector<int64_t> greedy = alone(*m, s, 5);
  s.stop_ids = {greedy[3]};
  s.logprobs = 3;
  batch.add({s});
  std::vector<TokenEvent> events;
  while (!batch.empty())
    for (TokenEvent& e : batch.step()) events.push_back(std::move(e));
  size_t first_stop = 0;
  while (greedy[first_stop] != greedy[3]) ++first_stop;
  std::string seen;
  for (const TokenEvent& e : events) seen += std::to_string(e.token) + " ";
  ASSERT_EQ(events.size(), first_stop + 1) << "events " << seen << " stop " << greedy[3];
  EXPECT_EQ(events.back().finish, FinishReason::Stop);
  for (size_t i = 0; i + 1 < events.size(); ++i) EXPECT_EQ(events[i].finish, FinishReason::None);
  for (const TokenEvent& e : events) {
    ASSERT_EQ(e.top.size(), 3u);
    EXPECT_EQ(e.top[0].first, e.token) << "greedy picks the most likely";
    EXPECT_FLOAT_EQ(e.top[0].second, e.logprob);
    EXPECT_GE(e.top[0].second, e.top[1].second);
    EXPECT_LT(e.logprob, 0.0f);
  }
  batch.add({spec({1}, 2, 5, 0.0f)});
  batch.step();
  EXPECT_EQ(batch.step()[0].finish, FinishReason::Length);
}

TEST(ContinuousBatch, LogprobsAreTheLogSoftmaxOfTheLogits) {
  const std::vector<float> l{1.0f, 3.0f, -2.0f, 3.0f};
  const auto lp = generate::token_logprobs(l.data(), 4, 2, 2);
  double z = 0;
  for (float x : l) z += std::exp(static_cast<double>(x));
  EXPECT_NEAR(lp.logprob, -2.0 - std::log(z), 1e-6);
  ASSERT_EQ(lp.top.size(), 2u);
  EXPECT_EQ(lp.top[0].first, 1);  // ties → lower id first
  EXPECT_EQ(lp.top[1].first, 3);
}

TEST(ContinuousBatch, BadSpecsNameTheSequenceAndNothingJoins) {
  auto m = model();
  ContinuousBatch batch(*m);
  const SequenceSpec good = spec({1, 2}, 3, 1, 0.0f);
  auto expect_error = [&](SequenceSpec bad, const std::string& needle) {
    try {
      batch.add({good, bad});
      FAIL() << "no error for " << needle;
    } catch (const ValueError& e) {
      EXPECT_NE(std::string(e.what()).find("sequence 1: "), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
    EXPECT_TRUE(batch.empty());
  };
  SequenceSpec s = good;
  s.prompt.clear();
  expect_error(s, "empty");
  s = good;
  s.prompt = {1, 23};
  expect_error(s, "token id 23");
  s = good;
  s.max_new_tokens = 39;
  expect_error(s, "context length of 40");
  s = good;
  s.max_new_tokens = 0;
  expect_error(s, "max_new_tokens");
  s = good;
  s.sampling.top_p = 0;
  expect_error(s, "top_p");
  s = good;
  s.logprobs = -2;
  expect_error(s, "logprobs");
}
