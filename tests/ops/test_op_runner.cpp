// tests/ops/test_op_runner.cpp — turns every op case (op_cases.cpp) into the
// checks described in gradcheck.h, plus the meta-test that every op in
// qkv/ops/op_list.h has an entry. Test names: OpCases/OpCaseTest.Check/<op>__<variant>.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <sstream>

#include "ops/gradcheck.h"
#include "qkv/ops/op_list.h"

namespace qkv::test {
namespace {

struct Param {
  size_t c, v;
};
void PrintTo(const Param& p, std::ostream* os) {
  *os << op_cases()[p.c].op << "/" << op_cases()[p.c].variants[p.v].name;
}

std::vector<Param> all_params() {
  std::vector<Param> ps;
  const auto& cs = op_cases();
  for (size_t c = 0; c < cs.size(); ++c)
    for (size_t v = 0; v < cs[c].variants.size(); ++v) ps.push_back({c, v});
  return ps;
}

std::string param_name(const ::testing::TestParamInfo<Param>& info) {
  const OpCase& c = op_cases()[info.param.c];
  std::string n = c.op + "__" + c.variants[info.param.v].name;
  for (char& ch : n)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return n;
}

uint64_t fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char ch : s) h = (h ^ ch) * 1099511628211ULL;
  return h;
}

// Everything one variant needs, resolved against its OpCase.
struct Ctx {
  const OpCase& c;
  const Variant& v;
  Tol tol;
  CallFn call, ref;
  uint64_t seed;

  Ctx(const OpCase& c_, const Variant& v_)
      : c(c_), v(v_), tol(v_.tol.value_or(c_.tol)), call(v_.call ? v_.call : c_.call),
        ref(v_.reference ? v_.reference : c_.reference), seed(fnv1a(c_.op + "/" + v_.name)) {}

  bool wants_grad(const Inputs& in, size_t i) const {
    return in[i].defined() && in[i].dtype() == DType::Float32 &&
           std::find(v.no_grad.begin(), v.no_grad.end(), static_cast<int>(i)) == v.no_grad.end();
  }
  // Fresh leaves (same values every time: seeded by the variant's name).
  Inputs leaves(bool grad) const {
    Generator g(seed);
    Inputs in = v.make(g);
    for (size_t i = 0; i < in.size(); ++i)
      if (grad && wants_grad(in, i)) in[i].requires_grad_();
    return in;
  }
  Inputs apply(const Inputs& l) const { return v.layout ? v.layout(l) : l; }
  Tensor weights(const Shape& s) const {
    Generator g(seed ^ 0x5eedULL);
    return randn(s, g);
  }
  std::string where() const { return c.op + "/" + v.name; }
};

std::vector<float> grad_values(const Tensor& leaf) {
  Tensor g = leaf.grad();
  if (!g.defined()) return std::vector<float>(leaf.numel(), 0.0f);
  EXPECT_EQ(g.shape(), leaf.shape()) << "gradient shape";
  return g.to_vector();
}

// Elements of an n-element input probed by finite differences.
std::vector<int64_t> probes(int64_t n) {
  std::vector<int64_t> p;
  if (n <= kMaxProbes) {
    for (int64_t i = 0; i < n; ++i) p.push_back(i);
    return p;
  }
  for (int64_t k = 0; k < kMaxProbes - 1; ++k) p.push_back((k * n) / (kMaxProbes - 1) + (k * 7) % 5);
  p.push_back(n - 1);
  for (int64_t& i : p) i = std::min(i, n - 1);
  return p;
}

bool close(double a, double b, double atol, double rtol) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  if (std::isinf(a) || std::isinf(b)) return a == b;
  return std::fabs(a - b) <= atol + rtol * std::fabs(b);
}

