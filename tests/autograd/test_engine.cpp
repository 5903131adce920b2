// tests/autograd/test_engine.cpp — the backward engine: accumulation over
// shared inputs and diamonds, grad mode, detach, zero_grad, graph release.
#include <gtest/gtest.h>

#include <cmath>

#include "qkv/qkv.h"

using namespace qkv;

namespace {
std::vector<float> V(std::initializer_list<float> v) { return v; }
}  // namespace

TEST(Engine, SharedInputAccumulates) {
  Tensor x = tensor({1, 2, 3}).requires_grad_();
  Tensor y = (x * x + x * 3.0f).sum();  // x used three times
  y.backward();
  EXPECT_EQ(x.grad().to_vector(), V({5, 7, 9}));  // 2x + 3
}

TEST(Engine, DiamondGraph) {
  // a → b, a → c, (b, c) → d: the gradient reaching a sums both paths, and
  // a's node runs once, after both b and c.
  Tensor x = tensor({0.5f, -1.0f}).requires_grad_();
  Tensor a = x * 2.0f;
  Tensor b = exp(a);
  Tensor c = a * a;
  Tensor d = (b + c).sum();
  d.backward();
  std::vector<float> g = x.grad().to_vector(), xv = x.to_vector();
  for (int i = 0; i < 2; ++i) {
    float av = 2 * xv[i];
    EXPECT_NEAR(g[i], 2 * (std::exp(av) + 2 * av), 1e-5);
  }
}

TEST(Engine, DeepChainAndWideFanOut) {
  Tensor x = tensor({1.0f}).requires_grad_();
  Tensor y = x;
  for (int i = 0; i < 2000; ++i) y = y + 0.0f;  // deep: no recursion in the engine
  y.sum().backward();
  EXPECT_EQ(x.grad().item(), 1.0f);
  Tensor z = tensor({2.0f}).requires_grad_();
  Tensor acc = zeros({1});
  for (int i = 0; i < 100; ++i) acc = acc + z;  // wide: 100 uses of one leaf
  acc.sum().backward();
  EXPECT_EQ(z.grad().item(), 100.0f);
}

TEST(Engine, GradientsAccumulateAcrossBackwardsUntilZeroGrad) {
  Tensor x = tensor({1, 2}).requires_grad_();
  (x * 3.0f).sum().backward();
  (x * 3.0f).sum().backward();
  EXPECT_EQ(x.grad().to_vector(), V({6, 6}));
  x.zero_grad();
  EXPECT_FALSE(x.grad().defined());
  (x * 2.0f).sum().backward();
  EXPECT_EQ(x.grad().to_vector(), V({2, 2}));
}

TEST(Engine, AccumulationIntoLargeGradsIsThreadCountIndependent) {
  const int prev = num_threads();
  std::vector<float> res[2];
  for (int nt : {1, 2}) {
    set_num_threads(nt);
    Generator g(4);
    Tensor x = randn({300, 257}, g).requires_grad_();
    (x * x).sum().backward();
    (sigmoid(x) * 2.0f).sum().backward();  // second pass accumulates (parallel path)
    res[nt - 1] = x.grad().to_vector();
  }
  set_num_threads(prev);
  EXPECT_EQ(res[0], res[1]);
}

TEST(Engine, NoGradGuardRecordsNothing) {
  Tensor x = tensor({1, 2}).requires_grad_();
  {
    NoGradGuard ng;
    EXPECT_FALSE(autograd::grad_enabled());
    Tensor y = matmul(x.unsqueeze(0), x.unsqueeze(1));
    EXPECT_FALSE(y.requires_grad());
    EXPECT_EQ(y.grad_fn(), nullptr);
    Tensor s = softmax(x, 0);
    EXPECT_EQ(s.grad_fn(), nullptr);
    {
      NoGradGuard nested;
    }
    EXPECT_FALSE(autograd::grad_enabled());  // nested guard restores "off"
    EXPECT_THROW(y.sum().backward(), ValueError);  // nothing to backpropagate
  }
  EXPECT_TRUE(autograd::grad_enabled());
  EXPECT_TRUE((x * 2.0f).requires_grad());
}

TEST(Engine, DetachCutsTheGraph) {
  Tensor x = tensor({1, 2}).requires_grad_();
  Tensor y = x * 3.0f;
  Tensor d = y.detach();
  EXPECT_FALSE(d.requires_grad());
  EXPECT_TRUE(d.is_leaf());
  EXPECT_EQ(d.impl().storage, y.impl().storage);  // same data
  Tensor z = (d * x).sum();  // only the direct x path carries gradient
  z.backward();
  EXPECT_EQ(x.grad().to_vector(), V({3, 6}));
}

