// tests/nn/test_relative_attention.cpp — nn::MultiHeadAttention with Shaw et
// al. 2018's relative positions (nn::ShawRelativePositions) against a plain
// float64 reference written from the paper's equations (§3.1–3.2):
//   e_ts = q_t·(k_s + w^K[d]) / √hs (+ a float mask),  d = clip(s − t', −k, k) + k,
//   α = softmax over the visible keys,  z_t = Σ_s α_ts (v_s + w^V[d]),
// t' = t + S − T (bottom-right aligned with a cache). Every mask option, the
// weights, the cache, and the bad settings.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>

#include "qkv/autograd/autograd.h"
#include "qkv/nn/nn.h"
#include "qkv/ops/ops.h"

using namespace qkv;
using namespace qkv::nn;

namespace {

struct Case {
  bool fused, causal;
  int mask;  // 0 none, 1 bool (T,S), 2 float (NH,T,S) bias
  bool padded;
};

std::vector<float> vals(const Tensor& t) { return t.contiguous().to_vector(); }

// q (B,T,C), k, v (B,S,C) projected; wk, wv (2k+1,hs). Returns the heads'
// context (B,T,C) and the weights (B,NH,T,S).
std::pair<Tensor, Tensor> reference(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& wk,
                                    const Tensor& wv, int64_t NH, const Case& c, const Tensor& mask,
                                    const Tensor& key_mask) {
  const int64_t B = q.size(0), T = q.size(1), S = k.size(1), C = q.size(2), hs = C / NH, K = (wk.size(0) - 1) / 2;
  const std::vector<float> Q = vals(q), Kk = vals(k), Vv = vals(v), WK = vals(wk), WV = vals(wv);
  const std::vector<float> M = mask.defined() ? vals(mask.to(DType::Float32)) : std::vector<float>();
  const std::vector<int64_t> KM = key_mask.defined() ? key_mask.to_int_vector() : std::vector<int64_t>();
  std::vector<float> out(B * T * C, 0.0f), W(B * NH * T * S, 0.0f);
  const double ninf = -std::numeric_limits<double>::infinity();
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < NH; ++h)
      for (int64_t t = 0; t < T; ++t) {
        std::vector<double> sc(S);
        double mx = ninf;
        for (int64_t s = 0; s < S; ++s) {
          const int64_t d = std::clamp(s - (t + S - T), -K, K) + K;
          double e = 0;
          for (int64_t i = 0; i < hs; ++i)
            e += double(Q[(b * T + t) * C + h * hs + i]) * (Kk[(b * S + s) * C + h * hs + i] + WK[d * hs + i]);
          e /= std::sqrt(double(hs));
          bool dead = (c.causal && s > t + (S - T)) || (!KM.empty() && KM[b * S + s] == 0);
          if (c.mask == 1 && M[t * S + s] == 0.0f) dead = true;
          if (c.mask == 2) e += M[(h * T + t) * S + s];
          sc[s] = dead ? ninf : e;
          mx = std::max(mx, sc[s]);
        }
        if (mx == ninf) continue;  // nothing to attend to: zeros
        double z = 0;
        for (double& e : sc) z += (e = std::exp(e - mx));
        for (int64_t s = 0; s < S; ++s) {
          const double p = sc[s] / z;
          const int64_t d = std::clamp(s - (t + S - T), -K, K) + K;
          W[((b * NH + h) * T + t) * S + s] = float(p);
          for (int64_t i = 0; i < hs; ++i)
            out[(b * T + t) * C + h * hs + i] += float(p * (Vv[(b * S + s) * C + h * hs + i] + WV[d * hs + i]));
        }
      }
  return {tensor(out, {B, T, C}), tensor(W, {B, NH, T, S})};
}

void expect_near(const Tensor& got, const Tensor& want, const std::string& what, float tol = 2e-5f) {
  ASSERT_EQ(got.shape(), want.shape()) << what;
  const std::vector<float> g = vals(got), w = vals(want);
  for (size_t i = 0; i < g.size(); ++i) ASSERT_NEAR(g[i], w[i], tol * (1 + std::abs(w[i]))) << what << " at " << i;
}

Tensor param(const Module& m, const std::string& n) {
  for (const auto& [key, t] : m.named_parameters())
    if (key == n) return t;
  ADD_FAILURE() << "no parameter " << n;
  return Tensor();
}

// Self-attention of width 12, 3 heads (hs 4), relative positions with k.
std::unique_ptr<MultiHeadAttention> make(bool fused, int64_t k, Generator& gen) {
  AttentionConfig cfg{.d_model = 12, .n_heads = 3};
  if (!fused) cfg.names = ProjectionNames::separate("query", "key", "value", "dense");
  auto m = std::make_unique<MultiHeadAttention>(cfg, gen);
  m->add_relative_positions(k, gen);  // tables N(0,1): large enough to matter
  return m;
}