// Compares two value lists; reports the first few mismatches.
void expect_close(const std::vector<float>& got, const std::vector<float>& want, double atol, double rtol,
                  const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  int bad = 0;
  double worst = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    if (close(got[i], want[i], atol, rtol)) continue;
    worst = std::max(worst, std::fabs(double(got[i]) - want[i]));
    if (++bad <= 4) ADD_FAILURE() << what << ": element " << i << " got " << got[i] << ", want " << want[i];
  }
  EXPECT_EQ(bad, 0) << what << ": " << bad << " of " << got.size() << " elements differ (max |diff| " << worst
                    << ", atol " << atol << ", rtol " << rtol << ")";
}

void check_grad(const Ctx& x) {
  Inputs L = x.leaves(true);
  Tensor y = x.call(x.apply(L));
  ASSERT_EQ(y.dtype(), DType::Float32) << x.where();
  ASSERT_TRUE(y.requires_grad()) << x.where() << ": the op recorded no graph";
  Tensor w = x.weights(y.shape());
  y.backward(w);
  const std::vector<float> wv = w.to_vector();
  auto objective = [&] {  // L = Σ w ⊙ f(x): f in float32, the sum in double
    NoGradGuard ng;
    std::vector<float> yv = x.call(x.apply(L)).to_vector();
    double s = 0;
    for (size_t j = 0; j < yv.size(); ++j) s += static_cast<double>(wv[j]) * yv[j];
    return s;
  };
  for (size_t i = 0; i < L.size(); ++i) {
    if (!x.wants_grad(L, i)) continue;
    ASSERT_TRUE(L[i].is_contiguous());
    std::vector<float> analytic = grad_values(L[i]);
    float* p = L[i].data<float>();
    int bad = 0;
    double worst_abs = 0, worst_scaled = 0;  // |Δ|, |Δ| / (atol + rtol·|numeric|)
    for (int64_t k : probes(L[i].numel())) {
      const float x0 = p[k];
      const float xp = x0 + static_cast<float>(x.tol.eps), xm = x0 - static_cast<float>(x.tol.eps);
      p[k] = xp;
      const double lp = objective();
      p[k] = xm;
      const double lm = objective();
      p[k] = x0;
      // the actual float32 step, not the nominal one
      const double numeric = (lp - lm) / (static_cast<double>(xp) - static_cast<double>(xm));
      const double diff = std::fabs(analytic[k] - numeric);
      worst_abs = std::max(worst_abs, diff);
      worst_scaled = std::max(worst_scaled, diff / (x.tol.atol + x.tol.rtol * std::fabs(numeric)));
      if (!close(analytic[k], numeric, x.tol.atol, x.tol.rtol) && ++bad <= 4)
        ADD_FAILURE() << x.where() << ": d/d input" << i << "[" << k << "] analytic " << analytic[k]
                      << ", finite difference " << numeric;
    }
    EXPECT_EQ(bad, 0) << x.where() << ": input " << i << " " << shape_str(L[i].shape()) << " failed gradcheck";
    if (std::getenv("QKV_GRADCHECK_REPORT"))  // how close each variant runs to its tolerance
      std::printf("gradcheck %-50s input %zu: max |analytic - numeric| %.2e (%.0f%% of tolerance)\n",
                  x.where().c_str(), i, worst_abs, 100 * worst_scaled);
  }
}

void check_ref(const Ctx& x) {
  ASSERT_TRUE(x.ref) << x.where() << ": kRef without a reference";
  Inputs L1 = x.leaves(true), L2 = x.leaves(true);
  Tensor y = x.call(x.apply(L1));
  Tensor r = x.ref(x.apply(L2));
  ASSERT_EQ(y.shape(), r.shape()) << x.where();
  ASSERT_EQ(y.dtype(), r.dtype()) << x.where();
  if (y.dtype() != DType::Float32) {
    EXPECT_EQ(y.to_int_vector(), r.to_int_vector()) << x.where();
    return;
  }
  expect_close(y.to_vector(), r.to_vector(), x.tol.ref_atol, x.tol.ref_rtol, x.where() + " forward vs reference");
  if (!y.requires_grad() || !r.requires_grad() || y.numel() == 0) return;
  Tensor w = x.weights(y.shape());
  y.backward(w);
  r.backward(w);
  for (size_t i = 0; i < L1.size(); ++i) {
    if (!x.wants_grad(L1, i)) continue;
    expect_close(grad_values(L1[i]), grad_values(L2[i]), x.tol.ref_grad_tol, x.tol.ref_grad_tol,
                 x.where() + " gradient of input " + std::to_string(i) + " vs reference");
  }
}

