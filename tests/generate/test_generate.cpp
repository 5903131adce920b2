// Samplers and generation with the KV cache.
#include <gtest/gtest.h>

#include <map>

#include "qkv/generate/generate.h"
#include "qkv/models/gpt.h"
#include "qkv/autograd/autograd.h"
#include "qkv/ops/ops.h"

using namespace qkv;
using generate::SamplingOptions;

TEST(Sampling, GreedyPicksArgmaxLowestIdOnTies) {
  std::vector<float> l{0.1f, 2.0f, -1.0f, 2.0f};
  Generator g(0);
  SamplingOptions o;
  o.temperature = 0;
  EXPECT_EQ(generate::sample_token(l.data(), 4, o, g), 1);
}

TEST(Sampling, TopKAndTopPRestrictTheSupport) {
  std::vector<float> l{3.0f, 2.0f, 1.0f, 0.0f, -1.0f};
  Generator g(1);
  SamplingOptions k;
  k.top_k = 2;
  SamplingOptions p;
  p.top_p = 0.7f;  // softmax ≈ .64 .23 .09 …: the first two reach 0.7
  std::map<int64_t, int> ck, cp;
  for (int i = 0; i < 4000; ++i) {
    ck[generate::sample_token(l.data(), 5, k, g)]++;
    cp[generate::sample_token(l.data(), 5, p, g)]++;
  }
  EXPECT_EQ(ck.size(), 2u);
  EXPECT_EQ(cp.size(), 2u);
  EXPECT_TRUE(ck.count(0) && ck.count(1));
  // top-k 2 renormalises e^3 : e^2 → P(0) = 1/(1+e^-1) ≈ 0.731
  EXPECT_NEAR(ck[0] / 4000.0, 0.731, 0.03);
}

TEST(Sampling, TemperatureSharpens) {
  std::vector<float> l{1.0f, 0.0f};
  Generator g(2);
  SamplingOptions cold;
  cold.temperature = 0.25f;  // P(0) = 1/(1+e^-4) ≈ 0.982
  int zero = 0;
  for (int i = 0; i < 2000; ++i) zero += generate::sample_token(l.data(), 2, cold, g) == 0;
  EXPECT_NEAR(zero / 2000.0, 0.982, 0.015);
}

TEST(Sampling, BadOptionsThrow) {
  SamplingOptions o;
  o.temperature = -1;
  EXPECT_THROW(o.validate(), ValueError);
  o = {};
  o.top_p = 0;
  EXPECT_THROW(o.validate(), ValueError);
  o = {};
  o.top_k = -3;
  EXPECT_THROW(o.validate(), ValueError);
}

namespace {
std::unique_ptr<models::GPT> small_model() {
  models::GPTConfig c;
  c.vocab_size = 11;
  c.n_layer = 2;
  c.n_head = 2;
  c.n_embd = 16;
  c.block_size = 8;
  Generator gen(7);
  auto m = std::make_unique<models::GPT>(c, gen);
  m->eval();
  return m;
}
}  // namespace

TEST(Generate, CacheAndNoCacheAgreeIncludingPastBlockSize) {
  auto m = small_model();
  generate::GenerateOptions o;
  o.max_new_tokens = 20;  // runs past block_size 8: the context is cropped
  o.sampling.temperature = 0;
  Generator g1(3), g2(3);
  auto a = generate::generate(*m, {{1, 2, 3}, {4, 5, 6}, {7}}, o, g1);
  o.use_cache = false;
  auto b = generate::generate(*m, {{1, 2, 3}, {4, 5, 6}, {7}}, o, g2);
  EXPECT_EQ(a, b);
  EXPECT_EQ(a[0].size(), 23u);
  EXPECT_EQ(a[2].size(), 21u);
  EXPECT_EQ(std::vector<int64_t>(a[0].begin(), a[0].begin() + 3), (std::vector<int64_t>{1, 2, 3}));
}

