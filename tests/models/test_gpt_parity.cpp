// GPT against PyTorch (llm.c's test_gpt2 pattern): each fixture written by
// tests/fixtures/gpt/make_gpt_fixture.py holds a tiny GPT's config, weights, a
// batch, the logits, the loss, every parameter gradient and 10 AdamW-step
// losses — one fixture per position method (learned, rope, alibi, sinusoidal,
// t5, relative).
#include <gtest/gtest.h>

#include <cmath>

#include "qkv/autograd/autograd.h"
#include "qkv/io/safetensors.h"
#include "qkv/models/gpt.h"
#include "support/compare.h"
#include "qkv/nn/param_groups.h"
#include "qkv/ops/ops.h"
#include "qkv/optim/adam.h"
#include "qkv/optim/clip.h"

using namespace qkv;

namespace {

std::string fixture_path(const std::string& name) { return std::string(QKV_TEST_FIXTURES) + "/gpt/" + name + ".safetensors"; }

using qkv::testing::max_abs_diff;

struct Loaded {
  io::NamedTensors fx;
  std::unique_ptr<models::GPT> model;
  int n_params = 0;  // "param." tensors in the fixture
};

// The model of the fixture's own config (its metadata), with its weights.
Loaded load(const std::string& name) {
  Loaded l;
  l.fx = io::load_safetensors(fixture_path(name));
  Generator gen(0);
  l.model = std::make_unique<models::GPT>(models::GPTConfig::from_json(nlohmann::json::parse(l.fx.metadata.at("config"))), gen);
  nn::NamedTensors sd;
  for (const auto& [pname, t] : l.fx.tensors)
    if (pname.rfind("param.", 0) == 0) sd.push_back({pname.substr(6), t}), ++l.n_params;
  l.model->load_state_dict(sd, true);  // strict: every name must match
  return l;
}

models::GPTConfig tiny_config() { return load("gpt_tiny").model->config; }

class GptParity : public ::testing::TestWithParam<std::string> {};

}  // namespace

TEST_P(GptParity, LogitsLossAndEveryGradient) {
  Loaded l = load(GetParam());
  Generator gen(0);
  Tensor logits = l.model->forward(l.fx.at("idx"), gen);
  float dl = max_abs_diff(logits, l.fx.at("logits"));
  EXPECT_LE(dl, 1e-5f) << "logits maxdiff " << dl;
  Tensor loss = models::GPT::loss(logits, l.fx.at("targets"));
  EXPECT_NEAR(loss.item(), l.fx.at("loss").item(), 1e-5f);
  loss.backward();
  int checked = 0;
  for (const auto& [name, p] : l.model->named_parameters()) {
    ASSERT_TRUE(l.fx.contains("grad." + name)) << name;
    ASSERT_TRUE(p.grad().defined()) << name << " has no gradient";
    float d = max_abs_diff(p.grad(), l.fx.at("grad." + name));
    EXPECT_LE(d, 1e-4f) << "grad " << name << " maxdiff " << d;
    ++checked;
  }
  EXPECT_EQ(checked, l.n_params);
  // wte [wpe|rel_bias] ln_f.{w,b} + 12 per block (+ rel_pos.w_k, w_v with relative positions)
  const bool shaw = l.model->config.pos_encoding == "relative";
  EXPECT_EQ(checked, (l.model->wpe || l.model->rel_bias ? 4 : 3) + (shaw ? 14 : 12) * 2);
}

TEST_P(GptParity, TenAdamWStepsMatchTorch) {
  Loaded l = load(GetParam());
  Generator gen(0);
  optim::AdamW opt(nn::decay_groups(*l.model, 0.1f), 1e-3f, 0.9f, 0.99f, 1e-8f);
  Tensor want = l.fx.at("adamw_losses");
  auto wv = want.to_vector();
  for (int step = 0; step < 10; ++step) {
    opt.zero_grad();
    Tensor loss = models::GPT::loss(l.model->forward(l.fx.at("idx"), gen), l.fx.at("targets"));
    loss.backward();
    optim::clip_grad_norm(l.model->parameters(), 1.0f);
    opt.step();
    EXPECT_NEAR(loss.item(), wv[step], 2e-5f) << "step " << step;
  }
}

TEST_P(GptParity, KvCacheDecodeEqualsFullForward) {
  Loaded l = load(GetParam());
  l.model->eval();
  Generator gen(0);
  NoGradGuard ng;
  Tensor idx = l.fx.at("idx");  // (B,T)
  Tensor full = l.model->forward(idx, gen);  // (B,T,V)
  // Prefill 5 tokens, then one token at a time.
  nn::KVCache cache = l.model->make_cache(idx.size(0));
  Tensor pre = l.model->forward(idx.narrow(1, 0, 5).contiguous(), gen, &cache);
  EXPECT_LE(max_abs_diff(pre, full.narrow(1, 0, 5)), 1e-5f);
  for (int64_t t = 5; t < idx.size(1); ++t) {
    Tensor step = l.model->forward(idx.narrow(1, t, 1).contiguous(), gen, &cache);
    float d = max_abs_diff(step, full.narrow(1, t, 1));
    EXPECT_LE(d, 1e-5f) << "position " << t << " maxdiff " << d;
  }
  EXPECT_EQ(cache.length(), idx.size(1));
  // One more token would exceed block_size.
  EXPECT_THROW(l.model->forward(idx.narrow(1, 0, 1).contiguous(), gen, &cache), ValueError);
}