void check_threads(const Ctx& x) {
  auto run = [&](int nt) {
    set_num_threads(nt);
    Inputs L = x.leaves(true);
    Tensor y = x.call(x.apply(L));
    std::vector<std::vector<float>> out{y.dtype() == DType::Float32 ? y.to_vector() : std::vector<float>{}};
    if (y.dtype() != DType::Float32) {
      for (int64_t v : y.to_int_vector()) out[0].push_back(static_cast<float>(v));
    }
    if (y.requires_grad()) {
      y.backward(x.weights(y.shape()));
      for (size_t i = 0; i < L.size(); ++i)
        if (x.wants_grad(L, i)) out.push_back(grad_values(L[i]));
    }
    return out;
  };
  const int prev = num_threads();
  auto one = run(1);
  auto two = run(2);
  set_num_threads(prev);
  ASSERT_EQ(one.size(), two.size());
  for (size_t k = 0; k < one.size(); ++k)
    expect_close(two[k], one[k], 1e-6, 1e-6,
                 x.where() + (k == 0 ? " output" : " gradient " + std::to_string(k - 1)) + ", 2 vs 1 threads");
}

void check_no_graph(const Ctx& x) {
  Inputs L = x.leaves(true);
  Tensor y = x.call(x.apply(L));
  EXPECT_FALSE(y.requires_grad()) << x.where() << ": a non-differentiable op recorded a graph";
  EXPECT_EQ(y.grad_fn(), nullptr) << x.where();
  ASSERT_TRUE(x.ref) << x.where();
  Tensor r = x.ref(x.apply(L));
  ASSERT_EQ(y.shape(), r.shape()) << x.where();
  ASSERT_EQ(y.dtype(), r.dtype()) << x.where();
  EXPECT_EQ(y.to_vector(), r.to_vector()) << x.where();
}

class OpCaseTest : public ::testing::TestWithParam<Param> {};

TEST_P(OpCaseTest, Check) {
  const OpCase& c = op_cases()[GetParam().c];
  Ctx x(c, c.variants[GetParam().v]);
  const unsigned checks = x.v.checks;
  if (checks & kNoGraph) check_no_graph(x);
  if (checks & kGrad) check_grad(x);
  if (checks & kRef) check_ref(x);
  if (checks & kThreads) check_threads(x);
}

INSTANTIATE_TEST_SUITE_P(OpCases, OpCaseTest, ::testing::ValuesIn(all_params()), param_name);

// ---------------------------------------------------------------- meta

TEST(OpCases, EveryListedOpHasAnEntry) {
  std::set<std::string> have;
  for (const OpCase& c : op_cases()) have.insert(c.op);
  for (size_t i = 0; i < ops::kNumOps; ++i)
    EXPECT_TRUE(have.count(ops::kOpNames[i])) << "op '" << ops::kOpNames[i]
                                              << "' (qkv/ops/op_list.h) has no entry in tests/ops/op_cases.cpp";
}

TEST(OpCases, EntriesAreListedOpsWithCheckedVariants) {
  std::set<std::string> listed(ops::kOpNames, ops::kOpNames + ops::kNumOps);
  std::set<std::string> seen;
  for (const OpCase& c : op_cases()) {
    EXPECT_TRUE(listed.count(c.op)) << "entry '" << c.op << "' is not in QKV_OP_LIST";
    EXPECT_TRUE(seen.insert(c.op).second) << "two entries for '" << c.op << "'";
    EXPECT_FALSE(c.variants.empty()) << c.op;
    bool checked = false;
    std::set<std::string> names;
    for (const Variant& v : c.variants) {
      checked = checked || (v.checks & (kGrad | kNoGraph));
      EXPECT_TRUE(names.insert(v.name).second) << c.op << ": variant '" << v.name << "' repeated";
    }
    EXPECT_TRUE(checked) << c.op << " has no gradcheck (or no-graph) variant";
  }
}

