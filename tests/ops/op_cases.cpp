// tests/ops/op_cases.cpp — one entry per op of qkv/ops/op_list.h.
//
// Each entry: the call, a reference (a composed path through other ops, or
// plain double-precision loops), and variants (input makers + layouts). See
// gradcheck.h for what the runner (test_op_runner.cpp) does with them.
// Inputs are drawn away from kinks (relu/abs at 0, clamp bounds, ties in
// max/min) so that finite differences never straddle one.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <tuple>

#include "ops/gradcheck.h"

namespace qkv::test {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// ------------------------------------------------------------------ makers

using DomFn = std::function<Tensor(const Shape&, Generator&)>;

Tensor map_values(Tensor t, const std::function<float(float)>& f) {
  float* p = t.data<float>();
  for (int64_t i = 0, n = t.numel(); i < n; ++i) p[i] = f(p[i]);
  return t;
}

// N(0, σ²)
DomFn normal(float sigma = 1.0f) {
  return [sigma](const Shape& s, Generator& g) { return map_values(randn(s, g), [sigma](float v) { return v * sigma; }); };
}
// U[lo, hi)
DomFn uniform(float lo, float hi) {
  return [lo, hi](const Shape& s, Generator& g) {
    return map_values(rand(s, g), [lo, hi](float v) { return lo + (hi - lo) * v; });
  };
}
// N(0,1) pushed at least `margin` away from each of `points` (kinks).
DomFn away(std::vector<float> points, float margin, float sigma = 1.0f) {
  return [points, margin, sigma](const Shape& s, Generator& g) {
    return map_values(randn(s, g), [&](float v) {
      v *= sigma;
      for (float p : points)
        if (std::fabs(v - p) < margin) v = v >= p ? p + margin + (v - p) : p - margin + (v - p);
      return v;
    });
  };
}
// Distinct values (a shuffled ramp with spacing 0.02): no ties for max/min.
DomFn distinct() {
  return [](const Shape& s, Generator& g) {
    Tensor t = Tensor::empty(s);
    int64_t n = t.numel();
    std::vector<int64_t> perm(n);
    std::iota(perm.begin(), perm.end(), 0);
    for (int64_t i = n - 1; i > 0; --i) std::swap(perm[i], perm[g.next_u64() % (i + 1)]);
    float* p = t.data<float>();
    for (int64_t i = 0; i < n; ++i) p[i] = 0.02f * static_cast<float>(perm[i] - n / 2);
    return t;
  };
}
// Small integers as float32 (exact ties for comparisons).
DomFn small_ints() {
  return [](const Shape& s, Generator& g) { return randint(-2, 3, s, g).to(DType::Float32); };
}

MakeFn make1(DomFn d, Shape s) {
  return [d, s](Generator& g) { return Inputs{d(s, g)}; };
}
MakeFn make2(DomFn da, Shape sa, DomFn db, Shape sb) {
  return [=](Generator& g) { return Inputs{da(sa, g), db(sb, g)}; };
}
MakeFn make_n(std::vector<std::pair<DomFn, Shape>> specs) {
  return [specs](Generator& g) {
    Inputs r;
    for (auto& [d, s] : specs) r.push_back(d(s, g));
    return r;
  };
}

// Layout helpers: apply f to input i.
LayoutFn on(size_t i, std::function<Tensor(const Tensor&)> f) {
  return [i, f](const Inputs& in) {
    Inputs r = in;
    r[i] = f(in[i]);
    return r;
  };
}
LayoutFn on_all(std::function<Tensor(const Tensor&)> f) {
  return [f](const Inputs& in) {
    Inputs r;
    for (const Tensor& t : in) r.push_back(t.dtype() == DType::Float32 ? f(t) : t);
    return r;
  };
}
Tensor tr(const Tensor& t) { return t.transpose(-1, -2); }
Tensor step2(const Tensor& t) { return t.slice(-1, 0, t.size(-1), 2); }

// ------------------------------------------------------- double references

int64_t ravel(const Shape& idx, const Shape& s) {
  int64_t r = 0;
  for (size_t d = 0; d < s.size(); ++d) r = r * s[d] + idx[d];
  return r;
}
Shape unravel(int64_t i, const Shape& s) {
  Shape idx(s.size());
  for (size_t d = s.size(); d-- > 0;) {
    idx[d] = i % s[d];
    i /= s[d];
  }
  return idx;
}
// Values of t broadcast to `shape`, row-major, in double.
std::vector<double> dvals(const Tensor& t, const Shape& shape) {
  NoGradGuard ng;
  std::vector<float> v = t.expand(shape).to_vector();
  return std::vector<double>(v.begin(), v.end());
}
Tensor from_d(const std::vector<double>& v, const Shape& s) {
  std::vector<float> f(v.begin(), v.end());
  return tensor(f, s);
}

CallFn ref_unary(std::function<double(double)> f) {
  return [f](const Inputs& in) {
    std::vector<double> v = dvals(in[0], in[0].shape());
    for (double& x : v) x = f(x);
    return from_d(v, in[0].shape());
  };
}
CallFn ref_binary(std::function<double(double, double)> f) {
  return [f](const Inputs& in) {
    Shape s = broadcast_shapes(in[0].shape(), in[1].shape(), "ref");
    std::vector<double> a = dvals(in[0], s), b = dvals(in[1], s);
    for (size_t i = 0; i < a.size(); ++i) a[i] = f(a[i], b[i]);
    return from_d(a, s);
  };
}

// Groups the elements of x by their position in the reduced output.
struct Groups {
  Shape out_shape;
  std::vector<std::vector<double>> g;
};
Groups group(const Tensor& x, const Shape& dims, bool keepdim) {
  const int64_t nd = x.dim();
  std::vector<bool> red(nd, dims.empty());
  for (int64_t d : dims)
    if (nd > 0) red[d < 0 ? d + nd : d] = true;  // dim 0 of a 0-d tensor: nothing to reduce
  Shape keep;
  Groups G;
  for (int64_t d = 0; d < nd; ++d) {
    keep.push_back(red[d] ? 1 : x.shape()[d]);
    if (!red[d]) G.out_shape.push_back(x.shape()[d]);
    else if (keepdim) G.out_shape.push_back(1);
  }
  std::vector<double> v = dvals(x, x.shape());
  G.g.resize(shape_numel(keep));
  for (int64_t i = 0; i < x.numel(); ++i) {
    Shape idx = unravel(i, x.shape());
    for (int64_t d = 0; d < nd; ++d)
      if (red[d]) idx[d] = 0;
    G.g[ravel(idx, keep)].push_back(v[i]);
  }
  return G;
}
using GroupFn = std::function<double(const std::vector<double>&)>;
Tensor ref_reduce(const Tensor& x, const Shape& dims, bool keepdim, const GroupFn& f) {
  Groups G = group(x, dims, keepdim);
  std::vector<double> out;
  for (auto& g : G.g) out.push_back(f(g));
  return from_d(out, G.out_shape);
}
double gsum(const std::vector<double>& g) { return std::accumulate(g.begin(), g.end(), 0.0); }
double gmean(const std::vector<double>& g) { return gsum(g) / g.size(); }
GroupFn gvar(int64_t correction) {
  return [correction](const std::vector<double>& g) {
    double m = gmean(g), s = 0;
    for (double v : g) s += (v - m) * (v - m);
    return s / static_cast<double>(g.size() - correction);
  };
}
double gmax(const std::vector<double>& g) { return *std::max_element(g.begin(), g.end()); }
double gmin(const std::vector<double>& g) { return *std::min_element(g.begin(), g.end()); }
double gargmax(const std::vector<double>& g) { return static_cast<double>(std::max_element(g.begin(), g.end()) - g.begin()); }
double gargmin(const std::vector<double>& g) { return static_cast<double>(std::min_element(g.begin(), g.end()) - g.begin()); }
double glse(const std::vector<double>& g) {
  double m = gmax(g), s = 0;
  for (double v : g) s += std::exp(v - m);
  return m + std::log(s);
}

// out[idx] = x[f(idx)] (f returns false → 0): references for views.
Tensor ref_map(const Tensor& x, const Shape& out_shape, std::function<bool(const Shape&, Shape&)> f) {
  std::vector<double> v = dvals(x, x.shape()), out(shape_numel(out_shape), 0.0);
  for (int64_t i = 0; i < static_cast<int64_t>(out.size()); ++i) {
    Shape src;
    if (f(unravel(i, out_shape), src)) out[i] = v[ravel(src, x.shape())];
  }
  return from_d(out, out_shape);
}
// Row-major reinterpretation (reshape/view/flatten/squeeze/unsqueeze).
Tensor ref_reshape(const Tensor& x, const Shape& s) { return from_d(dvals(x, x.shape()), s); }

Tensor ref_permute(const Tensor& x, const Shape& perm) {
  Shape os;
  for (int64_t p : perm) os.push_back(x.shape()[p]);
  return ref_map(x, os, [perm](const Shape& o, Shape& src) {
    src.assign(o.size(), 0);
    for (size_t i = 0; i < perm.size(); ++i) src[perm[i]] = o[i];
    return true;
  });
}

Tensor to_bool_ref(const std::vector<double>& v, const Shape& s) {
  std::vector<bool> b;
  for (double x : v) b.push_back(x != 0);
  return tensor_bool(b, s);
}

// ------------------------------------------------------ composed references

Tensor onehot(const Tensor& ids, int64_t V, int64_t ignore = std::numeric_limits<int64_t>::min()) {
  std::vector<int64_t> t = ids.to_int_vector();
  Shape s = ids.shape();
  s.push_back(V);
  Tensor oh = zeros(s);
  float* p = oh.data<float>();
  for (size_t i = 0; i < t.size(); ++i)
    if (t[i] != ignore) p[i * V + t[i]] = 1.0f;
  return oh;
}

Tensor layer_norm_ref(const Tensor& x, const Shape& ns, const Tensor& w, const Tensor& b, float eps) {
  Shape dims;
  for (int64_t i = 0; i < static_cast<int64_t>(ns.size()); ++i) dims.push_back(-1 - i);
  Tensor mu = mean(x, dims, true);
  Tensor v = var(x, dims, 0, true);
  Tensor y = mul(sub(x, mu), rsqrt(add(v, eps)));
  if (w.defined()) y = mul(y, w);
  if (b.defined()) y = add(y, b);
  return y;
}

Tensor cross_entropy_ref(const Tensor& logits, const Tensor& targets, const CrossEntropyOptions& o) {
  const int64_t V = logits.size(-1);
  Tensor lsm = log_softmax(logits, -1);
  Tensor oh = onehot(targets, V, o.ignore_index);
  std::vector<int64_t> t = targets.to_int_vector();
  std::vector<float> valid;
  float count = 0;
  for (int64_t v : t) {
    valid.push_back(v == o.ignore_index ? 0.0f : 1.0f);
    count += valid.back();
  }
  Tensor vm = tensor(valid, targets.shape());
  Tensor nll = neg(sum(mul(lsm, oh), {-1}));
  Tensor smooth = mul(neg(mean(lsm, {-1})), vm);
  Tensor loss = add(mul(nll, 1.0f - o.label_smoothing), mul(smooth, o.label_smoothing));
  using R = CrossEntropyOptions::Reduction;
  if (o.reduction == R::None) return loss;
  if (o.reduction == R::Sum) return sum(loss);
  return mul(sum(loss), 1.0f / count);
}

// The dropout mask an op draws from a fresh Generator(seed), row-major
// (qkv/core/rng.h, fill_dropout_mask): each 64-bit draw gives two elements,
// its bits 40–63 then 16–39 read as 24-bit uniforms u·2⁻²⁴, dropped when below p.
Tensor dropout_mask_ref(const Shape& s, float p, uint64_t seed) {
  Generator g(seed);
  Tensor m = Tensor::empty(s);
  float* d = m.data<float>();
  const float keep = 1.0f / (1.0f - p);
  uint64_t r = 0;
  for (int64_t i = 0; i < m.numel(); ++i) {
    if (i % 2 == 0) r = g.next_u64();
    const uint64_t u24 = i % 2 == 0 ? r >> 40 : (r >> 16) & 0xFFFFFF;
    d[i] = static_cast<double>(u24) / 16777216.0 < static_cast<double>(p) ? 0.0f : keep;
  }
  return m;
}

// Vaswani et al. 2017 §3.2.1 composed from matmul/masked_fill/softmax/matmul.
Tensor attention_ref(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionOptions& o,
                     uint64_t dropout_seed) {
  const int64_t T = q.size(-2), S = k.size(-2), hs = q.size(-1);
  float scale = o.scale ? *o.scale : 1.0f / std::sqrt(static_cast<float>(hs));
  Tensor s = mul(matmul(q, k.transpose(-1, -2)), scale);
  if (o.mask.defined()) {
    if (o.mask.dtype() == DType::Float32) s = add(s, o.mask);
    else s = masked_fill(s, logical_not(o.mask), -kInf);
  }
  if (o.alibi_slopes.defined()) {  // −m_h·|t + S − T − s| per head (the dim before T)
    const std::vector<float> m = o.alibi_slopes.to_vector();
    const int64_t H = static_cast<int64_t>(m.size());
    std::vector<float> bias(static_cast<size_t>(H * T * S));
    for (int64_t h = 0; h < H; ++h)
      for (int64_t t = 0; t < T; ++t)
        for (int64_t j = 0; j < S; ++j) bias[(h * T + t) * S + j] = -m[h] * std::fabs(float(t + S - T - j));
    s = add(s, tensor(bias, {H, T, S}));
  }
  if (o.causal) {  // t attends to s ≤ t + (S − T)
    Tensor allowed = tril(ones({T, S}, DType::Bool), S - T);
    s = masked_fill(s, logical_not(allowed), -kInf);
  }
  Tensor P = softmax(s, -1);
  if (o.dropout_p > 0) {
    Shape full = s.shape();
    int64_t BH = s.numel() / (T * S);
    P = mul(P, dropout_mask_ref({BH, T, S}, o.dropout_p, dropout_seed).reshape(full));
  }
  return matmul(P, v);
}

// ------------------------------------------------------------ variant sets

Variant V(std::string name, MakeFn make, LayoutFn layout = nullptr, unsigned checks = kGrad | kRef) {
  Variant v;
  v.name = std::move(name);
  v.make = std::move(make);
  v.layout = std::move(layout);
  v.checks = checks;
  return v;
}
Variant with_call(Variant v, CallFn call, CallFn ref) {
  v.call = std::move(call);
  v.reference = std::move(ref);
  return v;
}

const unsigned kBig = kThreads | kRef;

std::vector<Variant> unary_variants(DomFn d) {
  return {
      V("contiguous", make1(d, {3, 17})),
      V("odd33", make1(d, {2, 33})),
      V("transposed", make1(d, {17, 5}), on(0, tr)),
      V("sliced", make1(d, {4, 34}), on(0, step2)),
      V("size1", make1(d, {1, 7, 1})),
      V("expanded", make1(d, {1, 17}), on(0, [](const Tensor& t) { return t.expand({3, 17}); })),
      V("scalar0d", make1(d, {})),
      V("big_threads", make1(d, {300, 257}), nullptr, kBig),
  };
}

std::vector<Variant> binary_variants(DomFn da, DomFn db) {
  return {
      V("same_shape", make2(da, {3, 17}, db, {3, 17})),
      V("broadcast", make2(da, {4, 1, 5}, db, {3, 5})),
      V("broadcast_0d_rhs", make2(da, {2, 17}, db, {})),
      V("broadcast_0d_lhs", make2(da, {}, db, {5, 3})),
      V("transposed", make2(da, {17, 3}, db, {3, 17}), on(0, tr)),
      V("sliced", make2(da, {3, 34}, db, {6, 17}),
        [](const Inputs& in) { return Inputs{step2(in[0]), in[1].slice(0, 1, 6, 2)}; }),
      V("size1", make2(da, {1, 1}, db, {1, 1})),
      V("expanded_lhs", make2(da, {3, 1}, db, {3, 5}), on(0, [](const Tensor& t) { return t.expand({3, 5}); })),
      V("odd33_row_bcast", make2(da, {4, 33}, db, {1, 33})),
      V("big_threads", make2(da, {300, 257}, db, {300, 257}), nullptr, kBig),
      V("big_threads_bcast", make2(da, {300, 257}, db, {257}), nullptr, kBig),
  };
}

OpCase unary_case(std::string op, std::function<Tensor(const Tensor&)> f, CallFn ref, DomFn d) {
  OpCase c;
  c.op = std::move(op);
  c.call = [f](const Inputs& in) { return f(in[0]); };
  c.reference = std::move(ref);
  c.variants = unary_variants(d);
  return c;
}

OpCase binary_case(std::string op, std::function<Tensor(const Tensor&, const Tensor&)> f, CallFn ref,
                   DomFn da, DomFn db) {
  OpCase c;
  c.op = std::move(op);
  c.call = [f](const Inputs& in) { return f(in[0], in[1]); };
  c.reference = std::move(ref);
  c.variants = binary_variants(da, db);
  return c;
}

// ------------------------------------------------------------------ tables

void elementwise_cases(std::vector<OpCase>& cs) {
  // Composed references (differentiable: gradients are compared too) where a
  // second path exists, double loops otherwise.
  cs.push_back(binary_case("add", [](auto& a, auto& b) { return add(a, b); },
                           ref_binary([](double x, double y) { return x + y; }), normal(), normal()));
  cs.push_back(binary_case("sub", [](auto& a, auto& b) { return sub(a, b); },
                           [](const Inputs& in) { return add(in[0], neg(in[1])); }, normal(), normal()));
  cs.push_back(binary_case("mul", [](auto& a, auto& b) { return mul(a, b); },
                           ref_binary([](double x, double y) { return x * y; }), normal(), normal()));
  cs.push_back(binary_case("div", [](auto& a, auto& b) { return div(a, b); },
                           [](const Inputs& in) { return mul(in[0], rdiv(in[1], 1.0f)); }, normal(),
                           away({0.0f}, 0.5f)));
  {
    OpCase c = binary_case("pow", [](auto& a, auto& b) { return pow(a, b); },
                           [](const Inputs& in) { return exp(mul(in[1], log(in[0]))); }, uniform(0.5f, 2.0f),
                           uniform(-1.5f, 1.5f));
    c.tol.ref_rtol = 2e-5;
    // Scalar exponents: 2 (the x·x fast path), 3.5, −1.5, 0.
    for (float e : {2.0f, 3.5f, -1.5f, 0.0f}) {
      std::string n = "scalar_exp_" + std::to_string(static_cast<int>(e * 10));
      for (char& ch : n)
        if (ch == '-') ch = 'm';
      c.variants.push_back(with_call(V(n, make1(uniform(0.3f, 2.0f), {3, 17})),
                                     [e](const Inputs& in) { return pow(in[0], e); },
                                     ref_unary([e](double x) { return std::pow(x, static_cast<double>(e)); })));
    }
    c.variants.push_back(with_call(V("scalar_exp_big_threads", make1(uniform(0.3f, 2.0f), {300, 257}), nullptr, kBig),
                                   [](const Inputs& in) { return pow(in[0], 3.5f); },
                                   ref_unary([](double x) { return std::pow(x, 3.5); })));
    cs.push_back(c);
  }
  cs.push_back(unary_case("add_scalar", [](const Tensor& a) { return a + 2.5f; },
                          ref_unary([](double x) { return x + 2.5; }), normal()));
  cs.push_back(unary_case("mul_scalar", [](const Tensor& a) { return a * -1.75f; },
                          ref_unary([](double x) { return x * -1.75; }), normal()));
  cs.push_back(unary_case("rsub_scalar", [](const Tensor& a) { return 3.0f - a; },
                          ref_unary([](double x) { return 3.0 - x; }), normal()));
  {
    OpCase c = unary_case("rdiv_scalar", [](const Tensor& a) { return 2.0f / a; },
                          ref_unary([](double x) { return 2.0 / x; }), away({0.0f}, 0.4f));
    c.tol.ref_rtol = 1e-6;
    cs.push_back(c);
  }
  cs.push_back(unary_case("neg", [](const Tensor& a) { return -a; }, ref_unary([](double x) { return -x; }), normal()));
  cs.push_back(unary_case("exp", [](const Tensor& a) { return exp(a); },
                          ref_unary([](double x) { return std::exp(x); }), normal(1.5f)));
  cs.push_back(unary_case("log", [](const Tensor& a) { return log(a); },
                          ref_unary([](double x) { return std::log(x); }), uniform(0.3f, 3.0f)));
  cs.push_back(unary_case("sqrt", [](const Tensor& a) { return sqrt(a); },
                          [](const Inputs& in) { return pow(in[0], 0.5f); }, uniform(0.3f, 3.0f)));
  cs.push_back(unary_case("rsqrt", [](const Tensor& a) { return rsqrt(a); },
                          [](const Inputs& in) { return rdiv(sqrt(in[0]), 1.0f); }, uniform(0.3f, 3.0f)));
  cs.push_back(unary_case("abs", [](const Tensor& a) { return abs(a); },
                          ref_unary([](double x) { return std::fabs(x); }), away({0.0f}, 0.05f)));
  cs.push_back(unary_case("tanh", [](const Tensor& a) { return tanh(a); },
                          ref_unary([](double x) { return std::tanh(x); }), normal(1.5f)));
  cs.push_back(unary_case("sigmoid", [](const Tensor& a) { return sigmoid(a); },
                          [](const Inputs& in) { return rdiv(add(exp(neg(in[0])), 1.0f), 1.0f); }, normal(2.0f)));
  cs.push_back(unary_case("relu", [](const Tensor& a) { return relu(a); },
                          [](const Inputs& in) { return clamp(in[0], 0.0f, std::nullopt); }, away({0.0f}, 0.05f)));
  {
    auto gelu_erf = [](double x) { return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))); };
    OpCase c = unary_case("gelu", [](const Tensor& a) { return gelu(a); }, ref_unary(gelu_erf), normal(2.0f));
    // The tanh form (GPT-2), against its formula written with ops.
    CallFn tanh_ref = [](const Inputs& in) {
      const Tensor& x = in[0];
      Tensor u = mul(add(x, mul(pow(x, 3.0f), 0.044715f)), 0.7978845608028654f);
      return mul(mul(x, 0.5f), add(tanh(u), 1.0f));
    };
    CallFn tanh_call = [](const Inputs& in) { return gelu(in[0], GeluApprox::Tanh); };
    for (Variant v : unary_variants(normal(2.0f))) {
      v.name = "tanh_" + v.name;
      c.variants.push_back(with_call(v, tanh_call, tanh_ref));
    }
    cs.push_back(c);
  }
  cs.push_back(unary_case("silu", [](const Tensor& a) { return silu(a); },
                          [](const Inputs& in) { return mul(in[0], sigmoid(in[0])); }, normal(2.0f)));
  {
    OpCase c = unary_case("clamp", [](const Tensor& a) { return clamp(a, -0.5f, 0.7f); },
                          ref_unary([](double x) { return std::min(std::max(x, -0.5), 0.7); }),
                          away({-0.5f, 0.7f}, 0.05f));
    c.variants.push_back(with_call(V("lo_only", make1(away({-0.5f}, 0.05f), {3, 17})),
                                   [](const Inputs& in) { return clamp(in[0], -0.5f, std::nullopt); },
                                   ref_unary([](double x) { return std::max(x, -0.5); })));
    c.variants.push_back(with_call(V("hi_only", make1(away({0.7f}, 0.05f), {3, 17})),
                                   [](const Inputs& in) { return clamp(in[0], std::nullopt, 0.7f); },
                                   ref_unary([](double x) { return std::min(x, 0.7); })));
    cs.push_back(c);
  }
  {
    // eq/ne/lt/le/gt/ge (tensor and scalar forms) and logical_not → bool.
    OpCase c;
    c.op = "compare";
    using Cmp = std::function<bool(double, double)>;
    auto ref_cmp = [](Cmp f) -> CallFn {
      return [f](const Inputs& in) {
        Shape s = broadcast_shapes(in[0].shape(), in[1].shape(), "ref");
        std::vector<double> a = dvals(in[0], s), b = dvals(in[1], s);
        for (size_t i = 0; i < a.size(); ++i) a[i] = f(a[i], b[i]);
        return to_bool_ref(a, s);
      };
    };
    struct Named {
      const char* name;
      Tensor (*t)(const Tensor&, const Tensor&);
      Tensor (*s)(const Tensor&, float);
      Cmp f;
    };
    std::vector<Named> fns = {
        {"eq", qkv::eq, qkv::eq, [](double a, double b) { return a == b; }},
        {"ne", qkv::ne, qkv::ne, [](double a, double b) { return a != b; }},
        {"lt", qkv::lt, qkv::lt, [](double a, double b) { return a < b; }},
        {"le", qkv::le, qkv::le, [](double a, double b) { return a <= b; }},
        {"gt", qkv::gt, qkv::gt, [](double a, double b) { return a > b; }},
        {"ge", qkv::ge, qkv::ge, [](double a, double b) { return a >= b; }},
    };
    const unsigned ng = kNoGraph;
    for (const Named& f : fns) {
      auto tcall = [t = f.t](const Inputs& in) { return t(in[0], in[1]); };
      auto scall = [s = f.s](const Inputs& in) { return s(in[0], 1.0f); };
      auto sref = [rf = ref_cmp(f.f)](const Inputs& in) { return rf({in[0], scalar_tensor(1.0f)}); };
      std::string n = f.name;
      c.variants.push_back(with_call(V(n + "_same", make2(small_ints(), {3, 17}, small_ints(), {3, 17}), nullptr, ng), tcall, ref_cmp(f.f)));
      c.variants.push_back(with_call(V(n + "_bcast_transposed", make2(small_ints(), {5, 3}, small_ints(), {3, 1}),
                                       on(0, tr), ng), tcall, ref_cmp(f.f)));
      c.variants.push_back(with_call(V(n + "_scalar", make1(small_ints(), {2, 33}), nullptr, ng), scall, sref));
      c.variants.push_back(with_call(V(n + "_int64_vs_float",
                                       [](Generator& g) { return Inputs{randint(-2, 3, {4, 5}, g), small_ints()({5}, g)}; },
                                       nullptr, ng), tcall, ref_cmp(f.f)));
    }
    c.variants.push_back(with_call(V("lt_big_threads", make2(normal(), {300, 257}, normal(), {300, 257}), nullptr, ng | kThreads),
                                   [](const Inputs& in) { return lt(in[0], in[1]); }, ref_cmp(fns[2].f)));
    c.variants.push_back(with_call(
        V("logical_not", [](Generator& g) { return Inputs{randint(0, 2, {3, 7}, g).to(DType::Bool)}; }, nullptr, ng),
        [](const Inputs& in) { return logical_not(in[0]); },
        [](const Inputs& in) {
          std::vector<double> v = dvals(in[0], in[0].shape());
          for (double& x : v) x = x == 0;
          return to_bool_ref(v, in[0].shape());
        }));
    cs.push_back(c);
  }
  {
    OpCase c;
    c.op = "where";
    c.call = [](const Inputs& in) { return where(in[2], in[0], in[1]); };
    c.reference = [](const Inputs& in) {
      Shape s = broadcast_shapes(broadcast_shapes(in[2].shape(), in[0].shape(), "r"), in[1].shape(), "r");
      std::vector<double> a = dvals(in[0], s), b = dvals(in[1], s), m = dvals(in[2], s);
      for (size_t i = 0; i < a.size(); ++i) a[i] = m[i] ? a[i] : b[i];
      return from_d(a, s);
    };
    auto mk = [](Shape sa, Shape sb, Shape sm) -> MakeFn {
      return [=](Generator& g) { return Inputs{randn(sa, g), randn(sb, g), randint(0, 2, sm, g).to(DType::Bool)}; };
    };
    c.variants = {
        V("same_shape", mk({3, 17}, {3, 17}, {3, 17})),
        V("broadcast_all", mk({4, 1}, {5}, {3, 1, 5})),
        V("scalar_branch", mk({}, {2, 9}, {2, 9})),
        V("transposed_mask_and_a", mk({9, 4}, {4, 9}, {9, 4}),
          [](const Inputs& in) { return Inputs{tr(in[0]), in[1], tr(in[2])}; }),
        V("uint8_mask", [](Generator& g) {
          return Inputs{randn({3, 5}, g), randn({3, 5}, g), randint(0, 2, {3, 5}, g).to(DType::UInt8)};
        }),
        V("big_threads", mk({300, 257}, {300, 257}, {300, 257}), nullptr, kBig),
    };
    cs.push_back(c);
  }
  {
    OpCase c;
    c.op = "masked_fill";
    c.call = [](const Inputs& in) { return masked_fill(in[0], in[1], 7.5f); };
    c.reference = [](const Inputs& in) {
      std::vector<double> a = dvals(in[0], in[0].shape()), m = dvals(in[1], in[0].shape());
      for (size_t i = 0; i < a.size(); ++i) a[i] = m[i] ? 7.5 : a[i];
      return from_d(a, in[0].shape());
    };
    auto mk = [](Shape sa, Shape sm) -> MakeFn {
      return [=](Generator& g) { return Inputs{randn(sa, g), randint(0, 2, sm, g).to(DType::Bool)}; };
    };
    c.variants = {
        V("same_shape", mk({3, 17}, {3, 17})),
        V("broadcast_mask", mk({3, 4, 5}, {4, 1})),
        V("transposed_input", mk({5, 4}, {4, 5}), on(0, tr)),
        V("big_threads", mk({300, 257}, {257}), nullptr, kBig),
    };
    c.variants.push_back(with_call(V("neg_inf_no_grad", mk({4, 6}, {4, 6}), nullptr, kRef),
                                   [](const Inputs& in) { return masked_fill(in[0], in[1], -kInf); },
                                   [](const Inputs& in) {
                                     std::vector<double> a = dvals(in[0], in[0].shape()), m = dvals(in[1], in[0].shape());
                                     for (size_t i = 0; i < a.size(); ++i) a[i] = m[i] ? -INFINITY : a[i];
                                     return from_d(a, in[0].shape());
                                   }));
    cs.push_back(c);
  }
}

