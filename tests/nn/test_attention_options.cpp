// tests/nn/test_attention_options.cpp — nn::MultiHeadAttention under every
// combination of its options (self/cross, fused/separate projections, causal,
// bool/float mask, key padding, weights, the QK hook, the cache) against a
// plain reference: per head, scores = q·kᵀ/√hs, masked entries −∞ (or the
// float bias added), softmax, · v, then the output projection — written with
// explicit loops over float64, independent of the fused attention op.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "qkv/nn/nn.h"
#include "qkv/ops/ops.h"

using namespace qkv;
using namespace qkv::nn;

namespace {

struct Case {
  bool cross, fused, causal;
  int mask;  // 0 none, 1 bool (T,S), 2 float (NH,T,S) bias
  bool padded;
};

// Reference attention over already-projected q (B,T,C), k, v (B,S,C).
// Returns the heads' concatenated context (B,T,C) and weights (B,NH,T,S).
std::pair<Tensor, Tensor> reference(const Tensor& q, const Tensor& k, const Tensor& v, int64_t NH, const Case& c,
                                    const Tensor& mask, const Tensor& key_mask) {
  const int64_t B = q.size(0), T = q.size(1), S = k.size(1), C = q.size(2), hs = C / NH;
  std::vector<float> Q = q.contiguous().to_vector(), K = k.contiguous().to_vector(), Vv = v.contiguous().to_vector();
  std::vector<float> M = mask.defined() ? mask.to(DType::Float32).contiguous().to_vector() : std::vector<float>();
  std::vector<int64_t> KM = key_mask.defined() ? key_mask.to_int_vector() : std::vector<int64_t>();
  std::vector<float> out(B * T * C, 0.0f), W(B * NH * T * S, 0.0f);
  const double ninf = -std::numeric_limits<double>::infinity();
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < NH; ++h)
      for (int64_t t = 0; t < T; ++t) {
        std::vector<double> sc(S);
        double mx = ninf;
        for (int64_t s = 0; s < S; ++s) {
          double d = 0;
          for (int64_t i = 0; i < hs; ++i) d += double(Q[(b * T + t) * C + h * hs + i]) * K[(b * S + s) * C + h * hs + i];
          d /= std::sqrt(double(hs));
          bool dead = (c.causal && s > t + (S - T)) || (!KM.empty() && KM[b * S + s] == 0);
          if (c.mask == 1 && M[t * S + s] == 0.0f) dead = true;
          if (c.mask == 2) d += M[(h * T + t) * S + s];
          sc[s] = dead ? ninf : d;
          mx = std::max(mx, sc[s]);
        }
        if (mx == ninf) continue;  // nothing to attend to: zeros
        double z = 0;
        for (double& e : sc) z += (e = std::exp(e - mx));
        for (int64_t s = 0; s < S; ++s) {
          const double p = sc[s] / z;
          W[((b * NH + h) * T + t) * S + s] = float(p);
          for (int64_t i = 0; i < hs; ++i) out[(b * T + t) * C + h * hs + i] += float(p * Vv[(b * S + s) * C + h * hs + i]);
        }
      }
  return {tensor(out, {B, T, C}), tensor(W, {B, NH, T, S})};
}

void expect_near(const Tensor& got, const Tensor& want, const std::string& what, float tol = 2e-5f) {
  ASSERT_EQ(got.shape(), want.shape()) << what;
  std::vector<float> g = got.contiguous().to_vector(), w = want.contiguous().to_vector();
  for (size_t i = 0; i < g.size(); ++i) ASSERT_NEAR(g[i], w[i], tol * (1 + std::abs(w[i]))) << what << " at " << i;
}

Tensor param(const Module& m, const std::string& n) {
  for (const auto& [k, t] : m.named_parameters())
    if (k == n) return t;
  ADD_FAILURE() << "no parameter " << n;
  return Tensor();
}

std::string name(const Case& c) {
  return std::string(c.cross ? "cross" : "self") + (c.fused ? "/fused" : "/separate") + (c.causal ? "/causal" : "") +
         (c.mask == 1 ? "/bool" : c.mask == 2 ? "/float" : "") + (c.padded ? "/padded" : "");
}

}  // namespace

