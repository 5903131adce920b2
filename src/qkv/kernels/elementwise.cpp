#include "qkv/kernels/elementwise.h"

#include <omp.h>

#include <algorithm>
#include <array>
#include <cmath>

#include "qkv/core/strided.h"
#include "vec_math.h"

namespace qkv::kernels {
namespace {

constexpr int64_t kParallelMin = 1 << 15;

template <class F>
void binary_loop(const Shape& shape, const float* a, const Shape& as, const float* b,
                 const Shape& bs, float* out, F f) {
  Shape os = contiguous_strides(shape);
  strided_apply<3>(shape, {os, as, bs}, [&](const std::array<int64_t, 3>& off, int64_t n,
                                            const std::array<int64_t, 3>& is) {
    float* o = out + off[0];
    const float* x = a + off[1];
    const float* y = b + off[2];
    if (is[1] == 1 && is[2] == 1) {
#pragma omp simd
      for (int64_t j = 0; j < n; ++j) o[j] = f(x[j], y[j]);
    } else if (is[1] == 1 && is[2] == 0) {
      const float yv = *y;
#pragma omp simd
      for (int64_t j = 0; j < n; ++j) o[j] = f(x[j], yv);
    } else if (is[1] == 0 && is[2] == 1) {
      const float xv = *x;
#pragma omp simd
      for (int64_t j = 0; j < n; ++j) o[j] = f(xv, y[j]);
    } else {
      for (int64_t j = 0; j < n; ++j) o[j] = f(x[j * is[1]], y[j * is[2]]);
    }
  }, /*parallel=*/true);
}

// Splits [0, n) into one contiguous piece per thread (64-element aligned) and
// runs body(begin, end) on each. (Not `parallel for simd`: GCC 12 leaves the
// outlined loop scalar when the body calls inlined math like fast_exp.)
template <class Body>
void parallel_pieces(int64_t n, Body body) {
  if (n < kParallelMin || omp_get_max_threads() == 1 || omp_in_parallel()) {
    body(int64_t{0}, n);
    return;
  }
#pragma omp parallel
  {
    int nt = omp_get_num_threads(), t = omp_get_thread_num();
    int64_t chunk = ((n + nt - 1) / nt + 63) / 64 * 64;
    int64_t b = std::min(n, t * chunk), e = std::min(n, b + chunk);
    if (b < e) body(b, e);
  }
}

template <class F>
void unary_loop(const float* x, float* y, int64_t n, F f) {
  parallel_pieces(n, [&](int64_t b, int64_t e) {
#pragma omp simd
    for (int64_t i = b; i < e; ++i) y[i] = f(x[i]);
  });
}

template <class F>
void unary_bwd_loop(const float* x, const float* y, const float* dy, float* dx, int64_t n, F f) {
  parallel_pieces(n, [&](int64_t b, int64_t e) {
#pragma omp simd
    for (int64_t i = b; i < e; ++i) dx[i] = dy[i] * f(x[i], y[i]);
  });
}

constexpr float kSqrt2OverPi = 0.7978845608028654f;  // √(2/π)
constexpr float kInvSqrt2 = 0.7071067811865476f;
constexpr float kInvSqrt2Pi = 0.3989422804014327f;    // 1/√(2π)

inline float sigmoidf(float v) { return 1.0f / (1.0f + fast_exp(-v)); }

}  // namespace

void binary_forward(Binary op, const Shape& shape, const float* a, const Shape& as,
                    const float* b, const Shape& bs, float* out) {
  switch (op) {
    case Binary::Add: binary_loop(shape, a, as, b, bs, out, [](float x, float y) { return x + y; }); break;
    case Binary::Sub: binary_loop(shape, a, as, b, bs, out, [](float x, float y) { return x - y; }); break;
    case Binary::Mul: binary_loop(shape, a, as, b, bs, out, [](float x, float y) { return x * y; }); break;
    case Binary::Div: binary_loop(shape, a, as, b, bs, out, [](float x, float y) { return x / y; }); break;
    case Binary::Pow: binary_loop(shape, a, as, b, bs, out, [](float x, float y) { return std::pow(x, y); }); break;
  }
}

void unary_forward(Unary op, const float* x, float* y, int64_t n, const UnaryParams& p) {
  const float s = p.s, lo = p.lo, hi = p.hi;
  switch (op) {
    case Unary::Neg: unary_loop(x, y, n, [](float v) { return -v; }); break;
    case Unary::Exp: unary_loop(x, y, n, [](float v) { return fast_exp(v); }); break;
    case Unary::Log: unary_loop(x, y, n, [](float v) { return std::log(v); }); break;
    case Unary::Sqrt: unary_loop(x, y, n, [](float v) { return std::sqrt(v); }); break;
    case Unary::Rsqrt: unary_loop(x, y, n, [](float v) { return 1.0f / std::sqrt(v); }); break;
    case Unary::Abs: unary_loop(x, y, n, [](float v) { return std::fabs(v); }); break;
    case Unary::Tanh: unary_loop(x, y, n, [](float v) { return fast_tanh(v); }); break;
    case Unary::Sigmoid: unary_loop(x, y, n, [](float v) { return sigmoidf(v); }); break;
    case Unary::Relu: unary_loop(x, y, n, [](float v) { return v > 0 ? v : 0.0f; }); break;
    case Unary::GeluErf:  // x·Φ(x), Φ(x) = ½(1 + erf(x/√2))
      unary_loop(x, y, n, [](float v) { return 0.5f * v * (1.0f + fast_erf(v * kInvSqrt2)); });
      break;
    case Unary::GeluTanh:  // Hendrycks & Gimpel 2016: ½x(1 + tanh(√(2/π)(x + 0.044715x³)))
      unary_loop(x, y, n, [](float v) {
        return 0.5f * v * (1.0f + fast_tanh(kSqrt2OverPi * (v + 0.044715f * v * v * v)));
      });
      break;
    case Unary::Silu: unary_loop(x, y, n, [](float v) { return v * sigmoidf(v); }); break;
    case Unary::AddS: unary_loop(x, y, n, [s](float v) { return v + s; }); break;
    case Unary::MulS: unary_loop(x, y, n, [s](float v) { return v * s; }); break;
    case Unary::RsubS: unary_loop(x, y, n, [s](float v) { return s - v; }); break;
    case Unary::RdivS: unary_loop(x, y, n, [s](float v) { return s / v; }); break;
    case Unary::PowS:
      if (s == 2.0f) unary_loop(x, y, n, [](float v) { return v * v; });
      else unary_loop(x, y, n, [s](float v) { return std::pow(v, s); });
      break;
    case Unary::Clamp:
      unary_loop(x, y, n, [lo, hi](float v) { return v < lo ? lo : (v > hi ? hi : v); });
      break;
  }
}

void unary_backward(Unary op, const float* x, const float* y, const float* dy, float* dx,
                    int64_t n, const UnaryParams& p) {
  const float s = p.s, lo = p.lo, hi = p.hi;
  switch (op) {
    case Unary::Neg: unary_bwd_loop(x, y, dy, dx, n, [](float, float) { return -1.0f; }); break;
    case Unary::Exp: unary_bwd_loop(x, y, dy, dx, n, [](float, float o) { return o; }); break;
    case Unary::Log: unary_bwd_loop(x, y, dy, dx, n, [](float v, float) { return 1.0f / v; }); break;
    case Unary::Sqrt: unary_bwd_loop(x, y, dy, dx, n, [](float, float o) { return 0.5f / o; }); break;
    case Unary::Rsqrt:  // d/dx x^-½ = -½ x^-3/2 = -½ y³
      unary_bwd_loop(x, y, dy, dx, n, [](float, float o) { return -0.5f * o * o * o; });
      break;
    case Unary::Abs:
      unary_bwd_loop(x, y, dy, dx, n, [](float v, float) { return v > 0 ? 1.0f : (v < 0 ? -1.0f : 0.0f); });
      break;
    case Unary::Tanh: unary_bwd_loop(x, y, dy, dx, n, [](float, float o) { return 1.0f - o * o; }); break;
    case Unary::Sigmoid: unary_bwd_loop(x, y, dy, dx, n, [](float, float o) { return o * (1.0f - o); }); break;
    case Unary::Relu: unary_bwd_loop(x, y, dy, dx, n, [](float v, float) { return v > 0 ? 1.0f : 0.0f; }); break;
    case Unary::GeluErf:  // Φ(x) + x φ(x)
      unary_bwd_loop(x, y, dy, dx, n, [](float v, float) {
        return 0.5f * (1.0f + fast_erf(v * kInvSqrt2)) + v * kInvSqrt2Pi * fast_exp(-0.5f * v * v);
      });
      break;
    case Unary::GeluTanh:
      unary_bwd_loop(x, y, dy, dx, n, [](float v, float) {
        float u = kSqrt2OverPi * (v + 0.044715f * v * v * v);
        float t = fast_tanh(u);
        float du = kSqrt2OverPi * (1.0f + 3.0f * 0.044715f * v * v);
        return 0.5f * (1.0f + t) + 0.5f * v * (1.0f - t * t) * du;
      });
      break;
    case Unary::Silu:  // σ(x)(1 + x(1 − σ(x)))
      unary_bwd_loop(x, y, dy, dx, n, [](float v, float) {
        float sg = sigmoidf(v);
        return sg * (1.0f + v * (1.0f - sg));
      });
      break;
    case Unary::AddS: unary_bwd_loop(x, y, dy, dx, n, [](float, float) { return 1.0f; }); break;
    case Unary::MulS: unary_bwd_loop(x, y, dy, dx, n, [s](float, float) { return s; }); break;
    case Unary::RsubS: unary_bwd_loop(x, y, dy, dx, n, [](float, float) { return -1.0f; }); break;
    case Unary::RdivS: unary_bwd_loop(x, y, dy, dx, n, [s](float v, float) { return -s / (v * v); }); break;
    case Unary::PowS:
      unary_bwd_loop(x, y, dy, dx, n, [s](float v, float) {
        return s == 0.0f ? 0.0f : s * std::pow(v, s - 1.0f);
      });
      break;
    case Unary::Clamp:  // gradient passes where lo ≤ x ≤ hi (PyTorch's choice at the bounds)
      unary_bwd_loop(x, y, dy, dx, n, [lo, hi](float v, float) { return v >= lo && v <= hi ? 1.0f : 0.0f; });
      break;
  }
}

}  // namespace qkv::kernels
