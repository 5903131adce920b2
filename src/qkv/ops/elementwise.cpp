// Elementwise ops: broadcasting binary arithmetic, unary math, comparisons,
// where and masked_fill. Forward calls kernels/elementwise; backward rules are
// written with other ops (they run with grad mode off).
#include <array>
#include <cstring>

#include "op_util.h"
#include "qkv/core/strided.h"
#include "qkv/kernels/elementwise.h"

namespace qkv {
namespace {

using kernels::Binary;
using kernels::Unary;
using kernels::UnaryParams;

Tensor binary(Binary kind, const char* name, const Tensor& a, const Tensor& b) {
  ops::check_float(a, name, "a");
  ops::check_float(b, name, "b");
  Shape shape = broadcast_shapes(a.shape(), b.shape(), name);
  Tensor out = Tensor::empty(shape);
  kernels::binary_forward(kind, shape, a.data<float>(), ops::broadcast_strides(a, shape),
                          b.data<float>(), ops::broadcast_strides(b, shape), out.data<float>());
  if (!autograd::any_requires_grad({&a, &b})) return out;
  Shape as = a.shape(), bs = b.shape();
  bool ga = a.requires_grad(), gb = b.requires_grad();
  switch (kind) {
    case Binary::Add:
      autograd::record(name, out, {a, b}, [as, bs, ga, gb](const Tensor& g) {
        return std::vector<Tensor>{ga ? sum_to(g, as) : Tensor(), gb ? sum_to(g, bs) : Tensor()};
      });
      break;
    case Binary::Sub:
      autograd::record(name, out, {a, b}, [as, bs, ga, gb](const Tensor& g) {
        return std::vector<Tensor>{ga ? sum_to(g, as) : Tensor(), gb ? sum_to(neg(g), bs) : Tensor()};
      });
      break;
    case Binary::Mul: {
      Tensor ad = a.detach(), bd = b.detach();
      autograd::record(name, out, {a, b}, [ad, bd, ga, gb](const Tensor& g) {
        return std::vector<Tensor>{ga ? sum_to(mul(g, bd), ad.shape()) : Tensor(),
                                   gb ? sum_to(mul(g, ad), bd.shape()) : Tensor()};
      });
      break;
    }
    case Binary::Div: {
      Tensor ad = a.detach(), bd = b.detach();
      autograd::record(name, out, {a, b}, [ad, bd, ga, gb](const Tensor& g) {
        Tensor gq = div(g, bd);  // ∂(a/b)/∂a = 1/b; ∂/∂b = −a/b²
        return std::vector<Tensor>{ga ? sum_to(gq, ad.shape()) : Tensor(),
                                   gb ? sum_to(neg(mul(gq, div(ad, bd))), bd.shape()) : Tensor()};
      });
      break;
    }
    case Binary::Pow: {
      Tensor ad = a.detach(), bd = b.detach(), od = out.detach();
      autograd::record(name, out, {a, b}, [ad, bd, od, ga, gb](const Tensor& g) {
        // ∂(a^b)/∂a = b·a^(b−1); ∂/∂b = a^b·ln a
        return std::vector<Tensor>{
            ga ? sum_to(mul(g, mul(bd, pow(ad, sub(bd, ones({}))))), ad.shape()) : Tensor(),
            gb ? sum_to(mul(g, mul(od, log(ad))), bd.shape()) : Tensor()};
      });
      break;
    }
  }
  return out;
}

// Unary ops: input made contiguous, output contiguous; backward via kernel.
Tensor unary(Unary kind, const char* name, const Tensor& a, UnaryParams p = {}) {
  ops::check_float(a, name);
  Tensor x = a.detach().contiguous();
  Tensor out = Tensor::empty(a.shape());
  kernels::unary_forward(kind, x.data<float>(), out.data<float>(), out.numel(), p);
  if (!autograd::any_requires_grad({&a})) return out;
  Tensor od = out.detach();
  autograd::record(name, out, {a}, [kind, x, od, p](const Tensor& g) {
    Tensor gc = g.contiguous();
    Tensor dx = Tensor::empty(x.shape());
    kernels::unary_backward(kind, x.data<float>(), od.data<float>(), gc.data<float>(),
                            dx.data<float>(), dx.numel(), p);
    return std::vector<Tensor>{dx};
  });
  return out;
}

enum class Cmp { Eq, Ne, Lt, Le, Gt, Ge };

Tensor compare(Cmp c, const char* name, const Tensor& a, const Tensor& b) {
  ops::check_defined(a, name, "a");
  ops::check_defined(b, name, "b");
  Shape shape = broadcast_shapes(a.shape(), b.shape(), name);
  Tensor af = a.dtype() == DType::Float32 ? a : a.to(DType::Float32);
  Tensor bf = b.dtype() == DType::Float32 ? b : b.to(DType::Float32);
  Tensor out = Tensor::empty(shape, DType::Bool);
  const float* x = af.data<float>();
  const float* y = bf.data<float>();
  uint8_t* o = static_cast<uint8_t*>(out.raw_data());
  strided_apply<3>(shape, {contiguous_strides(shape), ops::broadcast_strides(af, shape),
                           ops::broadcast_strides(bf, shape)},
                   [&](const std::array<int64_t, 3>& off, int64_t n, const std::array<int64_t, 3>& is) {
                     for (int64_t j = 0; j < n; ++j) {
                       float u = x[off[1] + j * is[1]], v = y[off[2] + j * is[2]];
                       bool r = false;
                       switch (c) {
                         case Cmp::Eq: r = u == v; break;
                         case Cmp::Ne: r = u != v; break;
                         case Cmp::Lt: r = u < v; break;
                         case Cmp::Le: r = u <= v; break;
                         case Cmp::Gt: r = u > v; break;
                         case Cmp::Ge: r = u >= v; break;
                       }
                       o[off[0] + j] = r;
                     }
                   });
  return out;
}

void check_mask(const Tensor& m, const char* op) {
  ops::check_defined(m, op, "mask");
  if (m.dtype() != DType::Bool && m.dtype() != DType::UInt8)
    throw ValueError(std::string(op) + ": mask must be bool, got " + dtype_name(m.dtype()) + " " +
                     shape_str(m.shape()));
}

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) { return binary(Binary::Add, "add", a, b); }
Tensor sub(const Tensor& a, const Tensor& b) { return binary(Binary::Sub, "sub", a, b); }
Tensor mul(const Tensor& a, const Tensor& b) { return binary(Binary::Mul, "mul", a, b); }
Tensor div(const Tensor& a, const Tensor& b) { return binary(Binary::Div, "div", a, b); }
Tensor pow(const Tensor& a, const Tensor& b) { return binary(Binary::Pow, "pow", a, b); }
Tensor pow(const Tensor& a, float e) { return unary(Unary::PowS, "pow", a, {e}); }
Tensor add(const Tensor& a, float s) { return unary(Unary::AddS, "add_scalar", a, {s}); }
Tensor mul(const Tensor& a, float s) { return unary(Unary::MulS, "mul_scalar", a, {s}); }
Tensor rsub(const Tensor& a, float s) { return unary(Unary::RsubS, "rsub_scalar", a, {s}); }
Tensor rdiv(const Tensor& a, float s) { return unary(Unary::RdivS, "rdiv_scalar", a, {s}); }
Tensor neg(const Tensor& a) { return unary(Unary::Neg, "neg", a); }
Tensor exp(const Tensor& a) { return unary(Unary::Exp, "exp", a); }
Tensor log(const Tensor& a) { return unary(Unary::Log, "log", a); }
Tensor sqrt(const Tensor& a) { return unary(Unary::Sqrt, "sqrt", a); }
Tensor rsqrt(const Tensor& a) { return unary(Unary::Rsqrt, "rsqrt", a); }
Tensor abs(const Tensor& a) { return unary(Unary::Abs, "abs", a); }
Tensor tanh(const Tensor& a) { return unary(Unary::Tanh, "tanh", a); }
Tensor sigmoid(const Tensor& a) { return unary(Unary::Sigmoid, "sigmoid", a); }
Tensor relu(const Tensor& a) { return unary(Unary::Relu, "relu", a); }
Tensor gelu(const Tensor& a, GeluApprox approx) {
  return unary(approx == GeluApprox::Tanh ? Unary::GeluTanh : Unary::GeluErf, "gelu", a);
}
Tensor silu(const Tensor& a) { return unary(Unary::Silu, "silu", a); }
Tensor clamp(const Tensor& a, std::optional<float> lo, std::optional<float> hi) {
  UnaryParams p;
  if (lo) p.lo = *lo;
  if (hi) p.hi = *hi;
  if (lo && hi && *lo > *hi)
    throw ValueError("clamp: lower bound " + std::to_string(*lo) + " exceeds upper bound " +
                     std::to_string(*hi));
  return unary(Unary::Clamp, "clamp", a, p);
}

Tensor eq(const Tensor& a, const Tensor& b) { return compare(Cmp::Eq, "eq", a, b); }
Tensor ne(const Tensor& a, const Tensor& b) { return compare(Cmp::Ne, "ne", a, b); }
Tensor lt(const Tensor& a, const Tensor& b) { return compare(Cmp::Lt, "lt", a, b); }
Tensor le(const Tensor& a, const Tensor& b) { return compare(Cmp::Le, "le", a, b); }
Tensor gt(const Tensor& a, const Tensor& b) { return compare(Cmp::Gt, "gt", a, b); }
Tensor ge(const Tensor& a, const Tensor& b) { return compare(Cmp::Ge, "ge", a, b); }
Tensor eq(const Tensor& a, float s) { return eq(a, scalar_tensor(s)); }
Tensor ne(const Tensor& a, float s) { return ne(a, scalar_tensor(s)); }
Tensor lt(const Tensor& a, float s) { return lt(a, scalar_tensor(s)); }
Tensor le(const Tensor& a, float s) { return le(a, scalar_tensor(s)); }
Tensor gt(const Tensor& a, float s) { return gt(a, scalar_tensor(s)); }
Tensor ge(const Tensor& a, float s) { return ge(a, scalar_tensor(s)); }

Tensor logical_not(const Tensor& mask) {
  check_mask(mask, "logical_not");
  return eq(mask, 0.0f);
}

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  check_mask(cond, "where");
  ops::check_float(a, "where", "a");
  ops::check_float(b, "where", "b");
  Shape shape = broadcast_shapes(broadcast_shapes(cond.shape(), a.shape(), "where"), b.shape(), "where");
  Tensor out = Tensor::empty(shape);
  const uint8_t* c = static_cast<const uint8_t*>(cond.raw_data());
  const float* x = a.data<float>();
  const float* y = b.data<float>();
  float* o = out.data<float>();
  Shape cs = ops::broadcast_strides(cond, shape);
  strided_apply<4>(shape, {contiguous_strides(shape), cs, ops::broadcast_strides(a, shape),
                           ops::broadcast_strides(b, shape)},
                   [&](const std::array<int64_t, 4>& off, int64_t n, const std::array<int64_t, 4>& is) {
                     for (int64_t j = 0; j < n; ++j)
                       o[off[0] + j] = c[off[1] + j * is[1]] ? x[off[2] + j * is[2]] : y[off[3] + j * is[3]];
                   }, true);
  if (!autograd::any_requires_grad({&a, &b})) return out;
  Tensor cd = cond.detach();
  Shape as = a.shape(), bs = b.shape();
  bool ga = a.requires_grad(), gb = b.requires_grad();
  autograd::record("where", out, {a, b}, [cd, as, bs, ga, gb](const Tensor& g) {
    Tensor z = zeros({});
    return std::vector<Tensor>{ga ? sum_to(where(cd, g, z), as) : Tensor(),
                               gb ? sum_to(where(cd, z, g), bs) : Tensor()};
  });
  return out;
}

Tensor masked_fill(const Tensor& a, const Tensor& mask, float value) {
  check_mask(mask, "masked_fill");
  ops::check_float(a, "masked_fill");
  Shape shape = broadcast_shapes(a.shape(), mask.shape(), "masked_fill");
  if (shape != a.shape())
    throw ShapeError("masked_fill: mask " + shape_str(mask.shape()) +
                     " must broadcast to the input's shape " + shape_str(a.shape()));
  Tensor out;
  {
    NoGradGuard ng;
    out = where(mask, full({}, value), a);
  }
  if (!autograd::any_requires_grad({&a})) return out;
  Tensor md = mask.detach();
  autograd::record("masked_fill", out, {a, mask}, [md](const Tensor& g) {
    return std::vector<Tensor>{where(md, zeros({}), g), Tensor()};
  });
  return out;
}

}  // namespace qkv
