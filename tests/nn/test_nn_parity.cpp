// tests/nn/test_nn_parity.cpp — qkv::nn modules against PyTorch 1.13's own
// modules (tests/fixtures/nn/nn_parity.txt, from make_nn_fixtures.py; torch
// computes in float64 from the same float32 inputs and weights). Each case loads
// the weights through load_state_dict (so the names must match exactly), checks
// the forward value, then the gradients of sum(w ⊙ y) for the input and every
// parameter. Tolerances as the GPT issue: |got − want| ≤ tol·(1 + |want|),
// 1e-5 forward, 1e-4 gradients.
#include <gtest/gtest.h>

#include <limits>

#include "nn/nn_fixture.h"
#include "qkv/nn/nn.h"

using namespace qkv;
using namespace qkv::nn;
using qkv::test::expect_close;

namespace {

const char* kFile = "nn_parity.txt";
constexpr double kFwdTol = 1e-5, kGradTol = 1e-4;

Tensor fx(const std::string& n) { return qkv::test::fx_get(kFile, n); }
bool has(const std::string& n) { return qkv::test::fx_has(kFile, n); }

// Backward of sum(w ⊙ y), then every parameter's gradient against "<case>.g.<name>".
void check_grads(Module& m, const Tensor& y, const std::string& c) {
  (y * fx(c + ".w")).sum().backward();
  int checked = 0;
  for (auto& [name, p] : m.named_parameters()) {
    SCOPED_TRACE(c + " parameter " + name);
    ASSERT_TRUE(has(c + ".g." + name)) << "no torch gradient for " << name;
    expect_close(p.grad(), fx(c + ".g." + name), c + ".g." + name, kGradTol);
    ++checked;
  }
  EXPECT_EQ(checked, static_cast<int>(qkv::test::fx_prefixed(kFile, c + ".g.").size()));
}

void run_mha(const std::string& c, bool cross) {
  Generator gen(1);
  std::vector<int64_t> flags = fx(c + ".flags").to_int_vector();  // causal, bias, NH
  Tensor x = fx(c + ".x").requires_grad_();
  const int64_t C = x.size(2);
  MultiHeadAttention m({.d_model = C, .n_heads = flags[2], .cross = cross, .bias = flags[1] != 0}, gen);
  m.load_state_dict(qkv::test::fx_prefixed(kFile, c + ".p."));
  Tensor ctx = cross ? fx(c + ".context").requires_grad_() : Tensor();
  Tensor mask = has(c + ".mask") ? fx(c + ".mask") : Tensor();
  Tensor kp = has(c + ".key_padding") ? fx(c + ".key_padding") : Tensor();
  // torch's key_padding_mask says true = pad; qkv's key_mask true = real token.
  Tensor key_mask = kp.defined() ? logical_not(kp) : Tensor();
  AttentionOutput r = m.forward(
      x, {.context = ctx, .causal = flags[0] != 0, .mask = mask, .key_mask = key_mask, .need_weights = true});
  expect_close(r.out, fx(c + ".y"), c + ".y", kFwdTol);
  expect_close(r.weights, fx(c + ".attn"), c + ".attn", kFwdTol);
  check_grads(m, r.out, c);
  expect_close(x.grad(), fx(c + ".dx"), c + ".dx", kGradTol);
  if (cross) expect_close(ctx.grad(), fx(c + ".dcontext"), c + ".dcontext", kGradTol);
}

}  // namespace

TEST(NnParity, MultiHeadSelfAttention) { run_mha("mha_self", false); }
TEST(NnParity, MultiHeadCausalWithKeyPadding) { run_mha("mha_causal_pad", false); }
TEST(NnParity, MultiHeadExplicitMaskNoBias) { run_mha("mha_mask_nobias", false); }
TEST(NnParity, MultiHeadCrossAttention) { run_mha("mha_cross", true); }

TEST(NnParity, MultiHeadWeightsOnlyWhenRequested) {
  Generator gen(1);
  MultiHeadAttention m({.d_model = 8, .n_heads = 2}, gen);
  Tensor x = fx("mha_self.x");
  EXPECT_FALSE(m.forward(x).weights.defined());
  EXPECT_THROW(m.forward(x, {.context = x}), ValueError);  // context to self-attention
  MultiHeadAttention cross({.d_model = 8, .n_heads = 2, .cross = true}, gen);
  EXPECT_THROW(cross.forward(x), ValueError);
  EXPECT_THROW(m.forward(zeros({2, 5, 6})), ShapeError);
  EXPECT_THROW(m.forward(x, {.key_mask = zeros({2, 4}, DType::Bool)}), ShapeError);
  EXPECT_THROW(MultiHeadAttention({.d_model = 10, .n_heads = 3}, gen), ValueError);
}