// Reductions: (dims, keepdim) variants shared by sum/mean/var/logsumexp/amax.
struct RedSpec {
  std::string name;
  Shape shape;
  Shape dims;
  bool keepdim;
  LayoutFn layout = nullptr;
  unsigned checks = kGrad | kRef;
};
std::vector<RedSpec> reduction_specs() {
  return {
      {"all", {3, 17}, {}, false, nullptr},
      {"last_keepdim", {3, 4, 17}, {-1}, true, nullptr},
      {"first_prefix_fastpath", {5, 3, 7}, {0}, false, nullptr},
      {"prefix2_keepdim", {2, 3, 33}, {0, 1}, true, nullptr},
      {"middle", {3, 5, 4}, {1}, false, nullptr},
      {"dims_0_2", {3, 5, 4}, {0, 2}, false, nullptr},
      {"transposed", {17, 4}, {0}, false, on(0, tr)},
      {"sliced", {3, 34}, {-1}, false, on(0, step2)},
      {"size1_dim", {3, 1, 5}, {1}, false, nullptr},
      {"scalar0d", {}, {}, false, nullptr},
      {"big_threads_fastpath", {512, 257}, {0}, false, nullptr, kBig},
      {"big_threads_rows", {257, 300}, {1}, false, nullptr, kBig},
  };
}