TEST(AttentionOptions, EveryCombinationMatchesTheReference) {
  const int64_t B = 2, T = 5, C = 12, NH = 3, Ckv = 8;
  int checked = 0;
  for (bool cross : {false, true})
    for (bool fused : {true, false})
      for (bool causal : {false, true})
        for (int mask_kind : {0, 1, 2})
          for (bool padded : {false, true}) {
            const Case c{cross, fused, causal, mask_kind, padded};
            SCOPED_TRACE(name(c));
            Generator gen(11);
            AttentionConfig cfg{.d_model = C, .n_heads = NH, .kv_dim = cross ? Ckv : 0, .cross = cross};
            if (!fused) cfg.names = ProjectionNames::separate("query", "key", "value", "dense");
            MultiHeadAttention m(cfg, gen);
            Tensor x = randn({B, T, C}, gen), ctx = cross ? randn({B, 7, Ckv}, gen) : Tensor();
            const int64_t S = cross ? 7 : T;
            Tensor mask;
            if (mask_kind == 1) mask = gt(randn({T, S}, gen), -0.5f);
            if (mask_kind == 2) mask = randn({NH, T, S}, gen);
            Tensor key_mask;  // row 1 loses its first two keys (left padding)
            if (padded) {
              std::vector<bool> km(B * S, true);
              km[S] = km[S + 1] = false;
              key_mask = tensor_bool(km, {B, S});
            }
            AttentionOutput r = m.forward(
                x, {.context = ctx, .causal = causal, .mask = mask, .key_mask = key_mask, .need_weights = true});
            // The projections the reference uses, read from the module by name.
            Tensor q, k, v;
            auto lin = [&](const std::string& n, const Tensor& in) {
              return linear(in, param(m, n + ".weight"), param(m, n + ".bias"));
            };
            if (!cross && fused) {
              std::vector<Tensor> s = lin("c_attn", x).split(C, 2);
              q = s[0], k = s[1], v = s[2];
            } else if (cross && fused) {
              q = lin("q_attn", x);
              std::vector<Tensor> s = lin("c_attn", ctx).split(C, 2);
              k = s[0], v = s[1];
            } else {
              const Tensor& src = cross ? ctx : x;
              q = lin("query", x), k = lin("key", src), v = lin("value", src);
            }
            auto [ctxv, w] = reference(q, k, v, NH, c, mask, key_mask);
            expect_near(r.weights, w, "weights");
            expect_near(r.out, lin(fused ? "c_proj" : "dense", ctxv), "out");
            ++checked;
          }
  EXPECT_EQ(checked, 48);
}

TEST(AttentionOptions, QKTransformRunsBeforeTheProduct) {
  Generator gen(3);
  MultiHeadAttention m({.d_model = 8, .n_heads = 2}, gen);
  Tensor x = randn({1, 4, 8}, gen);
  // A stand-in for rotary embeddings: scale each query row by (1 + position).
  m.qk_transform = [](Tensor& q, Tensor& k, const Tensor& positions) {
    Tensor f = add(positions.to(DType::Float32), 1.0f).reshape({1, -1, 1});
    q = mul(q, f);
  };
  Tensor pos = arange(4);
  Tensor got = m.forward(x, {.causal = true, .positions = pos}).out;
  std::vector<Tensor> s = linear(x, m.qkv_proj->weight, m.qkv_proj->bias).split(8, 2);
  Tensor q = mul(s[0], tensor({1, 2, 3, 4}, {1, 4, 1}));
  auto [ctxv, w] = reference(q, s[1], s[2], 2, {false, true, true, 0, false}, Tensor(), Tensor());
  expect_near(got, linear(ctxv, m.out_proj->weight, m.out_proj->bias), "hooked");
}

TEST(AttentionOptions, PaddedCrossAttentionFromTheCache) {
  Generator gen(5);
  MultiHeadAttention m({.d_model = 8, .n_heads = 2, .cross = true}, gen);
  Tensor x = randn({2, 4, 8}, gen), src = randn({2, 6, 8}, gen);
  Tensor km = tensor_bool({true, true, true, true, false, false, /*b1*/ true, true, true, true, true, true}, {2, 6});
  Tensor want = m.forward(x, {.context = src, .key_mask = km}).out;
  KVCache cache(2, 8, 8, /*n_self=*/0, /*n_cross=*/1);
  Tensor a = m.forward(x.narrow(1, 0, 1), {.context = src, .key_mask = km, .cache = &cache.layer(0)}).out;
  Tensor b = m.forward(x.narrow(1, 1, 3), {.key_mask = km, .cache = &cache.layer(0)}).out;
  expect_near(cat({a, b}, 1), want, "cached padded cross-attention");
  // Padding really matters: without the mask the result differs.
  Tensor loose = m.forward(x, {.context = src}).out;
  EXPECT_GT(amax(abs(sub(loose, want))).item(), 1e-3f);
}

TEST(AttentionOptions, CacheReorderFollowsTheRows) {
  Generator gen(7);
  MultiHeadAttention m({.d_model = 8, .n_heads = 2}, gen);
  Tensor x = randn({3, 5, 8}, gen);
  KVCache cache(3, 6, 8, 1);
  m.forward(x.narrow(1, 0, 4), {.causal = true, .cache = &cache.layer(0)});
  const std::vector<int64_t> rows = {2, 0, 0, 1};  // drop none, duplicate row 0, grow to 4
  cache.reorder(rows);
  EXPECT_EQ(cache.batch(), 4);
  EXPECT_EQ(cache.length(), 4);
  Tensor xr = cat({x.select(0, 2).unsqueeze(0), x.select(0, 0).unsqueeze(0), x.select(0, 0).unsqueeze(0),
                   x.select(0, 1).unsqueeze(0)},
                  0);  // (4,5,8)
  Tensor got = m.forward(xr.narrow(1, 4, 1), {.causal = true, .cache = &cache.layer(0)}).out;
  Tensor want = m.forward(xr, {.causal = true}).out.narrow(1, 4, 1);
  expect_near(got, want, "after reorder");
  EXPECT_THROW(cache.reorder({4}), ValueError);
  EXPECT_THROW(cache.reorder({}), ValueError);
  cache.clear();
  EXPECT_EQ(cache.length(), 0);
}

