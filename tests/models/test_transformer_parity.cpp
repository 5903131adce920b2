// The encoder–decoder Transformer against torch.nn.Transformer (llm.c's
// test_gpt2 pattern): each fixture written by
// tests/fixtures/seq2seq/make_fixture.py holds a tiny model's config and
// weights, a batch padded on both sides, the encoder output, the logits, the
// label-smoothed loss, every parameter gradient and the losses of 10 Adam
// steps under the Noam schedule — post-LN (the paper) and pre-LN.
#include <gtest/gtest.h>

#include <cmath>

#include "qkv/autograd/autograd.h"
#include "qkv/io/safetensors.h"
#include "qkv/models/transformer.h"
#include "support/compare.h"
#include "qkv/nn/param_groups.h"
#include "qkv/ops/ops.h"
#include "qkv/optim/adam.h"
#include "qkv/optim/schedule.h"

using namespace qkv;

namespace {

using qkv::testing::max_abs_diff;

struct Loaded {
  io::NamedTensors fx;
  std::unique_ptr<models::Transformer> model;
  int n_params = 0;  // "param." tensors in the fixture
};

// The model of the fixture's own config (its metadata), with its weights.
Loaded load(const std::string& name) {
  Loaded l;
  l.fx = io::load_safetensors(std::string(QKV_TEST_FIXTURES) + "/seq2seq/" + name + ".safetensors");
  Generator gen(0);
  auto cfg = models::Seq2SeqConfig::from_json(nlohmann::json::parse(l.fx.metadata.at("config")));
  l.model = std::make_unique<models::Transformer>(cfg, gen);
  nn::NamedTensors sd;
  for (const auto& [pname, t] : l.fx.tensors)
    if (pname.rfind("param.", 0) == 0) sd.push_back({pname.substr(6), t}), ++l.n_params;
  l.model->load_state_dict(sd, true);  // strict: every name must match
  return l;
}

float smoothing(const Loaded& l) { return std::stof(l.fx.metadata.at("label_smoothing")); }

Tensor logits_of(const Loaded& l, Generator& gen) {
  return l.model->forward(l.fx.at("src_ids"), l.fx.at("src_mask"), l.fx.at("tgt_in"), l.fx.at("tgt_mask"), gen);
}

class TransformerParity : public ::testing::TestWithParam<std::string> {};

}  // namespace

TEST_P(TransformerParity, MemoryLogitsLossAndEveryGradient) {
  Loaded l = load(GetParam());
  Generator gen(0);
  // from torch 1.13 nn.Transformer (make_fixture.py), float32 on both sides; measured
  // maxdiffs: memory and logits ~1e-6, gradients ~1e-7, Adam/Noam losses ~5e-6
  Tensor memory = l.model->encode(l.fx.at("src_ids"), l.fx.at("src_mask"), gen);
  float dm = max_abs_diff(memory, l.fx.at("memory"));
  EXPECT_LE(dm, 1e-5f) << "memory maxdiff " << dm;
  Tensor logits = logits_of(l, gen);
  float dl = max_abs_diff(logits, l.fx.at("logits"));
  EXPECT_LE(dl, 1e-5f) << "logits maxdiff " << dl;
  Tensor loss = models::Transformer::loss(logits, l.fx.at("labels"), smoothing(l));
  EXPECT_NEAR(loss.item(), l.fx.at("loss").item(), 1e-5f);
  loss.backward();
  int checked = 0;
  for (const auto& [name, p] : l.model->named_parameters()) {
    ASSERT_TRUE(l.fx.contains("grad." + name)) << name;
    ASSERT_TRUE(p.grad().defined()) << name << " has no gradient";
    float d = max_abs_diff(p.grad(), l.fx.at("grad." + name));
    EXPECT_LE(d, 2e-6f) << "grad " << name << " maxdiff " << d;
    ++checked;
  }
  EXPECT_EQ(checked, l.n_params);
  // shared + 2 encoder layers × 12 + 2 decoder layers × 20 + 2 final norms × 2
  EXPECT_EQ(checked, 1 + 2 * 12 + 2 * 20 + 4);
}

TEST_P(TransformerParity, TenAdamStepsUnderNoamMatchTorch) {
  Loaded l = load(GetParam());
  Generator gen(0);
  const auto& md = l.fx.metadata;
  auto schedule = optim::noam(l.model->config.d_model, std::stoll(md.at("noam_warmup")), std::stof(md.at("noam_factor")));
  optim::Adam opt(nn::decay_groups(*l.model, 0.0f), 1.0f, 0.9f, 0.98f, 1e-9f);  // §5.3
  auto want = l.fx.at("adam_losses").to_vector();
  for (int step = 0; step < 10; ++step) {
    opt.set_lr(schedule->lr(step));
    opt.zero_grad();
    Tensor loss = models::Transformer::loss(logits_of(l, gen), l.fx.at("labels"), smoothing(l));
    loss.backward();
    opt.step();
    EXPECT_NEAR(loss.item(), want[step], 2e-5f) << "step " << step;
  }
}

TEST_P(TransformerParity, CachedDecodingEqualsTheFullDecoder) {
  Loaded l = load(GetParam());
  l.model->eval();
  Generator gen(0);
  NoGradGuard ng;
  const Tensor src = l.fx.at("src_ids"), src_mask = l.fx.at("src_mask"), tgt = l.fx.at("tgt_in");
  const Tensor tgt_mask = l.fx.at("tgt_mask");
  auto mask_to = [&](int64_t n) { return tgt_mask.narrow(1, 0, n).contiguous(); };  // cached + new keys
  const int64_t B = tgt.size(0), T = tgt.size(1);
  Tensor memory = l.model->encode(src, src_mask, gen);
  Tensor full = l.model->decode(tgt, memory, gen, {.src_mask = src_mask, .tgt_mask = tgt_mask});  // (B,T,V)
  nn::KVCache cache = l.model->make_cache(B);
  Tensor pre = l.model->decode(tgt.narrow(1, 0, 3).contiguous(), memory, gen, {.src_mask = src_mask, .tgt_mask = mask_to(3), .cache = &cache});
  EXPECT_LE(max_abs_diff(pre, full.narrow(1, 0, 3)), 1e-5f);
  const int64_t L = l.model->config.n_decoder_layers;
  const Tensor cross_k = cache.layer(L).k;  // computed once, on the first call
  for (int64_t t = 3; t < T; ++t) {
    // memory undefined: the cross-attention keys/values come from the cache
    Tensor step = l.model->decode(tgt.narrow(1, t, 1).contiguous(), Tensor(), gen,
                                      {.src_mask = src_mask, .tgt_mask = mask_to(t + 1), .cache = &cache});
    float d = max_abs_diff(step, full.narrow(1, t, 1));
    EXPECT_LE(d, 1e-5f) << "position " << t << " maxdiff " << d;
  }
  EXPECT_EQ(cache.length(), T);
  EXPECT_TRUE(cache.layer(L).k.same(cross_k)) << "cross-attention keys were recomputed";
}

INSTANTIATE_TEST_SUITE_P(Norm, TransformerParity, ::testing::Values("seq2seq_postln", "seq2seq_preln"),
                         [](const auto& info) { return info.param.substr(8); });