OpCase reduction_case(std::string op, std::function<Tensor(const Tensor&, const Shape&, bool)> f, GroupFn g,
                      DomFn d = normal()) {
  OpCase c;
  c.op = std::move(op);
  for (const RedSpec& r : reduction_specs()) {
    Variant v = V(r.name, make1(d, r.shape), r.layout, r.checks);
    Shape dims = r.dims;
    bool kd = r.keepdim;
    v.call = [f, dims, kd](const Inputs& in) { return f(in[0], dims, kd); };
    v.reference = [g, dims, kd](const Inputs& in) { return ref_reduce(in[0], dims, kd, g); };
    c.variants.push_back(v);
  }
  return c;
}

void reduction_cases(std::vector<OpCase>& cs) {
  {
    OpCase c = reduction_case("sum", [](auto& x, auto& d, bool k) { return sum(x, d, k); }, gsum);
    c.tol.ref_atol = 1e-4;  // big sums: float32 column accumulation
    cs.push_back(c);
  }
  cs.push_back(reduction_case("mean", [](auto& x, auto& d, bool k) { return mean(x, d, k); }, gmean));
  {
    OpCase c = reduction_case("var", [](auto& x, auto& d, bool k) { return var(x, d, 1, k); }, gvar(1));
    // drop the 0-d and size-1 variants (n − 1 = 0), add correction 0
    std::erase_if(c.variants, [](const Variant& v) { return v.name == "scalar0d" || v.name == "size1_dim"; });
    c.variants.push_back(with_call(V("correction0", make1(normal(), {4, 9})),
                                   [](const Inputs& in) { return var(in[0], {-1}, 0, false); },
                                   [](const Inputs& in) { return ref_reduce(in[0], {-1}, false, gvar(0)); }));
    c.tol.ref_atol = 2e-5;
    cs.push_back(c);
  }
  for (bool is_max : {true, false}) {
    // max(dim) → values (+ indices, checked without a graph); amax/amin(dims).
    OpCase c;
    c.op = is_max ? "max" : "min";
    auto vals = [is_max](const Tensor& x, int64_t d, bool k) { return is_max ? max(x, d, k).first : min(x, d, k).first; };
    auto idxs = [is_max](const Tensor& x, int64_t d, bool k) { return is_max ? max(x, d, k).second : min(x, d, k).second; };
    GroupFn gv = is_max ? GroupFn(gmax) : GroupFn(gmin);
    GroupFn gi = is_max ? GroupFn(gargmax) : GroupFn(gargmin);
    struct D {
      std::string name;
      Shape shape;
      int64_t dim;
      bool keepdim;
      LayoutFn layout = nullptr;
      unsigned checks = kGrad | kRef;
    };
    std::vector<D> ds = {
        {"dim_last", {3, 17}, -1, false, nullptr},
        {"dim0_keepdim", {5, 3, 4}, 0, true, nullptr},
        {"dim1_transposed", {9, 4}, 1, false, on(0, tr)},
        {"odd33", {2, 33}, 1, false, nullptr},
        {"scalar0d", {}, 0, false, nullptr},
        {"big_threads", {300, 257}, 1, false, nullptr, kBig},
    };
    for (const D& d : ds) {
      int64_t dim = d.dim;
      bool kd = d.keepdim;
      c.variants.push_back(with_call(V(d.name, make1(distinct(), d.shape), d.layout, d.checks),
                                     [vals, dim, kd](const Inputs& in) { return vals(in[0], dim, kd); },
                                     [gv, dim, kd](const Inputs& in) { return ref_reduce(in[0], {dim}, kd, gv); }));
      c.variants.push_back(with_call(V(d.name + "_indices", make1(distinct(), d.shape), d.layout, kNoGraph),
                                     [idxs, dim, kd](const Inputs& in) { return idxs(in[0], dim, kd); },
                                     [gi, dim, kd](const Inputs& in) {
                                       return ref_reduce(in[0], {dim}, kd, gi).to(DType::Int64);
                                     }));
    }
    auto amx = [is_max](const Tensor& x, const Shape& dims, bool k) { return is_max ? amax(x, dims, k) : amin(x, dims, k); };
    for (const RedSpec& r : reduction_specs()) {
      Shape dims = r.dims;
      bool kd = r.keepdim;
      c.variants.push_back(with_call(V("amax_" + r.name, make1(distinct(), r.shape), r.layout, r.checks),
                                     [amx, dims, kd](const Inputs& in) { return amx(in[0], dims, kd); },
                                     [gv, dims, kd](const Inputs& in) { return ref_reduce(in[0], dims, kd, gv); }));
    }
    cs.push_back(c);
  }
  {
    OpCase c;
    c.op = "argmax";
    for (auto [name, shape, dim, kd] : std::vector<std::tuple<std::string, Shape, int64_t, bool>>{
             {"dim_last", {3, 17}, -1, false}, {"dim0_keepdim", {4, 3, 5}, 0, true}, {"scalar0d", {}, 0, false}}) {
      c.variants.push_back(with_call(V(name, make1(distinct(), shape), nullptr, kNoGraph),
                                     [dim, kd](const Inputs& in) { return argmax(in[0], dim, kd); },
                                     [dim, kd](const Inputs& in) {
                                       return ref_reduce(in[0], {dim}, kd, gargmax).to(DType::Int64);
                                     }));
    }
    c.variants.push_back(with_call(V("transposed", make1(distinct(), {9, 4}), on(0, tr), kNoGraph),
                                   [](const Inputs& in) { return argmax(in[0], 1, false); },
                                   [](const Inputs& in) { return ref_reduce(in[0], {1}, false, gargmax).to(DType::Int64); }));
    cs.push_back(c);
  }
  {
    OpCase c = reduction_case("logsumexp", [](auto& x, auto& d, bool k) { return logsumexp(x, d, k); }, glse,
                              normal(2.0f));
    // The composed path log(Σ exp) on a differentiable route, too.
    c.variants.push_back(with_call(V("vs_log_sum_exp", make1(normal(2.0f), {4, 33})),
                                   [](const Inputs& in) { return logsumexp(in[0], {-1}, false); },
                                   [](const Inputs& in) { return log(sum(exp(in[0]), {-1})); }));
    cs.push_back(c);
  }
}

