// Samplers and generation with the KV cache.
#include <gtest/gtest.h>

#include <map>

#include "qkv/generate/generate.h"
#include "qkv/models/gpt.h"

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