std::tuple<Tensor, Tensor, Tensor> project(const MultiHeadAttention& m, bool fused, const Tensor& x) {
  auto lin = [&](const std::string& n) { return linear(x, param(m, n + ".weight"), param(m, n + ".bias")); };
  if (fused) {
    std::vector<Tensor> s = lin("c_attn").split(12, 2);
    return {s[0], s[1], s[2]};
  }
  return {lin("query"), lin("key"), lin("value")};
}

}  // namespace

TEST(RelativeAttention, EveryMaskOptionMatchesThePapersEquations) {
  const int64_t B = 2, T = 7, C = 12, NH = 3, k = 2;  // k < T: the clipping matters
  int checked = 0;
  for (bool fused : {true, false})
    for (bool causal : {false, true})
      for (int mask_kind : {0, 1, 2})
        for (bool padded : {false, true}) {
          const Case c{fused, causal, mask_kind, padded};
          SCOPED_TRACE(std::to_string(fused) + std::to_string(causal) + std::to_string(mask_kind) + std::to_string(padded));
          Generator gen(5);
          const auto mp = make(fused, k, gen);
          const MultiHeadAttention& m = *mp;
          const Tensor x = randn({B, T, C}, gen);
          Tensor mask, key_mask;
          if (mask_kind == 1) mask = gt(randn({T, T}, gen), -0.5f);
          if (mask_kind == 2) mask = randn({NH, T, T}, gen);
          if (padded) {  // row 1 loses its first two keys (left padding)
            std::vector<bool> km(B * T, true);
            km[T] = km[T + 1] = false;
            key_mask = tensor_bool(km, {B, T});
          }
          AttentionOutput r = m.forward(x, {.causal = causal, .mask = mask, .key_mask = key_mask, .need_weights = true});
          auto [q, kk, v] = project(m, fused, x);
          auto [ctx, w] = reference(q, kk, v, m.rel_pos->w_k->weight, m.rel_pos->w_v->weight, NH, c, mask, key_mask);
          expect_near(r.weights, w, "weights");
          const std::string out = fused ? "c_proj" : "dense";
          expect_near(r.out, linear(ctx, param(m, out + ".weight"), param(m, out + ".bias")), "out");
          ++checked;
        }
  EXPECT_EQ(checked, 24);
}

// Cached decoding: queries at t + S − T. Prefill 3, then 1, then 2 tokens
// equal the rows of one causal call over all 6.
TEST(RelativeAttention, TheCacheAlignsQueriesBottomRight) {
  Generator gen(9);
  const auto mp = make(true, 2, gen);
  const MultiHeadAttention& m = *mp;
  NoGradGuard ng;
  const Tensor x = randn({2, 6, 12}, gen);
  const Tensor full = m.forward(x, {.causal = true}).out;
  LayerKV cache;
  cache.k = zeros({2, 6, 12}), cache.v = zeros({2, 6, 12});
  int64_t at = 0;
  for (int64_t n : {3, 1, 2}) {
    const Tensor y = m.forward(x.narrow(1, at, n).contiguous(), {.causal = true, .cache = &cache}).out;
    expect_near(y, full.narrow(1, at, n), "rows from " + std::to_string(at));
    at += n;
  }
}

// Gradients reach both tables and the projections (the value term needs α's).
TEST(RelativeAttention, GradientsReachBothTables) {
  Generator gen(3);
  const auto mp = make(true, 3, gen);
  const MultiHeadAttention& m = *mp;
  sum(mul(m.forward(randn({1, 5, 12}, gen), {.causal = true}).out, randn({1, 5, 12}, gen))).backward();
  for (const char* n : {"rel_pos.w_k.weight", "rel_pos.w_v.weight", "c_attn.weight"}) {
    const Tensor g = param(m, n).grad();
    ASSERT_TRUE(g.defined()) << n;
    double norm = 0;
    for (float v : vals(g)) norm += std::abs(v);
    EXPECT_GT(norm, 0.0) << n;
  }
}

TEST(RelativeAttention, BadSettingsNameThemselves) {
  Generator gen(1);
  for (int64_t k : {0, -3}) {
    try {
      ShawRelativePositions p(k, 4, gen);
      ADD_FAILURE() << "accepted k = " << k;
    } catch (const ValueError& e) {
      EXPECT_NE(std::string(e.what()).find("clipping distance k must be >= 1, got " + std::to_string(k)),
                std::string::npos)
          << e.what();
    }
  }
  MultiHeadAttention cross({.d_model = 8, .n_heads = 2, .cross = true}, gen);
  EXPECT_THROW(cross.add_relative_positions(4, gen), ValueError);
  EXPECT_THROW(relative_scatter(zeros({2, 3}), -1), ValueError);
  EXPECT_THROW(relative_gather(zeros({2, 4}), 3), ShapeError);  // an even table width is no 2k+1
}

// The index matrix of `qkv plot pe --kind relative`.
TEST(RelativeAttention, RelativeDistanceIsTheClippedOffset) {
  const std::vector<float> d = vals(relative_distance(4, 2));
  EXPECT_EQ(d, (std::vector<float>{0, 1, 2, 2, -1, 0, 1, 2, -2, -1, 0, 1, -2, -2, -1, 0}));
}
