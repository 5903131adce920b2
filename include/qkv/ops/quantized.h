// qkv/ops/quantized.h — inference with weights stored in bf16 or int8 blocks
// (the formats and kernels: qkv/kernels/quantized.h).
//
//   QuantizedMatrix q = QuantizedMatrix::quantize(w.data<float>(), N, K, K, WeightFormat::Int8);
//   NoGradGuard ng;
//   Tensor y = linear_quantized(x, q, bias);   // ≈ linear(x, w, bias)
//
// Not a differentiable op (no entry in the op table): a quantized weight has no
// gradient, so these run only with grad mode off.
#pragma once
#include "qkv/core/tensor.h"
#include "qkv/kernels/quantized.h"

namespace qkv {

using kernels::QuantizedMatrix;
using kernels::WeightFormat;

// y = x Wᵀ + b with W = w (N,K): x (…, K) → (…, N); bias (N) or undefined.
// ValueError if grad mode is on (run under NoGradGuard), ShapeError naming
// both shapes if K or the bias does not match.
Tensor linear_quantized(const Tensor& x, const QuantizedMatrix& w, const Tensor& bias = Tensor());

}  // namespace qkv