void linalg_cases(std::vector<OpCase>& cs) {
  {
    OpCase c;
    c.op = "matmul";
    c.call = [](const Inputs& in) { return matmul(in[0], in[1]); };
    // Composed: (…,M,K,1)·(…,1,K,N) summed over K — a different route for
    // values and gradients, with the same broadcasting.
    c.reference = [](const Inputs& in) { return sum(mul(in[0].unsqueeze(-1), in[1].unsqueeze(-3)), {-2}); };
    CallFn dref = [](const Inputs& in) {  // vector promotions: double loops via the promoted shapes
      Tensor a = in[0].dim() == 1 ? in[0].unsqueeze(0) : in[0];
      Tensor b = in[1].dim() == 1 ? in[1].unsqueeze(-1) : in[1];
      Tensor r = sum(mul(a.unsqueeze(-1), b.unsqueeze(-3)), {-2});
      if (in[0].dim() == 1) r = r.squeeze(-2);
      if (in[1].dim() == 1) r = r.squeeze(-1);
      return r;
    };
    auto n = normal();
    c.variants = {
        V("2d", make2(n, {3, 5}, n, {5, 4})),
        V("odd_17x33x9", make2(n, {17, 33}, n, {33, 9})),
        V("a_transposed", make2(n, {5, 3}, n, {5, 4}), on(0, tr)),
        V("b_transposed", make2(n, {3, 5}, n, {4, 5}), on(1, tr)),
        V("both_transposed", make2(n, {5, 3}, n, {4, 5}), on_all(tr)),
        V("a_sliced_inner_stride", make2(n, {3, 10}, n, {5, 4}), on(0, step2)),
        V("a_row_sliced", make2(n, {7, 5}, n, {5, 4}), on(0, [](const Tensor& t) { return t.slice(0, 1, 7, 2); })),
        V("batched", make2(n, {2, 3, 5}, n, {2, 5, 4})),
        V("broadcast_batch", make2(n, {2, 1, 3, 5}, n, {3, 5, 4})),
        V("batch_times_2d_fold", make2(n, {2, 3, 5}, n, {5, 4})),
        V("2d_times_batch", make2(n, {3, 5}, n, {2, 5, 4})),
        V("permuted_batch", make2(n, {3, 2, 5}, n, {2, 5, 4}),
          on(0, [](const Tensor& t) { return t.permute({1, 0, 2}); })),
        V("transposed_batched_b", make2(n, {2, 3, 5}, n, {2, 4, 5}), on(1, tr)),
        V("m1_n1", make2(n, {1, 5}, n, {5, 1})),
        V("a_expanded_rows", make2(n, {1, 5}, n, {5, 4}), on(0, [](const Tensor& t) { return t.expand({3, 5}); })),
        V("b_expanded_batch", make2(n, {2, 3, 5}, n, {5, 4}),
          on(1, [](const Tensor& t) { return t.expand({2, 5, 4}); })),
        V("b_column_view", make2(n, {3, 5}, n, {5, 4}), on(1, [](const Tensor& t) { return t.narrow(1, 2, 1); })),
        V("k0_empty_inner", make2(n, {3, 0}, n, {0, 4}), nullptr, kRef),
        V("big_threads_many_small", make2(n, {64, 16, 16}, n, {64, 16, 16}), nullptr, kBig),
        V("big_threads_large", make2(n, {128, 128}, n, {128, 128}), nullptr, kBig),
    };
    for (auto [name, sa, sb] : std::vector<std::tuple<std::string, Shape, Shape>>{
             {"vec_vec", {7}, {7}}, {"vec_mat", {5}, {5, 4}}, {"mat_vec", {3, 5}, {5}}, {"vec_batched", {5}, {2, 5, 3}},
             {"batched_vec", {2, 3, 5}, {5}}}) {
      Variant v = V(name, make2(n, sa, n, sb));
      v.reference = dref;
      c.variants.push_back(v);
    }
    c.tol.ref_atol = 2e-5;
    c.tol.ref_rtol = 2e-5;
    cs.push_back(c);
  }
  {
    OpCase c;
    c.op = "linear";
    c.call = [](const Inputs& in) { return linear(in[0], in[1], in.size() > 2 ? in[2] : Tensor()); };
    c.reference = [](const Inputs& in) {
      Tensor y = matmul(in[0], in[1].t());
      return in.size() > 2 ? add(y, in[2]) : y;
    };
    auto n = normal();
    auto mk = [n](Shape x, int64_t out, int64_t in, bool bias) -> MakeFn {
      return [=](Generator& g) {
        Inputs r{n(x, g), n({out, in}, g)};
        if (bias) r.push_back(n({out}, g));
        return r;
      };
    };
    c.variants = {
        V("2d_bias", mk({3, 5}, 4, 5, true)),
        V("3d_bias", mk({2, 3, 5}, 4, 5, true)),
        V("no_bias", mk({3, 5}, 4, 5, false)),
        V("odd_33_to_17", mk({5, 33}, 17, 33, true)),
        V("x_transposed", mk({5, 3}, 4, 5, true), on(0, tr)),
        V("weight_transposed", [n](Generator& g) { return Inputs{n({3, 5}, g), n({5, 4}, g), n({4}, g)}; }, on(1, tr)),
        V("x_sliced", mk({3, 10}, 4, 5, true), on(0, step2)),
        V("x_1d", mk({5}, 4, 5, true)),
        V("big_threads", mk({256, 128}, 96, 128, true), nullptr, kBig),
    };
    c.tol.ref_atol = 2e-5;
    c.tol.ref_rtol = 2e-5;
    cs.push_back(c);
  }
}