TEST(Generate, SeededSamplingIsReproducibleAndStopsAtEos) {
  auto m = small_model();
  generate::GenerateOptions o;
  o.max_new_tokens = 30;
  Generator g1(5), g2(5);
  auto a = generate::generate(*m, {{1, 2}}, o, g1);
  auto b = generate::generate(*m, {{1, 2}}, o, g2);
  EXPECT_EQ(a, b);
  o.eos = a[0][4];  // a token that appears at position 4 (the 3rd generated)
  Generator g3(5);
  auto c = generate::generate(*m, {{1, 2}}, o, g3);
  ASSERT_LE(c[0].size(), 5u);
  EXPECT_EQ(c[0].back(), *o.eos);
}

TEST(Generate, BadPromptsThrow) {
  auto m = small_model();
  generate::GenerateOptions o;
  Generator g(0);
  EXPECT_THROW(generate::generate(*m, {{}}, o, g), ValueError);
  EXPECT_THROW(generate::generate(*m, {{1, 99}}, o, g), ValueError);
  m->train();
  models::GPTConfig c = m->config;  // dropout 0: training mode is harmless
  EXPECT_NO_THROW(generate::generate(*m, {{1}}, o, g));
}

// Prompts of different lengths in one left-padded batch decode as each would
// alone: the same greedy tokens, and next-token logits equal to a solo run.
TEST(Generate, LeftPaddedBatchEqualsOneByOne) {
  auto m = small_model();
  generate::GenerateOptions o;
  o.max_new_tokens = 4;  // stays inside block_size 8 for the longest prompt
  o.sampling.temperature = 0;
  const std::vector<std::vector<int64_t>> prompts = {{1, 2, 3, 4}, {5}, {6, 7}};
  Generator g(1);
  auto batched = generate::generate(*m, prompts, o, g);
  for (size_t i = 0; i < prompts.size(); ++i) {
    Generator gi(1);
    EXPECT_EQ(batched[i], generate::generate(*m, {prompts[i]}, o, gi)[0]) << "prompt " << i;
  }
  // The logits themselves, prefill and one step, against solo runs.
  NoGradGuard ng;
  models::DecodeState st;
  Tensor l0 = m->start(st, generate::left_pad(prompts));
  Tensor l1 = m->step(st, {9, 9, 9});
  for (size_t i = 0; i < prompts.size(); ++i) {
    models::DecodeState solo;
    Tensor s0 = m->start(solo, generate::left_pad({prompts[i]}));
    Tensor s1 = m->step(solo, {9});
    const int64_t b = static_cast<int64_t>(i);
    EXPECT_LT(amax(abs(sub(l0.select(0, b), s0.select(0, 0)))).item(), 1e-5f) << i;
    EXPECT_LT(amax(abs(sub(l1.select(0, b), s1.select(0, 0)))).item(), 1e-5f) << i;
  }
  EXPECT_EQ(generate::left_pad(prompts).mask.to_int_vector(),
            (std::vector<int64_t>{1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1, 1}));
}

// Sample i's stream depends on the seed and i only, not on how many samples run.
TEST(Generate, EachSampleHasItsOwnStream) {
  auto m = small_model();
  generate::GenerateOptions o;
  o.max_new_tokens = 12;
  Generator g1(42), g3(42);
  auto one = generate::generate(*m, {{1, 2}}, o, g1);
  auto three = generate::generate(*m, {{1, 2}, {1, 2}, {1, 2}}, o, g3);
  EXPECT_EQ(one[0], three[0]);
  EXPECT_NE(three[0], three[1]);  // different streams (12 sampled tokens from 11 ids)
}

// Decoder::reorder (beam search's step): after reordering the rows the
// model continues as if it had decoded the reordered prompts.
TEST(Generate, DecoderReorderContinuesTheChosenRows) {
  auto m = small_model();
  NoGradGuard ng;
  const std::vector<std::vector<int64_t>> prompts = {{1, 2, 3}, {4, 5}, {6}};
  models::DecodeState st;
  m->start(st, generate::left_pad(prompts));
  m->reorder(st, {2, 0, 0});
  Tensor got = m->step(st, {7, 8, 9});
  models::DecodeState ref;
  m->start(ref, generate::left_pad({{6}, {1, 2, 3}, {1, 2, 3}}));
  Tensor want = m->step(ref, {7, 8, 9});
  EXPECT_LT(amax(abs(sub(got, want))).item(), 1e-5f);
  EXPECT_EQ(st.cache.batch(), 3);
  EXPECT_THROW(m->reorder(st, {3}), ValueError);
}