// ------------------------------------------------- rules the table can't express

TEST(OpRules, AmaxTiesShareTheGradient) {  // PyTorch's amax/amin rule
  Tensor x = tensor({1, 3, 3, 2, 0, 0}, {2, 3}).requires_grad_();
  amax(x, {1}).sum().backward();
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{0, 0.5f, 0.5f, 1, 0, 0}));
  Tensor z = tensor({1, 3, 3, 2, 0, 0}, {2, 3}).requires_grad_();
  amin(z, {1}).sum().backward();
  EXPECT_EQ(z.grad().to_vector(), (std::vector<float>{1, 0, 0, 0, 0.5f, 0.5f}));
}

TEST(OpRules, MaxAlongDimTiesPickTheFirstIndex) {
  Tensor x = tensor({1, 3, 3, 2}, {1, 4}).requires_grad_();
  auto [v, i] = max(x, 1);
  EXPECT_EQ(i.to_int_vector(), std::vector<int64_t>{1});
  v.sum().backward();
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{0, 1, 0, 0}));
  EXPECT_EQ(argmax(tensor({5, 5, 1}), 0).item(), 0);
}

TEST(OpRules, CrossEntropyAllIgnoredIsNaNLikeTorch) {
  Tensor logits = zeros({2, 3});
  Tensor t = tensor_i64({-100, -100}, {2});
  EXPECT_TRUE(std::isnan(cross_entropy(logits, t).item()));
  CrossEntropyOptions o;
  o.reduction = CrossEntropyOptions::Reduction::Sum;
  EXPECT_EQ(cross_entropy(logits, t, o).item(), 0.0f);
}

TEST(OpRules, AttentionDeadRowsAreZeroNotNaN) {
  Generator g(3);
  Tensor q = randn({1, 3, 4}, g).requires_grad_(), k = randn({1, 5, 4}, g).requires_grad_(),
         v = randn({1, 5, 2}, g).requires_grad_();
  std::vector<bool> m(15, true);
  for (int s = 0; s < 5; ++s) m[5 + s] = false;  // query 1 may attend to nothing
  AttentionOptions o;
  o.mask = tensor_bool(m, {3, 5});
  Tensor y = scaled_dot_product_attention(q, k, v, o);
  std::vector<float> yv = y.to_vector();
  EXPECT_EQ(yv[2], 0.0f);
  EXPECT_EQ(yv[3], 0.0f);
  for (float f : yv) EXPECT_TRUE(std::isfinite(f));
  y.sum().backward();
  std::vector<float> dq = q.grad().to_vector();
  for (int j = 0; j < 4; ++j) EXPECT_EQ(dq[4 + j], 0.0f);
  for (float f : k.grad().to_vector()) EXPECT_TRUE(std::isfinite(f));
  // attention_weights: rows sum to 1, the dead row to 0.
  std::vector<float> P = attention_weights(q, k, o).to_vector();
  for (int t = 0; t < 3; ++t) {
    double s = 0;
    for (int j = 0; j < 5; ++j) s += P[t * 5 + j];
    EXPECT_NEAR(s, t == 1 ? 0.0 : 1.0, 1e-6);
  }
}

TEST(OpRules, OpsRecordNothingWithoutRequiresGrad) {
  Generator g(1);
  Tensor a = randn({3, 4}, g), b = randn({4, 5}, g);
  EXPECT_FALSE(matmul(a, b).requires_grad());
  EXPECT_FALSE(softmax(a, -1).requires_grad());
  EXPECT_FALSE(a.transpose(0, 1).requires_grad());
  EXPECT_EQ(sum(a).grad_fn(), nullptr);
  EXPECT_EQ(layer_norm(a, {4}, Tensor(), Tensor()).grad_fn(), nullptr);
}

}  // namespace
}  // namespace qkv::test