TEST(Engine, BackwardTwiceThrows) {
  Tensor x = tensor({1, 2}).requires_grad_();
  Tensor y = (x * x).sum();
  y.backward();
  try {
    y.backward();
    FAIL() << "second backward through a freed graph must throw";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("already freed"), std::string::npos) << e.what();
  }
  // a new graph from the same leaves works
  (x * x).sum().backward();
  EXPECT_EQ(x.grad().to_vector(), V({4, 8}));
}

TEST(Engine, NonScalarBackwardNeedsAGradient) {
  Tensor x = tensor({1, 2, 3}).requires_grad_();
  Tensor y = x * 2.0f;
  EXPECT_THROW(y.backward(), ShapeError);
  EXPECT_THROW(y.backward(ones({2})), ShapeError);
  y.backward(tensor({1, 0, -1}));
  EXPECT_EQ(x.grad().to_vector(), V({2, 0, -2}));
}

TEST(Engine, LeafBackwardAndRequiresGradRules) {
  Tensor x = tensor({1, 2}).requires_grad_();
  x.backward(tensor({3, 4}));  // a leaf: the seed is its gradient
  EXPECT_EQ(x.grad().to_vector(), V({3, 4}));
  Tensor c = tensor({1, 2});
  EXPECT_THROW(c.sum().backward(), ValueError);  // nothing requires grad
  EXPECT_FALSE((c * x.detach()).requires_grad());
  Tensor m = x * c;
  EXPECT_TRUE(m.requires_grad());
  EXPECT_FALSE(m.is_leaf());
  m.sum().backward();
  EXPECT_FALSE(c.grad().defined());  // constants get no .grad
}

TEST(Engine, GradientOnlyFlowsToInputsThatNeedIt) {
  Generator g(2);
  Tensor w = randn({4, 3}, g).requires_grad_();
  Tensor x = randn({2, 3}, g);
  linear(x, w).sum().backward();
  EXPECT_TRUE(w.grad().defined());
  EXPECT_FALSE(x.grad().defined());
  EXPECT_EQ(w.grad().shape(), w.shape());
}

TEST(Engine, SetGradAndBackwardThroughViews) {
  Tensor x = zeros({2, 3}).requires_grad_();
  Tensor y = x.t().reshape({6}).slice(0, 1, 6, 2);  // reshape copies (x.t() is not contiguous)
  y.backward(ones({3}));
  // t() order: x00 x10 x01 x11 x02 x12; picks indices 1,3,5 → x10 x11 x12
  EXPECT_EQ(x.grad().to_vector(), V({0, 0, 0, 1, 1, 1}));
  x.set_grad(Tensor());
  EXPECT_FALSE(x.grad().defined());
}

TEST(Engine, ForwardWithoutBackwardFreesEverything) {
  // Every op's closure must not keep its own output alive (a reference cycle
  // would leak the output and its graph when backward is never called).
  Generator g(6);
  Tensor x = randn({4, 8}, g).requires_grad_();
  Tensor ln_w = ones({8}).requires_grad_();
  Tensor ids = randint(0, 8, {4}, g);
  auto run_all = [&] {
    Tensor a = softmax(x, -1);
    Tensor b = log_softmax(x, -1);
    Tensor b0 = softmax(x, 0);
    Tensor c = layer_norm(x, {8}, ln_w, Tensor());
    Tensor d = gelu(x) + silu(x) + tanh(x) + exp(x) + sigmoid(x) + relu(x);
    Tensor e = cross_entropy(x, ids);
    Tensor f = scaled_dot_product_attention(x.unsqueeze(0), x.unsqueeze(0), x.unsqueeze(0));
    Tensor h = matmul(x, x.t()) + linear(x, x);
    Tensor i = amax(x, {1}) + max(x, 1).first + logsumexp(x, {1}) + var(x, {1}) + mean(x, {1});
    Tensor j = cat({x, x}, 0).narrow(0, 1, 2) + tril(x, 0).select(0, 1) + where(gt(x, 0.0f), x, x * 2.0f).sum({0});
    Tensor k = embedding(x.t(), ids);
    Tensor k2 = masked_fill(x, gt(x, 1.0f), 0.0f);
    Generator dg(1);
    Tensor l = dropout(x, 0.5f, true, dg) + pow(abs(x) + 1.0f, x) + clamp(x, -1.0f, 1.0f);
  };
  run_all();  // warm the allocator
  const size_t before = allocator_stats().bytes_in_use;
  for (int i = 0; i < 3; ++i) run_all();
  EXPECT_EQ(allocator_stats().bytes_in_use, before) << "a forward pass leaked storage (a closure holding its output?)";
}