void nn_cases(std::vector<OpCase>& cs) {
  for (bool is_log : {false, true}) {
    OpCase c;
    c.op = is_log ? "log_softmax" : "softmax";
    auto f = [is_log](const Tensor& x, int64_t d) { return is_log ? log_softmax(x, d) : softmax(x, d); };
    // softmax = exp(x − max) / Σ exp(x − max);  log_softmax = x − logsumexp(x)
    auto ref = [is_log](const Tensor& x, int64_t d) {
      if (is_log) return sub(x, logsumexp(x, {d}, true));
      Tensor e = exp(sub(x, amax(x, {d}, true)));
      return div(e, sum(e, {d}, true));
    };
    struct S {
      std::string name;
      Shape shape;
      int64_t dim;
      LayoutFn layout = nullptr;
      unsigned checks = kGrad | kRef;
    };
    std::vector<S> ss = {
        {"last", {3, 17}, -1, nullptr},
        {"odd33", {2, 33}, -1, nullptr},
        {"dim0", {5, 4}, 0, nullptr},
        {"middle_3d", {2, 5, 3}, 1, nullptr},
        {"transposed", {17, 3}, -1, on(0, tr)},
        {"sliced", {3, 34}, -1, on(0, step2)},
        {"size1_row", {4, 1}, -1, nullptr},
        {"expanded", {1, 9}, -1, on(0, [](const Tensor& t) { return t.expand({4, 9}); })},
        {"scalar0d", {}, 0, nullptr},
        {"big_threads", {128, 257}, -1, nullptr, kBig},
        {"big_threads_dim0", {257, 128}, 0, nullptr, kBig},
    };
    for (const S& s : ss) {
      int64_t d = s.dim;
      c.variants.push_back(with_call(V(s.name, make1(normal(2.0f), s.shape), s.layout, s.checks),
                                     [f, d](const Inputs& in) { return f(in[0], d); },
                                     [ref, d](const Inputs& in) { return ref(in[0], d); }));
    }
    if (!is_log) {
      // Masked scores as attention builds them: some −∞ entries and one row
      // that is entirely −∞ (must give zeros, not NaN, with zero gradient).
      Variant v = V("masked_rows", [](Generator& g) {
        std::vector<bool> m(4 * 6, false);
        for (int j = 0; j < 6; ++j) m[2 * 6 + j] = true;  // row 2 fully masked
        m[1] = m[8] = m[23] = true;
        return Inputs{randn({4, 6}, g), tensor_bool(m, {4, 6})};
      });
      v.call = [](const Inputs& in) { return softmax(masked_fill(in[0], in[1], -kInf), -1); };
      v.reference = [](const Inputs& in) {
        std::vector<double> x = dvals(in[0], {4, 6}), m = dvals(in[1], {4, 6}), out(24, 0.0);
        for (int r = 0; r < 4; ++r) {
          double mx = -INFINITY, s = 0;
          for (int j = 0; j < 6; ++j)
            if (!m[r * 6 + j]) mx = std::max(mx, x[r * 6 + j]);
          if (mx == -INFINITY) continue;
          for (int j = 0; j < 6; ++j)
            if (!m[r * 6 + j]) s += std::exp(x[r * 6 + j] - mx);
          for (int j = 0; j < 6; ++j)
            if (!m[r * 6 + j]) out[r * 6 + j] = std::exp(x[r * 6 + j] - mx) / s;
        }
        return from_d(out, {4, 6});
      };
      c.variants.push_back(v);
    }
    cs.push_back(c);
  }
  {
    OpCase c;
    c.op = "layer_norm";
    struct L {
      std::string name;
      Shape x, ns;
      bool w, b;
      LayoutFn layout = nullptr;
      unsigned checks = kGrad | kRef;
    };
    std::vector<L> ls = {
        {"affine", {4, 17}, {17}, true, true, nullptr},
        {"odd33_3d", {2, 3, 33}, {33}, true, true, nullptr},
        {"no_affine", {4, 17}, {17}, false, false, nullptr},
        {"weight_only", {3, 9}, {9}, true, false, nullptr},
        {"bias_only", {3, 9}, {9}, false, true, nullptr},
        {"normalized_2d", {2, 3, 5}, {3, 5}, true, true, nullptr},
        {"x_transposed", {17, 4}, {17}, true, true, on(0, tr)},
        {"x_sliced", {3, 34}, {17}, true, true, on(0, step2)},
        {"one_row", {1, 8}, {8}, true, true, nullptr},
        {"big_threads", {64, 256}, {256}, true, true, nullptr, kBig},
        {"big_threads_tall", {300, 64}, {64}, true, true, nullptr, kBig},
    };
    for (const L& l : ls) {
      bool w = l.w, b = l.b;
      Shape x = l.x, ns = l.ns;
      // The transposed/sliced variants make x with the swapped/doubled shape.
      Variant v = V(l.name,
                    [x, ns, w, b](Generator& g) {
                      Inputs r{add(mul(randn(x, g), 1.5f), 0.3f)};
                      r.push_back(w ? add(mul(randn(ns, g), 0.5f), 1.0f) : Tensor());
                      r.push_back(b ? randn(ns, g) : Tensor());
                      return r;
                    },
                    l.layout, l.checks);
      v.call = [ns](const Inputs& in) { return layer_norm(in[0], ns, in[1], in[2]); };
      v.reference = [ns](const Inputs& in) { return layer_norm_ref(in[0], ns, in[1], in[2], 1e-5f); };
      c.variants.push_back(v);
    }
    c.tol.ref_atol = 2e-5;
    c.tol.ref_rtol = 2e-5;
    cs.push_back(c);
  }
  {
    OpCase c;
    c.op = "rms_norm";
    struct R {
      std::string name;
      Shape x;
      bool w;
      LayoutFn layout = nullptr;
      unsigned checks = kGrad | kRef;
    };
    std::vector<R> rs = {
        {"weight", {4, 17}, true},
        {"odd33_3d", {2, 3, 33}, true},
        {"no_weight", {4, 17}, false},
        {"one_row", {1, 8}, true},
        {"x_transposed", {17, 4}, true, on(0, tr)},
        {"x_sliced", {3, 34}, true, on(0, step2)},
        {"big_threads", {64, 256}, true, nullptr, kBig},
        {"big_threads_tall", {300, 64}, true, nullptr, kBig},
    };
    for (const R& r : rs) {
      const Shape x = r.x;
      const bool w = r.w;
      const int64_t C = r.layout ? (r.name == "x_transposed" ? x[0] : x.back() / 2) : x.back();
      Variant v = V(r.name,
                    [x, w, C](Generator& g) {
                      Inputs in{add(mul(randn(x, g), 1.5f), 0.3f)};
                      in.push_back(w ? add(mul(randn({C}, g), 0.5f), 1.0f) : Tensor());
                      return in;
                    },
                    r.layout, r.checks);
      v.call = [](const Inputs& in) { return rms_norm(in[0], in[1], 1e-5f); };
      // Composed: x · rsqrt(mean(x²) + eps) · w (Zhang & Sennrich 2019, eq. 4).
      v.reference = [](const Inputs& in) {
        Tensor y = mul(in[0], rsqrt(add(mean(mul(in[0], in[0]), {-1}, true), 1e-5f)));
        return in[1].defined() ? mul(y, in[1]) : y;
      };
      c.variants.push_back(v);
    }
    c.tol.ref_atol = 2e-5;
    c.tol.ref_rtol = 2e-5;
    cs.push_back(c);
  }
  {
    OpCase c;
    c.op = "dropout";
    // A fresh Generator per call: the same mask for every finite-difference
    // evaluation, and a reference that replays the stream.
    auto call = [](float p, bool training) -> CallFn {
      return [p, training](const Inputs& in) {
        Generator g(77);
        return dropout(in[0], p, training, g);
      };
    };
    auto ref = [](float p, bool training) -> CallFn {
      return [p, training](const Inputs& in) {
        if (!training || p == 0.0f) return mul(in[0], 1.0f);
        return mul(in[0].contiguous(), dropout_mask_ref(in[0].shape(), p, 77));
      };
    };
    c.variants = {
        with_call(V("p0.3", make1(normal(), {3, 17})), call(0.3f, true), ref(0.3f, true)),
        with_call(V("p0.3_transposed", make1(normal(), {17, 3}), on(0, tr)), call(0.3f, true), ref(0.3f, true)),
        with_call(V("p0.5_odd33", make1(normal(), {2, 33})), call(0.5f, true), ref(0.5f, true)),
        with_call(V("p0_identity", make1(normal(), {3, 5})), call(0.0f, true), ref(0.0f, true)),
        with_call(V("eval_identity", make1(normal(), {3, 5})), call(0.5f, false), ref(0.5f, false)),
        with_call(V("p1_all_zero", make1(normal(), {3, 5})), call(1.0f, true),
                  [](const Inputs& in) { return mul(in[0], 0.0f); }),
        with_call(V("big_threads", make1(normal(), {300, 257}), nullptr, kBig), call(0.1f, true), ref(0.1f, true)),
    };
    for (Variant& v : c.variants) {
      std::string& n = v.name;
      std::replace(n.begin(), n.end(), '.', '_');
    }
    cs.push_back(c);
  }
  {
    OpCase c;
    c.op = "embedding";
    c.call = [](const Inputs& in) { return embedding(in[0], in[1]); };
    c.reference = [](const Inputs& in) { return matmul(onehot(in[1], in[0].size(0)), in[0]); };
    auto mk = [](int64_t V_, int64_t C, Shape ids, DType dt = DType::Int64) -> MakeFn {
      return [=](Generator& g) { return Inputs{randn({V_, C}, g), randint(0, V_, ids, g).to(dt)}; };
    };
    c.variants = {
        V("ids_2d_repeats", mk(5, 17, {3, 4})),
        V("ids_int32", mk(10, 8, {6}, DType::Int32)),
        V("ids_0d", mk(10, 8, {})),
        V("weight_transposed", [](Generator& g) { return Inputs{randn({17, 10}, g), randint(0, 10, {7}, g)}; },
          on(0, tr)),
        V("odd33", mk(7, 33, {2, 5})),
        V("ids_transposed", mk(9, 6, {4, 3}), on(1, tr)),
        V("big_threads", mk(100, 1024, {80}), nullptr, kBig),
    };
    c.tol.ref_atol = 0;
    c.tol.ref_rtol = 0;
    cs.push_back(c);
  }
  {
    OpCase c;
    c.op = "cross_entropy";
    using R = CrossEntropyOptions::Reduction;
    auto mk = [](Shape lead, int64_t V_, std::vector<int64_t> ignore_at, int64_t ignore_value) -> MakeFn {
      return [=](Generator& g) {
        Shape s = lead;
        s.push_back(V_);
        Tensor t = randint(0, V_, lead, g);
        for (int64_t i : ignore_at) t.data<int64_t>()[i] = ignore_value;
        return Inputs{mul(randn(s, g), 2.0f), t};
      };
    };
    auto opts = [](R r, int64_t ignore, float ls) {
      CrossEntropyOptions o;
      o.reduction = r;
      o.ignore_index = ignore;
      o.label_smoothing = ls;
      return o;
    };
    struct CE {
      std::string name;
      MakeFn make;
      CrossEntropyOptions o;
      LayoutFn layout = nullptr;
      unsigned checks = kGrad | kRef;
    };
    std::vector<CE> ces = {
        {"mean", mk({5}, 7, {}, 0), opts(R::Mean, -100, 0)},
        {"mean_ignore_index", mk({6}, 7, {1, 4}, -100), opts(R::Mean, -100, 0)},
        {"custom_ignore_index_2", mk({6}, 7, {0, 3}, 2), opts(R::Mean, 2, 0)},
        {"label_smoothing", mk({5}, 7, {}, 0), opts(R::Mean, -100, 0.1f)},
        {"smoothing_and_ignore", mk({6}, 7, {2}, -100), opts(R::Mean, -100, 0.2f)},
        {"sum", mk({5}, 7, {3}, -100), opts(R::Sum, -100, 0.1f)},
        {"none", mk({5}, 7, {3}, -100), opts(R::None, -100, 0.1f)},
        {"btv_3d", mk({2, 3}, 11, {4}, -100), opts(R::Mean, -100, 0)},
        {"odd33", mk({4}, 33, {}, 0), opts(R::Mean, -100, 0)},
        {"logits_transposed", [](Generator& g) { return Inputs{randn({7, 5}, g), randint(0, 7, {5}, g)}; },
         opts(R::Mean, -100, 0), on(0, tr)},
        {"targets_int32", [](Generator& g) {
           return Inputs{randn({5, 7}, g), randint(0, 7, {5}, g).to(DType::Int32)};
         }, opts(R::Mean, -100, 0)},
        {"big_threads", mk({64, 1}, 512, {5, 9}, -100), opts(R::Mean, -100, 0.1f), nullptr, kBig},
        {"big_threads_none", mk({64}, 512, {}, 0), opts(R::None, -100, 0), nullptr, kBig},
    };
    for (CE& e : ces) {
      CrossEntropyOptions o = e.o;
      Variant v = V(e.name, e.make, e.layout, e.checks);
      v.call = [o](const Inputs& in) { return cross_entropy(in[0], in[1], o); };
      v.reference = [o](const Inputs& in) { return cross_entropy_ref(in[0], in[1], o); };
      c.variants.push_back(v);
    }
    c.tol.ref_atol = 2e-5;
    c.tol.ref_rtol = 2e-5;
    cs.push_back(c);
  }
  {
    OpCase c;
    c.op = "mse_loss";
    c.call = [](const Inputs& in) { return mse_loss(in[0], in[1]); };
    c.reference = [](const Inputs& in) {
      std::vector<double> a = dvals(in[0], in[0].shape()), b = dvals(in[1], in[0].shape());
      double s = 0;
      for (size_t i = 0; i < a.size(); ++i) s += (a[i] - b[i]) * (a[i] - b[i]);
      return from_d({s / static_cast<double>(a.size())}, {});
    };
    c.variants = {
        V("same_shape", make2(normal(), {3, 17}, normal(), {3, 17})),
        V("transposed_target", make2(normal(), {4, 5}, normal(), {5, 4}), on(1, tr)),
        V("scalar0d", make2(normal(), {}, normal(), {})),
        V("big_threads", make2(normal(), {300, 257}, normal(), {300, 257}), nullptr, kBig),
    };
    c.tol.ref_atol = 2e-5;
    cs.push_back(c);
  }
}

void attention_cases(std::vector<OpCase>& cs) {
  OpCase c;
  c.op = "scaled_dot_product_attention";
  using MaskFn = std::function<Tensor(Generator&)>;
  // Bool mask (true = may attend) with random holes and the given rows
  // entirely false (nothing to attend to → zeros, zero gradient).
  auto bool_mask = [](Shape s, std::vector<int64_t> dead_rows) -> MaskFn {
    return [s, dead_rows](Generator& g) {
      Tensor u = rand(s, g);
      std::vector<float> v = u.to_vector();
      const int64_t S = s.back(), T = s[s.size() - 2];
      std::vector<bool> m(v.size());
      for (size_t i = 0; i < v.size(); ++i) {
        int64_t row = (static_cast<int64_t>(i) / S) % T;
        bool dead = std::find(dead_rows.begin(), dead_rows.end(), row) != dead_rows.end();
        m[i] = !dead && (v[i] < 0.7f || static_cast<int64_t>(i) % S == 0);
      }
      return tensor_bool(m, s);
    };
  };
  struct A {
    std::string name;
    Shape q, k, v;
    MaskFn mask = nullptr;
    bool causal = false;
    std::optional<float> scale = std::nullopt;
    float dropout = 0.0f;
    LayoutFn layout = nullptr;
    unsigned checks = kGrad | kRef;
    bool mask_grad = false;  // a float mask that is differentiated too (a learned bias)
  };
  auto perm = on_all([](const Tensor& t) { return t.permute({0, 2, 1, 3}); });
  std::vector<A> as = {
      {"plain", {2, 3, 5, 8}, {2, 3, 7, 8}, {2, 3, 7, 6}},
      {"causal_square", {2, 2, 6, 8}, {2, 2, 6, 8}, {2, 2, 6, 5}, nullptr, true},
      {"causal_T4_S7", {1, 2, 4, 8}, {1, 2, 7, 8}, {1, 2, 7, 8}, nullptr, true},
      {"causal_T7_S4_dead_rows", {1, 2, 7, 8}, {1, 2, 4, 8}, {1, 2, 4, 8}, nullptr, true},
      {"bool_mask_TS_dead_row", {2, 3, 5, 8}, {2, 3, 7, 8}, {2, 3, 7, 6}, bool_mask({5, 7}, {3})},
      {"bool_mask_per_batch", {2, 3, 5, 8}, {2, 3, 7, 8}, {2, 3, 7, 6}, bool_mask({2, 1, 5, 7}, {0})},
      {"causal_and_bool_mask", {2, 2, 6, 8}, {2, 2, 6, 8}, {2, 2, 6, 8}, bool_mask({6, 6}, {4}), true},
      {"float_mask", {2, 3, 5, 8}, {2, 3, 7, 8}, {2, 3, 7, 6},
       [](Generator& g) { return randn({5, 7}, g); }},
      {"broadcast_kv_over_heads", {2, 3, 5, 8}, {2, 1, 7, 8}, {2, 1, 7, 6}},
      {"3d", {4, 5, 8}, {4, 7, 8}, {4, 7, 8}},
      {"2d_single_head", {5, 8}, {7, 8}, {7, 3}},
      {"permuted_heads", {2, 5, 3, 8}, {2, 7, 3, 8}, {2, 7, 3, 6}, nullptr, true, std::nullopt, 0.0f, perm},
      {"odd_head_17_33", {1, 2, 5, 17}, {1, 2, 9, 17}, {1, 2, 9, 33}},
      {"scale_override", {1, 2, 5, 8}, {1, 2, 7, 8}, {1, 2, 7, 8}, nullptr, false, 0.5f},
      {"dropout", {1, 2, 5, 8}, {1, 2, 7, 8}, {1, 2, 7, 8}, nullptr, false, std::nullopt, 0.2f},
      {"big_threads", {2, 4, 32, 32}, {2, 4, 32, 32}, {2, 4, 32, 32}, nullptr, true, std::nullopt, 0.0f, nullptr,
       kBig},
      {"big_threads_bool_mask", {2, 4, 32, 32}, {2, 4, 40, 32}, {2, 4, 40, 32}, bool_mask({2, 1, 32, 40}, {7}),
       false, std::nullopt, 0.0f, nullptr, kBig},
      {"float_mask_grad_per_head", {2, 3, 5, 8}, {2, 3, 7, 8}, {2, 3, 7, 6},
       [](Generator& g) { return randn({3, 5, 7}, g); }, false, std::nullopt, 0.0f, nullptr, kGrad | kRef, true},
      {"float_mask_grad_causal_dropout", {1, 2, 6, 8}, {1, 2, 6, 8}, {1, 2, 6, 8},
       [](Generator& g) { return randn({1, 2, 6, 6}, g); }, true, std::nullopt, 0.2f, nullptr, kGrad | kRef, true},
  };
  for (const A& a : as) {
    Shape qs = a.q, ks = a.k, vs = a.v;
    MaskFn mf = a.mask;
    Variant v = V(a.name,
                  [qs, ks, vs, mf](Generator& g) {
                    Inputs r{randn(qs, g), randn(ks, g), randn(vs, g)};
                    if (mf) r.push_back(mf(g));
                    return r;
                  },
                  a.layout, a.checks);
    if (a.mask && !a.mask_grad) v.no_grad = {3};  // a float mask is an input, not a parameter
    bool causal = a.causal;
    std::optional<float> scale = a.scale;
    float p = a.dropout;
    auto opts = [causal, scale, p](const Inputs& in) {
      AttentionOptions o;
      if (in.size() > 3) o.mask = in[3];
      o.causal = causal;
      o.scale = scale;
      o.dropout_p = p;
      return o;
    };
    v.call = [opts](const Inputs& in) {
      AttentionOptions o = opts(in);
      Generator g(5);
      o.gen = &g;
      return scaled_dot_product_attention(in[0], in[1], in[2], o);
    };
    v.reference = [opts](const Inputs& in) { return attention_ref(in[0], in[1], in[2], opts(in), 5); };
    c.variants.push_back(v);
  }
  c.tol.ref_atol = 2e-5;
  c.tol.ref_rtol = 2e-5;
  cs.push_back(c);
}