TEST_P(GptParity, NextTokenLogitsAreTheLastRowOfForward) {
  Loaded l = load(GetParam());
  l.model->eval();
  Generator gen(0);
  NoGradGuard ng;
  Tensor idx = l.fx.at("idx");  // (B,T)
  const int64_t B = idx.size(0), T = idx.size(1);
  Tensor full = l.model->forward(idx, gen);  // (B,T,V)
  Tensor last = l.model->next_token_logits(idx, gen);
  ASSERT_EQ(last.shape(), (Shape{B, l.model->config.vocab_size}));
  EXPECT_LE(max_abs_diff(last, full.select(1, T - 1)), 1e-5f);
  // With a cache: prefill, then token by token, against forward's rows.
  nn::KVCache cache = l.model->make_cache(B);
  Tensor pre = l.model->next_token_logits(idx.narrow(1, 0, 5).contiguous(), gen, &cache);
  EXPECT_LE(max_abs_diff(pre, full.select(1, 4)), 1e-5f);
  for (int64_t t = 5; t < T; ++t) {
    Tensor step = l.model->next_token_logits(idx.narrow(1, t, 1).contiguous(), gen, &cache);
    EXPECT_LE(max_abs_diff(step, full.select(1, t)), 1e-5f) << "position " << t;
  }
  EXPECT_EQ(cache.length(), T);
  EXPECT_THROW(l.model->next_token_logits(idx.narrow(1, 0, 1).contiguous(), gen, &cache), ValueError);
}

INSTANTIATE_TEST_SUITE_P(Positions, GptParity,
                         ::testing::Values("gpt_tiny", "gpt_tiny_rope", "gpt_tiny_alibi", "gpt_tiny_sinusoidal", "gpt_tiny_t5",
                                           "gpt_tiny_relative"),
                         [](const auto& info) { return info.param == "gpt_tiny" ? std::string("learned") : info.param.substr(9); });

TEST(GptConfig, JsonRoundTripAndErrors) {
  models::GPTConfig c = tiny_config();
  EXPECT_EQ(models::GPTConfig::from_json(c.to_json()), c);
  auto bad = [](nlohmann::json j, const std::string& needle) {
    try {
      models::GPTConfig::from_json(j);
      ADD_FAILURE() << "accepted " << j.dump();
    } catch (const ValueError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  bad({{"n_layers", 4}}, "unknown field \"n_layers\"");
  bad({{"n_head", "four"}}, "n_head");
  bad({{"n_embd", 30}, {"n_head", 4}}, "divisible");
  bad({{"block_size", 0}}, "block_size");
  bad({{"dropout", 1.5}}, "dropout");
  bad(nlohmann::json::array(), "object");
  // Positions (issue #11's bad input): an unknown kind — e.g. a run directory
  // written by a build that knows more — and rotary dimensions that cannot be.
  bad({{"pos_encoding", "xpos"}}, "pos_encoding");
  bad({{"pos_encoding", "xpos"}}, "learned");  // the message lists the kinds this build knows
  bad({{"pos_encoding", "rope"}, {"rope_dim", 7}}, "rope_dim 7");
  bad({{"pos_encoding", "rope"}, {"n_embd", 32}, {"n_head", 4}, {"rope_dim", 10}}, "at most the head size 8");
  bad({{"pos_encoding", "rope"}, {"n_embd", 36}, {"n_head", 4}}, "must be even");
  bad({{"rope_scaling", "yarn"}}, "rope_scaling");
  bad({{"rope_scaling_factor", 0.5}}, "rope_scaling_factor");
  bad({{"rope_theta", 1}}, "rope_theta");
  bad({{"pos_encoding", "t5"}, {"t5_num_buckets", 32}, {"t5_max_distance", 16}}, "t5_max_distance 16");
  bad({{"pos_encoding", "relative"}, {"relative_max_distance", 0}}, "relative_max_distance");
  bad({{"pos_encoding", "relative"}, {"relative_max_distance", -2}}, "relative_max_distance");
  bad({{"relative_max_distance", 2.5}}, "relative_max_distance");
  // The relative fixture's config round-trips with its clipping distance.
  const models::GPTConfig rel = load("gpt_tiny_relative").model->config;
  EXPECT_EQ(rel.relative_max_distance, 3);
  EXPECT_EQ(models::GPTConfig::from_json(rel.to_json()), rel);
}