// Beam search's cross-attention: rows read their sentence's context row
// (context_rows) — in equal consecutive groups without copying, in any other
// order by gathering — exactly as if each row had its own copy.
TEST(AttentionOptions, ContextRowsReadTheirSentence) {
  Generator gen(9);
  MultiHeadAttention m({.d_model = 8, .n_heads = 2, .cross = true}, gen);
  Tensor x = randn({6, 2, 8}, gen), src = randn({2, 5, 8}, gen);
  Tensor km = tensor_bool({true, true, true, true, true, /*b1*/ true, true, true, false, false}, {2, 5});
  for (const std::vector<int64_t>& rows : {std::vector<int64_t>{0, 0, 0, 1, 1, 1}, {1, 0, 1, 0, 0, 1}}) {
    const AttentionOutput want =
        m.forward(x, {.context = take_rows(src, rows), .key_mask = take_rows(km, rows), .need_weights = true});
    const AttentionOutput got =
        m.forward(x, {.context = src, .context_rows = rows, .key_mask = km, .need_weights = true});
    expect_near(got.out, want.out, "context_rows out");
    expect_near(got.weights, want.weights, "context_rows weights");
    KVCache cache(2, 8, 8, /*n_self=*/0, /*n_cross=*/1);  // one row per sentence
    Tensor a = m.forward(x.narrow(1, 0, 1), {.context = src, .context_rows = rows, .key_mask = km,
                                             .cache = &cache.layer(0)}).out;
    EXPECT_EQ(cache.layer(0).k.size(0), 2);
    Tensor b = m.forward(x.narrow(1, 1, 1), {.context_rows = rows, .key_mask = km, .cache = &cache.layer(0)}).out;
    expect_near(cat({a, b}, 1), want.out, "context_rows from the cache");
  }
  EXPECT_THROW(m.forward(x, {.context = src, .context_rows = {0, 1}, .key_mask = km}), ShapeError);
  EXPECT_THROW(m.forward(x, {.context = src, .context_rows = {0, 0, 0, 1, 1, 2}, .key_mask = km}), ValueError);
  MultiHeadAttention self({.d_model = 8, .n_heads = 2}, gen);
  EXPECT_THROW(self.forward(x, {.context_rows = {0, 0, 0, 1, 1, 1}}), ValueError);
}

TEST(AttentionOptions, CacheReorderLeavesCrossSlotsToReorderCross) {
  KVCache cache(2, 4, 8, /*n_self=*/1, /*n_cross=*/1);
  Generator gen(3);
  cache.layer(1).assign(randn({2, 3, 8}, gen), randn({2, 3, 8}, gen));
  const Tensor k1 = cache.layer(1).k.select(0, 1).contiguous();
  cache.reorder({1, 1, 0, 0});
  EXPECT_EQ(cache.layer(0).k.size(0), 4);
  EXPECT_EQ(cache.layer(1).k.size(0), 2);  // shared by the beams, not copied
  cache.reorder_cross({1});                // sentence 0 is done
  EXPECT_EQ(cache.layer(1).k.size(0), 1);
  expect_near(cache.layer(1).k.select(0, 0).contiguous(), k1, "reorder_cross keeps sentence 1");
  EXPECT_THROW(cache.reorder_cross({1}), ValueError);  // only one sentence row left
  EXPECT_THROW(cache.reorder({4}), ValueError);
}

TEST(AttentionOptions, BadArgumentsNameThemselves) {
  Generator gen(1);
  MultiHeadAttention m({.d_model = 8, .n_heads = 2}, gen);
  Tensor x = randn({2, 3, 8}, gen);
  auto message = [&](const AttentionArgs& a) {
    try {
      m.forward(x, a);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message({.mask = zeros({3, 3}, DType::Int64)}).find("mask must be bool"), std::string::npos);
  EXPECT_NE(message({.key_mask = ones({2, 3})}).find("key_mask must be bool"), std::string::npos);
  EXPECT_NE(message({.key_mask = ones({2, 4}, DType::Bool)}).find("key_mask must be (B,S)"), std::string::npos);
  KVCache small(2, 2, 8, 1);
  EXPECT_NE(message({.cache = &small.layer(0)}).find("capacity"), std::string::npos);
  KVCache other(1, 8, 8, 1);
  EXPECT_NE(message({.cache = &other.layer(0)}).find("KVCache"), std::string::npos);
  EXPECT_THROW(MultiHeadAttention({.d_model = 8, .n_heads = 2, .kv_dim = 4}, gen), ValueError);  // kv_dim, self
  m.train();
  MultiHeadAttention d({.d_model = 8, .n_heads = 2, .dropout = 0.1f}, gen);
  EXPECT_THROW(d.forward(x), ValueError);  // dropout in training mode needs a generator
}