// Multi-head attention on (B, T, H·d) rows: the reference splits the heads,
// runs attention_ref per head and joins them again.
// With Hkv < H key/value heads (grouped-query attention) each k/v head is
// repeated for its H/Hkv query heads first (Hugging Face Llama's repeat_kv).
Tensor heads_ref(const Tensor& q, const Tensor& k, const Tensor& v, int64_t H, const AttentionOptions& o,
                 int64_t Hkv = 0) {
  if (Hkv == 0) Hkv = H;
  auto split = [](const Tensor& t, int64_t n) {
    return t.reshape({t.size(0), t.size(1), n, t.size(2) / n}).permute({0, 2, 1, 3});
  };
  auto repeat = [H, Hkv](const Tensor& t) {  // (B,Hkv,S,d) → (B,H,S,d), head h = kv head h / (H/Hkv)
    if (Hkv == H) return t;
    return t.unsqueeze(2).expand({t.size(0), Hkv, H / Hkv, t.size(2), t.size(3)}).reshape({t.size(0), H, t.size(2), t.size(3)});
  };
  Tensor y = attention_ref(split(q, H), repeat(split(k, Hkv)), repeat(split(v, Hkv)), o, 5);  // (B,H,T,hv)
  return y.permute({0, 2, 1, 3}).reshape({q.size(0), q.size(1), H * (v.size(2) / Hkv)});
}

void multi_head_attention_cases(std::vector<OpCase>& cs) {
  struct A {
    std::string name;
    int64_t B, T, S, H, hs, hv;
    bool causal = false;
    bool mask = false;  // a (B,1,T,S) bool mask with a dead row
    float dropout = 0.0f;
    LayoutFn layout = nullptr;
    unsigned checks = kGrad | kRef;
    bool alibi = false;  // ALiBi slopes 2^-1, 2^-2, … per head
    bool bias = false;   // a differentiated float mask (1,H,T,S): a learned relative bias
    int64_t Hkv = 0;     // key/value heads (grouped-query attention); 0 = H
  };
  // Operands as slices of wider rows (unit last stride, row stride > width),
  // and as transposed storage (the op must fall back to a copy).
  LayoutFn sliced = on_all([](const Tensor& t) { return t.narrow(-1, 1, t.size(-1) - 3); });
  auto opts = [](const A& a) {
    return [a](const Inputs& in) {
      AttentionOptions o;
      o.causal = a.causal;
      o.dropout_p = a.dropout;
      if (a.mask || a.bias) o.mask = in.back();
      if (a.alibi) {
        std::vector<float> m;
        for (int64_t h = 0; h < a.H; ++h) m.push_back(std::ldexp(1.0f, static_cast<int>(-1 - h)));
        o.alibi_slopes = tensor(m, {a.H});
      }
      return o;
    };
  };
  auto mask_of = [](int64_t B, int64_t T, int64_t S, Generator& g) {
    std::vector<float> u = rand({B, 1, T, S}, g).to_vector();
    std::vector<bool> m(u.size());
    for (size_t i = 0; i < u.size(); ++i) {
      int64_t row = (static_cast<int64_t>(i) / S) % T;
      m[i] = row != 1 && (u[i] < 0.7f || static_cast<int64_t>(i) % S == 0);  // row 1: nothing to attend to
    }
    return tensor_bool(m, {B, 1, T, S});
  };
  const int64_t wide = 3;  // extra columns the `sliced` layout cuts away
  {
    OpCase c;
    c.op = "multi_head_attention";
    std::vector<A> as = {
        {"plain", 2, 5, 7, 3, 4, 6},
        {"causal", 2, 6, 6, 2, 8, 8, true},
        {"causal_T3_S7", 1, 3, 7, 2, 4, 4, true},
        {"mask_dead_row", 2, 5, 7, 2, 4, 3, false, true},
        {"dropout", 1, 5, 7, 2, 4, 4, false, false, 0.2f},
        {"sliced_rows", 2, 5, 7, 3, 4, 6, true, false, 0.0f, nullptr},
        {"transposed_storage", 2, 5, 5, 2, 4, 4, false, false, 0.0f, on_all([](const Tensor& t) {
           return t.transpose(1, 2).contiguous().transpose(1, 2);
         })},
        {"big_threads", 2, 32, 32, 4, 16, 16, true, false, 0.0f, nullptr, kBig},
        {"alibi_causal_T3_S7", 2, 3, 7, 3, 4, 4, true, false, 0.0f, nullptr, kGrad | kRef, true},
        {"alibi_bidirectional_mask", 2, 5, 7, 2, 4, 3, false, true, 0.0f, nullptr, kGrad | kRef, true},
        {"learned_bias_causal_T3_S7", 2, 3, 7, 3, 4, 4, true, false, 0.0f, nullptr, kGrad | kRef, false, true},
        // Grouped-query (Hkv divides H) and multi-query (Hkv = 1) attention.
        {"gqa_4q_2kv_causal", 2, 6, 6, 4, 4, 4, true, false, 0.0f, nullptr, kGrad | kRef, false, false, 2},
        {"gqa_6q_2kv_T3_S7_mask", 2, 3, 7, 6, 4, 3, true, true, 0.0f, nullptr, kGrad | kRef, false, false, 2},
        {"mqa_4q_1kv_dropout", 1, 5, 7, 4, 4, 4, false, false, 0.2f, nullptr, kGrad | kRef, false, false, 1},
        {"gqa_sliced_rows", 2, 5, 7, 4, 4, 6, true, false, 0.0f, nullptr, kGrad | kRef, false, false, 2},
        {"gqa_big_threads", 2, 32, 32, 8, 16, 16, true, false, 0.0f, nullptr, kBig, false, false, 2},
    };
    as[5].layout = sliced;
    as[as.size() - 2].layout = sliced;
    for (const A& a : as) {
      const int64_t extra = a.layout && (a.name == "sliced_rows" || a.name == "gqa_sliced_rows") ? wide : 0;
      const int64_t Hkv = a.Hkv ? a.Hkv : a.H;
      Variant v = V(a.name,
                    [a, extra, mask_of, Hkv](Generator& g) {
                      Inputs r{randn({a.B, a.T, a.H * a.hs + extra}, g), randn({a.B, a.S, Hkv * a.hs + extra}, g),
                               randn({a.B, a.S, Hkv * a.hv + extra}, g)};
                      if (a.mask) r.push_back(mask_of(a.B, a.T, a.S, g));
                      if (a.bias) r.push_back(randn({1, a.H, a.T, a.S}, g));
                      return r;
                    },
                    a.layout, a.checks);
      auto o = opts(a);
      const int64_t H = a.H;
      v.call = [o, H](const Inputs& in) {
        AttentionOptions op = o(in);
        Generator g(5);
        op.gen = &g;
        return multi_head_attention(in[0], in[1], in[2], H, op);
      };
      v.reference = [o, H, Hkv](const Inputs& in) { return heads_ref(in[0], in[1], in[2], H, o(in), Hkv); };
      c.variants.push_back(v);
    }
    c.tol.ref_atol = 2e-5;
    c.tol.ref_rtol = 2e-5;
    cs.push_back(c);
  }
  {
    OpCase c;
    c.op = "multi_head_self_attention";
    std::vector<A> as = {
        {"plain", 2, 5, 5, 3, 4, 4},
        {"causal", 2, 6, 6, 2, 8, 8, true},
        {"mask_dead_row", 2, 5, 5, 2, 4, 4, false, true},
        {"dropout_causal", 1, 5, 5, 2, 4, 4, true, false, 0.2f},
        {"sliced_rows", 2, 5, 5, 2, 4, 4, true, false, 0.0f, nullptr},
        {"transposed_storage", 2, 5, 5, 2, 4, 4, true, false, 0.0f, on(0, [](const Tensor& t) {
           return t.transpose(1, 2).contiguous().transpose(1, 2);
         })},
        {"big_threads", 2, 32, 32, 4, 16, 16, true, false, 0.0f, nullptr, kBig},
        {"alibi_causal", 2, 6, 6, 3, 4, 4, true, false, 0.0f, nullptr, kGrad | kRef, true},
        {"alibi_big_threads", 2, 32, 32, 4, 16, 16, true, false, 0.0f, nullptr, kBig, true},
        {"learned_bias", 2, 5, 5, 2, 4, 4, false, false, 0.0f, nullptr, kGrad | kRef, false, true},
        {"learned_bias_causal_dropout", 1, 5, 5, 2, 4, 4, true, false, 0.2f, nullptr, kGrad | kRef, false, true},
    };
    as[4].layout = on(0, [](const Tensor& t) { return t.narrow(-1, 1, t.size(-1) - 3); });
    for (const A& a : as) {
      const int64_t extra = a.name == "sliced_rows" ? wide : 0;
      Variant v = V(a.name,
                    [a, extra, mask_of](Generator& g) {
                      Inputs r{randn({a.B, a.T, 3 * a.H * a.hs + extra}, g)};
                      if (a.mask) r.push_back(mask_of(a.B, a.T, a.S, g));
                      if (a.bias) r.push_back(randn({1, a.H, a.T, a.S}, g));
                      return r;
                    },
                    a.layout, a.checks);
      if (a.mask) v.no_grad = {1};
      auto o = opts(a);
      const int64_t H = a.H;
      v.call = [o, H](const Inputs& in) {
        AttentionOptions op = o(in);
        Generator g(5);
        op.gen = &g;
        return multi_head_self_attention(in[0], H, op);
      };
      v.reference = [o, H](const Inputs& in) {
        std::vector<Tensor> p = in[0].split(in[0].size(2) / 3, 2);
        return heads_ref(p[0], p[1], p[2], H, o(in));
      };
      c.variants.push_back(v);
    }
    c.tol.ref_atol = 2e-5;
    c.tol.ref_rtol = 2e-5;
    cs.push_back(c);
  }
}

