// qkv/kernels/elementwise.h — elementwise float kernels on raw pointers.
#pragma once
#include <cmath>
#include <cstdint>

#include "qkv/core/shape.h"

namespace qkv::kernels {

enum class Binary { Add, Sub, Mul, Div, Pow };
// out (contiguous, `shape`) = a ∘ b, a and b read through (broadcast) strides.
void binary_forward(Binary op, const Shape& shape, const float* a, const Shape& a_strides,
                    const float* b, const Shape& b_strides, float* out);

enum class Unary {
  Neg, Exp, Log, Sqrt, Rsqrt, Abs, Tanh, Sigmoid, Relu, GeluErf, GeluTanh, Silu,
  AddS, MulS, RsubS, RdivS, PowS, Clamp
};
struct UnaryParams {
  float s = 0;        // the scalar of AddS/MulS/RsubS/RdivS/PowS
  float lo = -INFINITY, hi = INFINITY;  // Clamp bounds
};
// y[i] = f(x[i]); all contiguous, n elements.
void unary_forward(Unary op, const float* x, float* y, int64_t n, const UnaryParams& p);
// dx[i] = dy[i] · f'(x[i]) (y = f(x) is passed for ops whose derivative uses it).
void unary_backward(Unary op, const float* x, const float* y, const float* dy, float* dx,
                    int64_t n, const UnaryParams& p);

}  // namespace qkv::kernels