TEST(NnParity, FeedForward) {
  for (auto [c, act] : {std::pair{"ffn_gelu", Activation::GELU}, std::pair{"ffn_gelu_tanh", Activation::GELUTanh},
                        std::pair{"ffn_relu", Activation::ReLU}}) {
    SCOPED_TRACE(c);
    Generator gen(2);
    Tensor x = fx(std::string(c) + ".x").requires_grad_();
    FeedForward f(x.size(2), 20, act, 0.0f, true, gen);
    f.load_state_dict(qkv::test::fx_prefixed(kFile, std::string(c) + ".p."));
    Tensor y = f.forward(x, gen);
    expect_close(y, fx(std::string(c) + ".y"), std::string(c) + ".y", kFwdTol);
    check_grads(f, y, c);
    expect_close(x.grad(), fx(std::string(c) + ".dx"), std::string(c) + ".dx", kGradTol);
  }
}

// Pre-LN and post-LN blocks against torch.nn.TransformerEncoderLayer
// (norm_first = true / false, GELU, dropout 0).
TEST(NnParity, TransformerBlockPreAndPostLN) {
  for (std::string c : {"block_pre", "block_post"}) {
    SCOPED_TRACE(c);
    Generator gen(3);
    std::vector<int64_t> flags = fx(c + ".flags").to_int_vector();  // pre, causal
    Tensor x = fx(c + ".x").requires_grad_();
    TransformerLayer b({.d_model = x.size(2), .n_heads = 2, .d_ff = 24, .activation = Activation::GELU,
                        .norm = flags[0] ? NormPlacement::Pre : NormPlacement::Post},
                       gen);
    b.load_state_dict(qkv::test::fx_prefixed(kFile, c + ".p."));
    Tensor kp = has(c + ".key_padding") ? fx(c + ".key_padding") : Tensor();
    Tensor y = b.forward(x, {.self = {.causal = flags[1] != 0, .key_mask = kp.defined() ? logical_not(kp) : Tensor()}});
    expect_close(y, fx(c + ".y"), c + ".y", kFwdTol);
    check_grads(b, y, c);
    expect_close(x.grad(), fx(c + ".dx"), c + ".dx", kGradTol);
  }
}

TEST(NnParity, SinusoidalPositionalEncoding) {
  for (int64_t d : {10, 7}) {
    Tensor want = fx("pe_d" + std::to_string(d));  // (40, d), float64-computed
    SinusoidalPositionalEncoding pe(d, /*max_len=*/8);
    expect_close(pe.forward(5), want.narrow(0, 0, 5), "pe rows 0..4", 1e-6);
    expect_close(pe.forward(3, 4), want.narrow(0, 4, 3), "pe rows 4..6", 1e-6);
    // past max_len: the table grows itself
    expect_close(pe.forward(30, 10), want.narrow(0, 10, 30), "pe rows 10..39", 1e-6);
    EXPECT_GE(pe.table_rows(), 40);
    EXPECT_FALSE(pe.forward(2).requires_grad());
    EXPECT_TRUE(pe.state_dict().empty());
  }
  // The paper's formula at one point: PE(pos=3, 2i=4) with d = 10.
  SinusoidalPositionalEncoding pe(10);
  EXPECT_NEAR(pe.forward(1, 3).to_vector()[4], std::sin(3.0 / std::pow(10000.0, 4.0 / 10.0)), 1e-7);
  EXPECT_NEAR(pe.forward(1, 3).to_vector()[5], std::cos(3.0 / std::pow(10000.0, 4.0 / 10.0)), 1e-7);
}