void shape_cases(std::vector<OpCase>& cs) {
  auto n = normal();
  // A view-family variant: its call and the explicit output shape for the
  // row-major reference.
  auto reshape_like = [n](std::string name, Shape leaf, LayoutFn layout, std::function<Tensor(const Tensor&)> f,
                          Shape out) {
    return with_call(V(name, make1(n, leaf), layout), [f](const Inputs& in) { return f(in[0]); },
                     [out](const Inputs& in) { return ref_reshape(in[0], out); });
  };
  {
    OpCase c;
    c.op = "view";
    c.variants = {
        reshape_like("reshape", {2, 3, 4}, nullptr, [](const Tensor& t) { return t.reshape({6, 4}); }, {6, 4}),
        reshape_like("reshape_infer", {2, 3, 4}, nullptr, [](const Tensor& t) { return t.reshape({4, -1}); }, {4, 6}),
        reshape_like("reshape_transposed_copies", {4, 6}, on(0, tr), [](const Tensor& t) { return t.reshape({3, 8}); },
                     {3, 8}),
        reshape_like("view", {2, 3, 4}, nullptr, [](const Tensor& t) { return t.view({2, 12}); }, {2, 12}),
        reshape_like("view_split_last_of_permuted", {2, 3, 4}, on(0, [](const Tensor& t) { return t.permute({1, 0, 2}); }),
                     [](const Tensor& t) { return t.view({3, 2, 2, 2}); }, {3, 2, 2, 2}),
        reshape_like("flatten_1", {2, 3, 4}, nullptr, [](const Tensor& t) { return t.flatten(1); }, {2, 12}),
        reshape_like("flatten_all_transposed", {3, 5}, on(0, tr), [](const Tensor& t) { return t.flatten(); }, {15}),
        reshape_like("squeeze_dim", {3, 1, 4, 1}, nullptr, [](const Tensor& t) { return t.squeeze(1); }, {3, 4, 1}),
        reshape_like("squeeze_all", {3, 1, 4, 1}, nullptr, [](const Tensor& t) { return t.squeeze(); }, {3, 4}),
        reshape_like("squeeze_non1_noop", {3, 4}, nullptr, [](const Tensor& t) { return t.squeeze(0); }, {3, 4}),
        reshape_like("unsqueeze_front", {3, 4}, nullptr, [](const Tensor& t) { return t.unsqueeze(0); }, {1, 3, 4}),
        reshape_like("unsqueeze_back_transposed", {4, 3}, on(0, tr), [](const Tensor& t) { return t.unsqueeze(-1); },
                     {3, 4, 1}),
        reshape_like("scalar0d_to_1x1", {}, nullptr, [](const Tensor& t) { return t.reshape({1, 1}); }, {1, 1}),
        reshape_like("1x1_to_scalar0d", {1, 1}, nullptr, [](const Tensor& t) { return t.reshape({}); }, {}),
    };
    cs.push_back(c);
  }
  {
    OpCase c;
    c.op = "permute";
    auto pv = [n](std::string name, Shape leaf, LayoutFn layout, std::function<Tensor(const Tensor&)> f, Shape perm) {
      return with_call(V(name, make1(n, leaf), layout), [f](const Inputs& in) { return f(in[0]); },
                       [perm](const Inputs& in) { return ref_permute(in[0], perm); });
    };
    c.variants = {
        pv("permute_201", {2, 3, 4}, nullptr, [](const Tensor& t) { return t.permute({2, 0, 1}); }, {2, 0, 1}),
        pv("permute_negative_dims", {2, 3, 4}, nullptr, [](const Tensor& t) { return t.permute({-1, -3, -2}); },
           {2, 0, 1}),
        pv("transpose_0_2", {2, 3, 4}, nullptr, [](const Tensor& t) { return t.transpose(0, 2); }, {2, 1, 0}),
        pv("t_2d", {3, 5}, nullptr, [](const Tensor& t) { return t.t(); }, {1, 0}),
        pv("permute_of_sliced", {3, 8}, on(0, step2), [](const Tensor& t) { return t.permute({1, 0}); }, {1, 0}),
        pv("permute_then_matmul_layout", {2, 3, 5, 4}, nullptr, [](const Tensor& t) { return t.permute({0, 2, 1, 3}); },
           {0, 2, 1, 3}),
    };
    cs.push_back(c);
  }
  {
    OpCase c;
    c.op = "slice";
    // References: out[idx] = x[map(idx)].
    using Map = std::function<void(const Shape&, Shape&)>;
    auto sv = [n](std::string name, Shape leaf, LayoutFn layout, std::function<Tensor(const Tensor&)> f, Shape out,
                  Map m) {
      return with_call(V(name, make1(n, leaf), layout), [f](const Inputs& in) { return f(in[0]); },
                       [out, m](const Inputs& in) {
                         return ref_map(in[0], out, [m](const Shape& o, Shape& s) {
                           m(o, s);
                           return true;
                         });
                       });
    };
    c.variants = {
        sv("narrow", {4, 7}, nullptr, [](const Tensor& t) { return t.narrow(1, 2, 3); }, {4, 3},
           [](const Shape& o, Shape& s) { s = {o[0], o[1] + 2}; }),
        sv("slice_rows", {5, 3}, nullptr, [](const Tensor& t) { return t.slice(0, 1, 4); }, {3, 3},
           [](const Shape& o, Shape& s) { s = {o[0] + 1, o[1]}; }),
        sv("slice_step3", {2, 8}, nullptr, [](const Tensor& t) { return t.slice(1, 1, 8, 3); }, {2, 3},
           [](const Shape& o, Shape& s) { s = {o[0], 1 + 3 * o[1]}; }),
        sv("slice_negative_start_big_end", {2, 8}, nullptr, [](const Tensor& t) { return t.slice(1, -3, 100); }, {2, 3},
           [](const Shape& o, Shape& s) { s = {o[0], 5 + o[1]}; }),
        sv("select", {4, 5}, nullptr, [](const Tensor& t) { return t.select(0, 2); }, {5},
           [](const Shape& o, Shape& s) { s = {2, o[0]}; }),
        sv("select_negative", {4, 5}, nullptr, [](const Tensor& t) { return t.select(-1, -1); }, {4},
           [](const Shape& o, Shape& s) { s = {o[0], 4}; }),
        sv("select_of_transposed", {5, 4}, on(0, tr), [](const Tensor& t) { return t.select(1, 3); }, {4},
           [](const Shape& o, Shape& s) { s = {o[0], 3}; }),
        sv("split_middle", {3, 7}, nullptr, [](const Tensor& t) { return t.split(3, 1)[1]; }, {3, 3},
           [](const Shape& o, Shape& s) { s = {o[0], 3 + o[1]}; }),
        sv("split_last_short", {3, 7}, nullptr, [](const Tensor& t) { return t.split(3, 1)[2]; }, {3, 1},
           [](const Shape& o, Shape& s) { s = {o[0], 6}; }),
        sv("chunk_last", {7, 2}, nullptr, [](const Tensor& t) { return t.chunk(3, 0)[2]; }, {1, 2},
           [](const Shape& o, Shape& s) { s = {6 + o[0], o[1]}; }),
        sv("two_chunks_summed", {6, 2}, nullptr,
           [](const Tensor& t) {
             auto ch = t.chunk(2, 0);
             return add(ch[0], mul(ch[1], 2.0f)).select(0, 0);  // overlapping gradient paths
           },
           {2}, [](const Shape& o, Shape& s) { s = {0, o[0]}; }),
    };
    // The last variant's reference is x[0] + 2·x[3]: override.
    c.variants.back().reference = [](const Inputs& in) {
      std::vector<double> v = dvals(in[0], in[0].shape());
      return from_d({v[0] + 2 * v[6], v[1] + 2 * v[7]}, {2});
    };
    cs.push_back(c);
  }
  {
    OpCase c;
    c.op = "expand";
    auto ev = [n](std::string name, Shape leaf, LayoutFn layout, Shape target, Shape out) {
      return with_call(V(name, make1(n, leaf), layout), [target](const Inputs& in) { return in[0].expand(target); },
                       [out](const Inputs& in) { return from_d(dvals(in[0], out), out); });
    };
    c.variants = {
        ev("col_to_matrix", {3, 1}, nullptr, {3, 4}, {3, 4}),
        ev("new_leading_dims", {5}, nullptr, {2, 3, 5}, {2, 3, 5}),
        ev("minus_one_keeps", {1, 4}, nullptr, {3, -1}, {3, 4}),
        ev("of_transposed", {1, 3}, on(0, tr), {3, 5}, {3, 5}),
        ev("scalar0d", {}, nullptr, {2, 3}, {2, 3}),
    };
    cs.push_back(c);
  }
  {
    OpCase c;
    c.op = "contiguous";
    CallFn same = [](const Inputs& in) { return from_d(dvals(in[0], in[0].shape()), in[0].shape()); };
    c.variants = {
        with_call(V("transposed", make1(n, {5, 3}), on(0, tr)), [](const Inputs& in) { return in[0].contiguous(); }, same),
        with_call(V("sliced", make1(n, {3, 34}), on(0, step2)), [](const Inputs& in) { return in[0].contiguous(); }, same),
        with_call(V("already_contiguous", make1(n, {3, 4})), [](const Inputs& in) { return in[0].contiguous(); }, same),
        with_call(V("clone", make1(n, {3, 4})), [](const Inputs& in) { return in[0].clone(); }, same),
        with_call(V("clone_of_permuted", make1(n, {2, 3, 4}), on(0, [](const Tensor& t) { return t.permute({2, 0, 1}); })),
                  [](const Inputs& in) { return in[0].clone(); }, same),
        with_call(V("to_float32_noop", make1(n, {3, 4})), [](const Inputs& in) { return in[0].to(DType::Float32); }, same),
        with_call(V("big_threads", make1(n, {300, 257}), on(0, tr), kBig),
                  [](const Inputs& in) { return in[0].contiguous(); }, same),
    };
    cs.push_back(c);
  }
  {
    OpCase c;
    c.op = "cat";
    // Reference: concatenate in double along `dim`.
    auto ref_cat = [](int64_t dim) -> CallFn {
      return [dim](const Inputs& in) {
        int64_t d = dim < 0 ? dim + in[0].dim() : dim;
        Shape out = in[0].shape();
        out[d] = 0;
        for (auto& t : in) out[d] += t.shape()[d];
        std::vector<double> r(shape_numel(out));
        for (int64_t i = 0; i < static_cast<int64_t>(r.size()); ++i) {
          Shape idx = unravel(i, out);
          for (auto& t : in) {
            if (idx[d] < t.shape()[d]) {
              r[i] = dvals(t, t.shape())[ravel(idx, t.shape())];
              break;
            }
            idx[d] -= t.shape()[d];
          }
        }
        return from_d(r, out);
      };
    };
    c.variants = {
        with_call(V("dim0", make_n({{n, {2, 3}}, {n, {4, 3}}})), [](const Inputs& in) { return cat(in, 0); }, ref_cat(0)),
        with_call(V("dim1_three_mixed_layouts", make_n({{n, {3, 2}}, {n, {5, 3}}, {n, {3, 8}}}),
                    [](const Inputs& in) { return Inputs{in[0], tr(in[1]), step2(in[2])}; }),
                  [](const Inputs& in) { return cat(in, 1); }, ref_cat(1)),
        with_call(V("dim_neg1_3d", make_n({{n, {2, 3, 1}}, {n, {2, 3, 17}}})), [](const Inputs& in) { return cat(in, -1); },
                  ref_cat(-1)),
        with_call(V("single", make_n({{n, {2, 3}}})), [](const Inputs& in) { return cat(in, 0); }, ref_cat(0)),
        with_call(V("stack_dim1", make_n({{n, {2, 3}}, {n, {2, 3}}})), [](const Inputs& in) { return stack(in, 1); },
                  [ref_cat](const Inputs& in) {
                    return ref_cat(1)({in[0].reshape({2, 1, 3}), in[1].reshape({2, 1, 3})});
                  }),
    };
    cs.push_back(c);
  }
  for (bool lower : {true, false}) {
    OpCase c;
    c.op = lower ? "tril" : "triu";
    auto f = [lower](const Tensor& t, int64_t k) { return lower ? tril(t, k) : triu(t, k); };
    auto ref = [lower](int64_t k) -> CallFn {
      return [lower, k](const Inputs& in) {
        Tensor r = ref_map(in[0], in[0].shape(), [&](const Shape& o, Shape& s) {
          s = o;
          int64_t i = o[o.size() - 2], j = o.back();
          return lower ? j - i <= k : j - i >= k;
        });
        return in[0].dtype() == DType::Float32 ? r : r.to(in[0].dtype());
      };
    };
    for (auto [name, shape, k, layout] : std::vector<std::tuple<std::string, Shape, int64_t, LayoutFn>>{
             {"k0_square", {4, 4}, 0, nullptr},
             {"k1", {4, 4}, 1, nullptr},
             {"k_neg1_wide", {4, 6}, -1, nullptr},
             {"k2_tall", {6, 4}, 2, nullptr},
             {"batched", {2, 3, 5}, 0, nullptr},
             {"transposed", {5, 3}, 0, on(0, tr)}}) {
      int64_t kk = k;
      c.variants.push_back(with_call(V(name, make1(n, shape), layout),
                                     [f, kk](const Inputs& in) { return f(in[0], kk); }, ref(kk)));
    }
    // Masks are built as tril(ones(T, S, bool)).
    c.variants.push_back(with_call(V("bool_mask", [](Generator&) { return Inputs{ones({3, 5}, DType::Bool)}; }, nullptr,
                                     kNoGraph),
                                   [f](const Inputs& in) { return f(in[0], 1); }, ref(1)));
    cs.push_back(c);
  }
}

