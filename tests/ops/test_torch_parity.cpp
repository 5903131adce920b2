// tests/ops/test_torch_parity.cpp — forward values and gradients against
// PyTorch 1.13 (tests/fixtures/ops_parity.txt, written by
// tests/fixtures/make_op_fixtures.py; references computed in float64 from the
// same float32 inputs). In the llm.c manner: every tensor checked by name,
// reporting the max difference. Tolerances: |got − want| ≤ tol·(1 + |want|),
// tol = 1e-5 for forward values and 1e-4 for gradients.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include "qkv/qkv.h"
#include "support/text_fixtures.h"

#ifndef QKV_TEST_FIXTURES
#error "tests/CMakeLists.txt must define QKV_TEST_FIXTURES"
#endif

using namespace qkv;

namespace {

constexpr double kFwdTol = 1e-5, kGradTol = 1e-4;

// name → tensor, parsed once. Malformed lines fail loudly.
const std::map<std::string, Tensor>& fixtures() {
  static const std::map<std::string, Tensor> m =
      qkv::testing::load_text_fixtures(std::string(QKV_TEST_FIXTURES) + "/ops_parity.txt");
  return m;
}

Tensor fx(const std::string& name) {
  auto it = fixtures().find(name);
  if (it == fixtures().end()) throw ValueError("fixture '" + name + "' missing from ops_parity.txt");
  return it->second.clone();  // fresh leaf every time
}
bool has(const std::string& name) { return fixtures().count(name) > 0; }

void expect_match(const Tensor& got, const std::string& name, double tol) {
  Tensor want = fx(name);
  ASSERT_TRUE(got.defined()) << name << ": no value";
  ASSERT_EQ(got.shape(), want.shape()) << name;
  std::vector<float> g = got.to_vector(), w = want.to_vector();
  double maxdiff = 0;
  size_t at = 0;
  for (size_t i = 0; i < g.size(); ++i) {
    double d = std::fabs(double(g[i]) - w[i]) / (1.0 + std::fabs(w[i]));
    if (!(d <= maxdiff)) {  // catches NaN
      maxdiff = std::isnan(d) ? INFINITY : d;
      at = i;
    }
  }
  EXPECT_LE(maxdiff, tol) << name << ": maxdiff " << maxdiff << " at element " << at << " (got " << g[at]
                          << ", torch " << w[at] << ")";
}

// Runs y = f(inputs…) with the fixture inputs as leaves, checks y and the
// gradients of Σ w ⊙ y against "<case>.d<input>".
void check_case(const std::string& c, const std::vector<std::string>& inputs,
                const std::function<Tensor(const std::vector<Tensor>&)>& f) {
  SCOPED_TRACE(c);
  std::vector<Tensor> xs;
  for (const auto& n : inputs) xs.push_back(fx(c + "." + n).requires_grad_());
  Tensor y = f(xs);
  expect_match(y, c + ".y", kFwdTol);
  y.backward(fx(c + ".w"));
  for (size_t i = 0; i < xs.size(); ++i) expect_match(xs[i].grad(), c + ".d" + inputs[i], kGradTol);
}

}  // namespace

TEST(TorchParity, FixtureFileLoads) {
  ASSERT_NO_THROW(fixtures());
  EXPECT_GT(fixtures().size(), 100u);
}

TEST(TorchParity, Softmax) {
  for (std::string c : {"softmax_last", "softmax_dim1"}) {
    int64_t dim = fx(c + ".dim").to_int_vector()[0];
    check_case(c, {"x"}, [dim](const auto& x) { return softmax(x[0], dim); });
  }
}

TEST(TorchParity, LogSoftmax) {
  for (std::string c : {"log_softmax_last", "log_softmax_dim0"}) {
    int64_t dim = fx(c + ".dim").to_int_vector()[0];
    check_case(c, {"x"}, [dim](const auto& x) { return log_softmax(x[0], dim); });
  }
}

TEST(TorchParity, LayerNorm) {
  for (std::string c : {"layer_norm", "layer_norm_2d"}) {
    std::vector<int64_t> ns = fx(c + ".ns").to_int_vector();
    check_case(c, {"x", "weight", "bias"},
               [ns](const auto& x) { return layer_norm(x[0], Shape(ns.begin(), ns.end()), x[1], x[2], 1e-5f); });
  }
}

TEST(TorchParity, GeluBothForms) {
  check_case("gelu_erf", {"x"}, [](const auto& x) { return gelu(x[0]); });
  check_case("gelu_tanh", {"x"}, [](const auto& x) { return gelu(x[0], GeluApprox::Tanh); });
}

TEST(TorchParity, CrossEntropyIgnoreIndexAndLabelSmoothing) {
  using R = CrossEntropyOptions::Reduction;
  for (std::string c : {"ce_mean", "ce_ignore_2", "ce_smooth", "ce_smooth_sum", "ce_smooth_none", "ce_3d"}) {
    std::vector<float> o = fx(c + ".opts").to_vector();
    CrossEntropyOptions opt;
    opt.ignore_index = static_cast<int64_t>(o[0]);
    opt.label_smoothing = o[1];
    opt.reduction = o[2] == 0 ? R::Mean : o[2] == 1 ? R::Sum : R::None;
    Tensor t = fx(c + ".targets");
    check_case(c, {"logits"}, [&](const auto& x) { return cross_entropy(x[0], t, opt); });
  }
}

TEST(TorchParity, ScaledDotProductAttention) {
  for (std::string c : {"attn_plain", "attn_causal", "attn_causal_T4_S7", "attn_bool_mask_dead_row",
                        "attn_causal_and_mask"}) {
    AttentionOptions o;
    o.causal = fx(c + ".causal").item() != 0;
    if (has(c + ".mask")) o.mask = fx(c + ".mask");
    check_case(c, {"q", "k", "v"}, [&](const auto& x) { return scaled_dot_product_attention(x[0], x[1], x[2], o); });
  }
}

TEST(TorchParity, MatmulBroadcastAndVectors) {
  for (std::string c : {"matmul_bcast", "matmul_mat_vec", "matmul_vec_batched"})
    check_case(c, {"a", "b"}, [](const auto& x) { return matmul(x[0], x[1]); });
}