TEST(NnParity, LearnedPositionalEmbedding) {
  Generator gen(4);
  LearnedPositionalEmbedding wpe(16, 4, gen);
  EXPECT_EQ(wpe.named_parameters().at(0).first, "weight");
  Tensor rows = wpe.forward(3, 5);
  EXPECT_EQ(rows.shape(), (Shape{3, 4}));
  EXPECT_EQ(rows.to_vector(), wpe.weight.narrow(0, 5, 3).to_vector());
  rows.sum().backward();  // gradient reaches exactly rows 5..7
  std::vector<float> g = wpe.weight.grad().to_vector();
  for (int64_t r = 0; r < 16; ++r) EXPECT_EQ(g[r * 4], (r >= 5 && r < 8) ? 1.0f : 0.0f) << r;
  EXPECT_NO_THROW(wpe.forward(16, 0));
  EXPECT_THROW(wpe.forward(10, 7), ValueError);
  EXPECT_THROW(wpe.forward(17), ValueError);
}

// Decoding token by token (and in chunks) with the KV cache gives the full
// causal forward's outputs at every position.
TEST(NnParity, KVCacheMatchesFullForward) {
  Generator gen(6);
  TransformerLayer blk({.d_model = 16, .n_heads = 4, .d_ff = 64, .activation = Activation::GELUTanh}, gen);
  Tensor x = randn({2, 7, 16}, gen);
  NoGradGuard ng;
  Tensor full = blk.forward(x, {.self = {.causal = true}});
  KVCache cache(2, /*capacity=*/8, 16, /*n_self=*/1);
  std::vector<Tensor> steps;
  auto step = [&](const Tensor& xs) { return blk.forward(xs, {.self = {.causal = true, .cache = &cache.layer(0)}}); };
  steps.push_back(step(x.narrow(1, 0, 3)));  // a 3-token prompt
  for (int64_t t = 3; t < 7; ++t) steps.push_back(step(x.narrow(1, t, 1)));
  EXPECT_EQ(cache.length(), 7);
  expect_close(cat(steps, 1), full, "cached vs full", 1e-5);
  EXPECT_THROW(step(x.narrow(1, 0, 2)), ValueError);  // 7 + 2 > capacity 8

  MultiHeadAttention cross({.d_model = 16, .n_heads = 4, .cross = true}, gen);
  Tensor ctx = randn({2, 5, 16}, gen);
  Tensor want = cross.forward(x, {.context = ctx}).out;
  KVCache cc(2, 8, 16, /*n_self=*/0, /*n_cross=*/1);
  std::vector<Tensor> outs;
  outs.push_back(cross.forward(x.narrow(1, 0, 4), {.context = ctx, .cache = &cc.layer(0)}).out);
  outs.push_back(cross.forward(x.narrow(1, 4, 3), {.cache = &cc.layer(0)}).out);  // context not needed again
  expect_close(cat(outs, 1), want, "cross cached vs full", 1e-5);
  EXPECT_EQ(cc.layer(0).len, 5);
}

TEST(NnParity, CombineAttentionMasks) {
  // mask (T,S) = (2,3) true = attend; key_mask (B,S) = (2,3) true = real
  Tensor mask = tensor_bool({true, false, true, true, true, false}, {2, 3});
  Tensor km = tensor_bool({true, true, false, false, true, true}, {2, 3});
  Tensor m = combine_attention_masks(mask, km);
  ASSERT_EQ(m.shape(), (Shape{2, 1, 2, 3}));
  EXPECT_EQ(m.dtype(), DType::Bool);
  EXPECT_EQ(m.to_int_vector(), (std::vector<int64_t>{1, 0, 0, 1, 1, 0, /*b1*/ 0, 0, 1, 0, 1, 0}));
  EXPECT_EQ(combine_attention_masks(Tensor(), km).shape(), (Shape{2, 1, 1, 3}));
  EXPECT_FALSE(combine_attention_masks(Tensor(), Tensor()).defined());
  // A float (additive) mask: −∞ added where the key is padding, the bias kept elsewhere.
  Tensor bias = tensor({0.5f, -1.0f, 2.0f, 0.0f, 1.0f, 3.0f}, {2, 3});
  std::vector<float> f = combine_attention_masks(bias, km).to_vector();
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(f, (std::vector<float>{0.5f, -1.0f, -inf, 0.0f, 1.0f, -inf, /*b1*/ -inf, -1.0f, 2.0f, -inf, 1.0f, 3.0f}));
  EXPECT_THROW(combine_attention_masks(zeros({2, 3}, DType::Int64), Tensor()), ValueError);  // int mask
  EXPECT_THROW(combine_attention_masks(Tensor(), zeros({2, 3})), ValueError);                // float key mask
}