void indexing_cases(std::vector<OpCase>& cs) {
  OpCase c;
  c.op = "index_select";
  // Reference: out[o] = x[o with o[d] replaced by ids[o[d]]], in double.
  auto ref = [](int64_t dim) -> CallFn {
    return [dim](const Inputs& in) {
      const int64_t d = dim < 0 ? dim + in[0].dim() : dim;
      std::vector<int64_t> ids = in[1].to_int_vector();
      Shape out = in[0].shape();
      out[d] = static_cast<int64_t>(ids.size());
      return ref_map(in[0], out, [d, ids](const Shape& o, Shape& src) {
        src = o;
        src[d] = ids[o[d]];
        return true;
      });
    };
  };
  // Leaf x of shape `leaf` (laid out by `layout`) and fixed ids, or `n_ids`
  // random ids (repeats likely) in [0, size) when `ids` is empty.
  auto iv = [ref](std::string name, Shape leaf, LayoutFn layout, int64_t dim, std::vector<int64_t> ids,
                  int64_t n_ids = 0, int64_t size = 0, unsigned checks = kGrad | kRef, DType dt = DType::Int64) {
    MakeFn make = [=](Generator& g) {
      Tensor x = randn(leaf, g);
      Tensor i = ids.empty() ? randint(0, size, {n_ids}, g) : tensor_i64(ids, {static_cast<int64_t>(ids.size())});
      return Inputs{x, i.to(dt)};
    };
    return with_call(V(name, make, layout, checks),
                     [dim](const Inputs& in) { return index_select(in[0], dim, in[1]); }, ref(dim));
  };
  c.variants = {
      iv("dim0_contiguous", {5, 4}, nullptr, 0, {3, 0, 4}),
      iv("dim1_permuted", {3, 4, 5}, on(0, [](const Tensor& t) { return t.permute({2, 0, 1}); }), 1, {2, 0}),
      iv("dim0_transposed", {4, 6}, on(0, tr), 0, {5, 1, 2}),
      iv("sliced_last_dim", {3, 34}, on(0, step2), -1, {16, 0, 7}),
      iv("repeated_ids_accumulate", {4, 6}, nullptr, 0, {1, 1, 3, 1}),
      iv("last_dim_odd33", {2, 3, 33}, nullptr, 2, {32, 0, 5, 5, 17}),
      iv("negative_dim", {2, 5, 3}, nullptr, -2, {4, 4, 0}),
      iv("size1_dims", {1, 5, 1}, nullptr, 1, {4, 0}),
      iv("one_id_of_size1_dim", {3, 1}, nullptr, 1, {0, 0, 0}),
      iv("single_id", {4, 3}, nullptr, 0, {2}),
      iv("ids_int32", {6, 3}, nullptr, 0, {5, 2, 2}, 0, 0, kGrad | kRef, DType::Int32),
      iv("beam_reorder_3d", {6, 4, 8}, nullptr, 0, {0, 0, 2, 5, 5, 3}),
      iv("big_threads_dim0", {300, 257}, nullptr, 0, {}, 300, 300, kBig),
      iv("big_threads_dim1", {257, 300}, nullptr, 1, {}, 280, 300, kBig),
  };
  c.tol.ref_atol = 0;
  c.tol.ref_rtol = 0;
  cs.push_back(c);
}

// RoPE (Su et al. 2021) in plain double loops: pair (a, b) of head h turns
// by p·scale·theta^(−2i/rot).
Tensor rope_ref(const Tensor& x, const std::vector<int64_t>& pos, bool per_batch, int64_t H, const RopeOptions& o) {
  const int64_t B = x.size(0), T = x.size(1), C = x.size(2), hs = C / H, rot = o.rot_dim ? o.rot_dim : hs;
  const std::vector<float> in = x.contiguous().to_vector();
  std::vector<float> out = in;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < T; ++t)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t i = 0; i < rot / 2; ++i) {
          const bool half = o.layout == RopeLayout::RotateHalf;
          const int64_t base = (b * T + t) * C + h * hs, ia = base + (half ? i : 2 * i),
                        ib = base + (half ? i + rot / 2 : 2 * i + 1);
          const double p = static_cast<double>(pos[per_batch ? b * T + t : t]) * o.position_scale;
          const double ang = p * std::pow(o.theta, -2.0 * static_cast<double>(i) / static_cast<double>(rot));
          out[ia] = static_cast<float>(in[ia] * std::cos(ang) - in[ib] * std::sin(ang));
          out[ib] = static_cast<float>(in[ia] * std::sin(ang) + in[ib] * std::cos(ang));
        }
  return tensor(out, x.shape());
}

void rotary_cases(std::vector<OpCase>& cs) {
  OpCase c;
  c.op = "rotary_embedding";
  struct R {
    std::string name;
    Shape x;
    int64_t H;
    RopeOptions o;
    std::vector<int64_t> pos;  // empty = 0..T−1; B·T entries = per batch row
    LayoutFn layout = nullptr;
    unsigned checks = kGrad | kRef;
  };
  const RopeOptions half{}, adjacent{0, 10000.0, 1.0, RopeLayout::Adjacent};
  const RopeOptions partial{4, 100.0, 1.0, RopeLayout::RotateHalf}, scaled{6, 1e6, 0.25, RopeLayout::Adjacent};
  std::vector<R> rs = {
      {"rotate_half", {2, 5, 16}, 2, half, {}},
      {"adjacent", {2, 5, 16}, 2, adjacent, {}},
      {"partial_dim4_base100", {1, 6, 24}, 3, partial, {}},
      {"adjacent_partial6_interp_base1e6", {1, 4, 16}, 2, scaled, {3, 10, 11, 40}},
      {"positions_per_batch", {2, 3, 8}, 1, half, {0, 0, 1, 5, 6, 7}},
      {"sliced_input", {2, 4, 8}, 2, adjacent, {}, on(0, step2)},
      {"big_threads", {4, 64, 256}, 4, half, {}, nullptr, kBig},
  };
  for (const R& r : rs) {
    Shape xs = r.x;
    if (r.layout) xs.back() *= 2;  // step2 keeps every other column
    Variant v = V(r.name, [xs](Generator& g) { return Inputs{randn(xs, g)}; }, r.layout, r.checks);
    const bool per_batch = !r.pos.empty() && static_cast<int64_t>(r.pos.size()) == r.x[0] * r.x[1];
    Tensor positions;
    if (!r.pos.empty()) positions = per_batch ? tensor_i64(r.pos, {r.x[0], r.x[1]}) : tensor_i64(r.pos, {r.x[1]});
    std::vector<int64_t> pos = r.pos;
    if (pos.empty())
      for (int64_t t = 0; t < r.x[1]; ++t) pos.push_back(t);
    const int64_t H = r.H;
    const RopeOptions o = r.o;
    v.call = [positions, H, o](const Inputs& in) { return rotary_embedding(in[0], positions, H, o); };
    v.reference = [pos, per_batch, H, o](const Inputs& in) { return rope_ref(in[0], pos, per_batch, H, o); };
    c.variants.push_back(v);
  }
  c.tol.ref_atol = 1e-5;
  c.tol.ref_rtol = 1e-5;
  cs.push_back(c);
}

// Shaw et al. 2018's clipped distance: row clip(s − (t + S − T), −k, k) + k.
int64_t rel_row(int64_t t, int64_t s, int64_t T, int64_t S, int64_t k) {
  return std::clamp(s - (t + S - T), -k, k) + k;
}

void relative_cases(std::vector<OpCase>& cs) {
  // Variants: x's shape (…,T,R) for the gather, p's (…,T,S) for the scatter.
  struct R {
    std::string name;
    Shape x;
    int64_t other;  // gather: S; scatter: k
    LayoutFn layout = nullptr;
    unsigned checks = kGrad | kRef;
  };
  OpCase g;
  g.op = "relative_gather";
  // out[…,t,s] = x[…,t,row(t,s)] in double.
  auto gather_ref = [](int64_t S) -> CallFn {
    return [S](const Inputs& in) {
      const Shape& xs = in[0].shape();
      const int64_t T = xs[xs.size() - 2], k = (xs.back() - 1) / 2;
      Shape out = xs;
      out.back() = S;
      return ref_map(in[0], out, [=](const Shape& o, Shape& src) {
        src = o;
        src.back() = rel_row(o[o.size() - 2], o.back(), T, S, k);
        return true;
      });
    };
  };
  const std::vector<R> gs = {
      {"square_k2", {2, 6, 5}, 6},
      {"cache_S_gt_T", {2, 3, 3, 7}, 9},
      {"one_query_k4", {1, 2, 1, 9}, 12},
      {"k_past_S", {2, 4, 11}, 4},
      {"k0", {3, 5, 1}, 5},
      {"transposed", {2, 5, 6}, 6, on(0, tr)},  // (2,6,5) viewed from a (2,5,6) leaf
      {"big_threads", {4, 4, 64, 33}, 256, nullptr, kBig},
  };
  for (const R& r : gs) {
    Shape leaf = r.x;
    Variant v = V(r.name, [leaf](Generator& gen) { return Inputs{randn(leaf, gen)}; }, r.layout, r.checks);
    const int64_t S = r.other;
    g.variants.push_back(with_call(v, [S](const Inputs& in) { return relative_gather(in[0], S); }, gather_ref(S)));
  }
  g.tol.ref_atol = g.tol.ref_rtol = 0;
  cs.push_back(g);

  OpCase sc;
  sc.op = "relative_scatter";
  // out[…,t,r] = Σ_{s: row(t,s)=r} p[…,t,s] in double.
  auto scatter_ref = [](int64_t k) -> CallFn {
    return [k](const Inputs& in) {
      const Shape& ps = in[0].shape();
      const int64_t T = ps[ps.size() - 2], S = ps.back(), R = 2 * k + 1;
      const std::vector<double> p = dvals(in[0], ps);
      Shape os = ps;
      os.back() = R;
      std::vector<double> out(shape_numel(os), 0.0);
      for (int64_t i = 0; i < static_cast<int64_t>(p.size()); ++i) {
        const int64_t s = i % S, t = (i / S) % T, n = i / (S * T);
        out[(n * T + t) * R + rel_row(t, s, T, S, k)] += p[i];
      }
      return from_d(out, os);
    };
  };
  const std::vector<R> ss = {
      {"square_k2", {2, 6, 6}, 2},
      {"cache_S_gt_T", {2, 3, 3, 9}, 3},
      {"one_query_k4", {1, 2, 1, 12}, 4},
      {"k_past_S", {2, 4, 4}, 5},
      {"k0", {3, 5, 5}, 0},
      {"transposed", {2, 7, 5}, 2, on(0, tr)},
      {"sliced", {2, 5, 12}, 2, on(0, step2)},
      {"big_threads", {4, 4, 64, 256}, 16, nullptr, kBig},
  };
  for (const R& r : ss) {
    Shape leaf = r.x;
    Variant v = V(r.name, [leaf](Generator& gen) { return Inputs{randn(leaf, gen)}; }, r.layout, r.checks);
    const int64_t k = r.other;
    sc.variants.push_back(with_call(v, [k](const Inputs& in) { return relative_scatter(in[0], k); }, scatter_ref(k)));
  }
  sc.tol.ref_atol = 1e-4;  // float32 sums of up to S = 256 N(0,1) terms against double
  sc.tol.ref_rtol = 1e-5;
  cs.push_back(sc);
}

}  // namespace

const std::vector<OpCase>& op_cases() {
  static const std::vector<OpCase> cases = [] {
    std::vector<OpCase> cs;
    elementwise_cases(cs);
    reduction_cases(cs);
    linalg_cases(cs);
    nn_cases(cs);
    attention_cases(cs);
    multi_head_attention_cases(cs);
    rotary_cases(cs);
    shape_cases(cs);
    indexing_cases(cs);
    relative_cases(cs);
    return cs;
  }();
  return cases;
}

}  // namespace qkv::test
