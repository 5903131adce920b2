// GPT's position methods (config.pos_encoding) beyond the PyTorch fixtures of
// test_gpt_parity.cpp: every method and option decodes with the KV cache
// exactly as the full forward, left-padded batches decode as rows alone, only
// learned positions stop at block_size, and ALiBi's slopes are the paper's.
#include <gtest/gtest.h>

#include <cmath>

#include "qkv/autograd/autograd.h"
#include "qkv/models/gpt.h"
#include "support/compare.h"
#include "qkv/nn/positional.h"
#include "qkv/ops/ops.h"

using namespace qkv;

namespace {

using qkv::testing::max_abs_diff;

models::GPTConfig base_config() {
  models::GPTConfig c;
  c.vocab_size = 23;
  c.n_layer = 2;
  c.n_head = 3;
  c.n_embd = 24;  // head size 8
  c.block_size = 12;
  return c;
}

struct Case {
  std::string name;
  nlohmann::json overrides;
};

models::GPTConfig config_of(const Case& c) {
  nlohmann::json j = base_config().to_json();
  for (const auto& [k, v] : c.overrides.items()) j[k] = v;
  return models::GPTConfig::from_json(j);
}

Tensor random_ids(int64_t B, int64_t T, int64_t V, uint64_t seed) {
  Generator g(seed);
  std::vector<int64_t> ids;
  for (int64_t i = 0; i < B * T; ++i) ids.push_back(static_cast<int64_t>(g.next_u64() % V));
  return tensor_i64(ids, {B, T});
}

class GptPositions : public ::testing::TestWithParam<Case> {};

TEST_P(GptPositions, CachedDecodingEqualsTheFullForwardAtEveryPosition) {
  Generator gen(7);
  models::GPT m(config_of(GetParam()), gen);
  m.eval();
  NoGradGuard ng;
  const Tensor idx = random_ids(2, 12, 23, 3);
  const Tensor full = m.forward(idx, gen);  // (B,T,V)
  nn::KVCache cache = m.make_cache(2);
  EXPECT_LE(max_abs_diff(m.forward(idx.narrow(1, 0, 4).contiguous(), gen, &cache), full.narrow(1, 0, 4)), 1e-5f);
  for (int64_t t = 4; t < 12; ++t) {
    const float d = max_abs_diff(m.forward(idx.narrow(1, t, 1).contiguous(), gen, &cache), full.narrow(1, t, 1));
    EXPECT_LE(d, 1e-5f) << "position " << t;
  }
}

TEST_P(GptPositions, LeftPaddedRowsDecodeAsTheyWouldAlone) {
  Generator gen(11);
  models::GPT m(config_of(GetParam()), gen);
  m.eval();
  NoGradGuard ng;
  // Row 0 has 3 pads; row 1 none. Prefill, then three cached steps.
  const Tensor ids = random_ids(2, 7, 23, 5);
  std::vector<bool> real(14, true);
  real[0] = real[1] = real[2] = false;
  models::DecodeState batch, alone;
  Tensor lb = m.start(batch, {.ids = ids, .mask = tensor_bool(real, {2, 7})});
  Tensor la = m.start(alone, {.ids = ids.narrow(0, 0, 1).narrow(1, 3, 4).contiguous()});
  EXPECT_LE(max_abs_diff(lb.narrow(0, 0, 1), la), 1e-5f);
  for (int64_t next : {4, 9, 17}) {
    lb = m.step(batch, {next, next});
    la = m.step(alone, {next});
    EXPECT_LE(max_abs_diff(lb.narrow(0, 0, 1), la), 1e-5f) << "after token " << next;
  }
}

TEST_P(GptPositions, RunsPastBlockSizeUnlessPositionsAreLearned) {
  Generator gen(13);
  const models::GPTConfig cfg = config_of(GetParam());
  models::GPT m(cfg, gen);
  m.eval();
  NoGradGuard ng;
  const Tensor idx = random_ids(1, 2 * cfg.block_size, 23, 9);
  if (cfg.pos_encoding == "learned") {
    try {
      m.forward(idx, gen);
      ADD_FAILURE() << "a learned table ran past its rows";
    } catch (const ValueError& e) {  // names both lengths
      const std::string msg = e.what();
      EXPECT_NE(msg.find("block_size 12"), std::string::npos) << msg;
      EXPECT_NE(msg.find("24 tokens"), std::string::npos) << msg;
    }
    return;
  }
  const Tensor y = m.forward(idx, gen);
  for (float v : y.to_vector()) ASSERT_TRUE(std::isfinite(v));
  // The first block_size rows do not depend on what comes after (causal).
  const Tensor head = m.forward(idx.narrow(1, 0, cfg.block_size).contiguous(), gen);
  EXPECT_LE(max_abs_diff(y.narrow(1, 0, cfg.block_size), head), 1e-5f);
}

INSTANTIATE_TEST_SUITE_P(
    Kinds, GptPositions,
    ::testing::Values(Case{"learned", {}}, Case{"sinusoidal_base100", {{"pos_encoding", "sinusoidal"}, {"sinusoidal_base", 100}}},
                      Case{"none", {{"pos_encoding", "none"}}}, Case{"rope", {{"pos_encoding", "rope"}}},
                      Case{"rope_adjacent_partial_ntk",
                           {{"pos_encoding", "rope"}, {"rope_layout", "adjacent"}, {"rope_dim", 4},
                            {"rope_scaling", "ntk"}, {"rope_scaling_factor", 4}, {"rope_theta", 1e6}}},
                      Case{"rope_linear", {{"pos_encoding", "rope"}, {"rope_scaling", "linear"}, {"rope_scaling_factor", 2}}},
                      Case{"alibi_3_heads", {{"pos_encoding", "alibi"}}},
                      Case{"t5_8_buckets", {{"pos_encoding", "t5"}, {"t5_num_buckets", 8}, {"t5_max_distance", 10}}},
                      Case{"relative_k3", {{"pos_encoding", "relative"}, {"relative_max_distance", 3}}}),
    [](const auto& info) { return info.param.name; });

TEST(GptPositionsParams, OnlyLearnedPositionsHaveATable) {
  Generator gen(1);
  for (const char* kind : {"learned", "sinusoidal", "rope", "alibi", "t5", "relative", "none"}) {
    models::GPT m(config_of({kind, {{"pos_encoding", kind}}}), gen);
    bool has_wpe = false;
    for (const auto& [name, p] : m.named_parameters()) has_wpe |= name.rfind("wpe.", 0) == 0;
    EXPECT_EQ(has_wpe, std::string(kind) == "learned") << kind;
  }
}

// Hugging Face T5Attention._relative_position_bucket, worked by hand: exact
// buckets below n/2, then max_exact + ⌊log(r/max_exact)/log(max_distance/max_exact)·(n − max_exact)⌋.
TEST(T5Bucket, MatchesHuggingFacesBucketing) {
  // bidirectional, 32 buckets, max distance 128: n = 16 per side, max_exact 8
  EXPECT_EQ(nn::t5_bucket(0, true, 32, 128), 0);
  EXPECT_EQ(nn::t5_bucket(-1, true, 32, 128), 1);
  EXPECT_EQ(nn::t5_bucket(1, true, 32, 128), 17);
  EXPECT_EQ(nn::t5_bucket(-8, true, 32, 128), 8);
  EXPECT_EQ(nn::t5_bucket(-20, true, 32, 128), 10);   // 8 + ⌊2.644⌋
  EXPECT_EQ(nn::t5_bucket(-200, true, 32, 128), 15);  // capped
  EXPECT_EQ(nn::t5_bucket(200, true, 32, 128), 31);
  // causal: keys after the query share bucket 0; max_exact 16
  EXPECT_EQ(nn::t5_bucket(5, false, 32, 128), 0);
  EXPECT_EQ(nn::t5_bucket(-5, false, 32, 128), 5);
  EXPECT_EQ(nn::t5_bucket(-20, false, 32, 128), 17);  // 16 + ⌊1.717⌋
  EXPECT_EQ(nn::t5_bucket(-1000, false, 32, 128), 31);
  Generator gen(1);
  EXPECT_THROW(nn::T5RelativeBias(8, 4, 2, false, gen), ValueError);  // max_distance within the exact buckets
}

// Press et al. 2022, §3 and their get_slopes: 2^(−8i/n) for n a power of two;
// for n = 6 the slopes of 4 heads, then every other slope of 8 heads.
TEST(AlibiSlopes, AreThePapers) {
  EXPECT_EQ(nn::alibi_slopes(8).to_vector(),
            (std::vector<float>{0.5f, 0.25f, 0.125f, 0.0625f, 0.03125f, 0.015625f, 0.0078125f, 0.00390625f}));
  EXPECT_EQ(nn::alibi_slopes(6).to_vector(),
            (std::vector<float>{0.25f, 0.0625f, 0.015625f, 0.00390625f, 0.5f, 0.125f}));
  const std::vector<float> s3 = nn::alibi_slopes(3).to_vector();
  ASSERT_EQ(s3.size(), 3u);
  EXPECT_FLOAT_EQ(s3[0], std::pow(2.0f, -4.0f));
  EXPECT_FLOAT_EQ(s3[1], std::pow(2.0f, -8.0f));
  EXPECT_FLOAT_EQ(s3[2], std::pow(2.0f, -2.0f));
  EXPECT_THROW(nn::alibi_slopes(0), ValueError);
}

TEST(RotaryEmbedding, RefusesImpossibleSettings) {
  EXPECT_THROW(nn::RotaryEmbedding({.dim = 3}, 2, 8), ValueError);   // odd
  EXPECT_THROW(nn::RotaryEmbedding({.dim = 10}, 2, 8), ValueError);  // larger than the head
  EXPECT_THROW(nn::RotaryEmbedding({.scaling = "yarn"}, 2, 8), ValueError);
  EXPECT_THROW(nn::RotaryEmbedding({.factor = 0.5}, 2, 8), ValueError);
  // NTK-aware scaling changes the base to θ·s^(d/(d−2)); linear the positions.
  nn::RotaryEmbedding ntk({.dim = 8, .theta = 10000, .scaling = "ntk", .factor = 4}, 2, 8);
  EXPECT_NEAR(ntk.options().theta, 10000 * std::pow(4.0, 8.0 / 6.0), 1e-6);
  nn::RotaryEmbedding lin({.scaling = "linear", .factor = 4}, 2, 8);
  EXPECT_EQ(lin.options().position_scale, 0.25);
}

TEST(SinusoidalPositionalEncoding, LooksUpPositionsAndGrows) {
  nn::SinusoidalPositionalEncoding pe(6, 4, 100.0);
  const Tensor rows = pe.at(tensor_i64({0, 9, 3}, {3}));  // 9 is past the first table
  ASSERT_EQ(rows.shape(), (Shape{3, 6}));
  const std::vector<float> r = rows.to_vector();
  EXPECT_FLOAT_EQ(r[6 + 0], std::sin(9.0f));                        // PE(9, 0)
  EXPECT_FLOAT_EQ(r[6 + 3], std::cos(9.0f / std::pow(100.0f, 2.0f / 6.0f)));  // PE(9, 3)
  EXPECT_GE(pe.table_rows(), 10);
  EXPECT_THROW(pe.at(tensor_i64({-1}, {1})), ValueError);
  EXPECT_THROW(nn::SinusoidalPositionalEncoding(6, 4, 1.0), ValueError);
}

}  // namespace
