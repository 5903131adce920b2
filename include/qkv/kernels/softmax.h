// qkv/kernels/softmax.h — row-wise softmax / log-softmax, layer norm and RMS norm on
// contiguous (M, N) rows. Each function opens with its shapes.
#pragma once
#include <cstdint>

namespace qkv::kernels {

// x, y are (M, N). Stable: subtracts the row max. A row that is all −∞ gives
// zeros (softmax) — never NaN.
void softmax_forward(const float* x, float* y, int64_t M, int64_t N);
// One row of length N (no threading; for callers that own the loop).
void softmax_row(const float* x, float* y, int64_t N);
void softmax_backward_row(const float* y, const float* dy, float* dx, int64_t N);
// dx = y ⊙ (dy − Σ dy⊙y)
void softmax_backward(const float* y, const float* dy, float* dx, int64_t M, int64_t N);
// y = x − max − log Σ e^(x−max)
void log_softmax_forward(const float* x, float* y, int64_t M, int64_t N);
// dx = dy − e^y Σ dy
void log_softmax_backward(const float* y, const float* dy, float* dx, int64_t M, int64_t N);

// x, y (M, N); weight, bias (N) or null; mean, rstd (M) saved for backward.
// y = (x − μ)·rstd·w + b, rstd = 1/√(σ² + eps), σ² biased (Ba et al. 2016).
void layernorm_forward(const float* x, const float* weight, const float* bias, float* y,
                       float* mean, float* rstd, int64_t M, int64_t N, float eps);
// dx (M,N) = rstd·(ĝ − mean(ĝ) − x̂·mean(ĝ⊙x̂)), ĝ = dy⊙w; dweight, dbias (N)
// are overwritten (may be null).
void layernorm_backward(const float* x, const float* weight, const float* mean, const float* rstd,
                        const float* dy, float* dx, float* dweight, float* dbias, int64_t M,
                        int64_t N);

// x, y (M, N); weight (N) or null; rstd (M) saved for backward.
// RMSNorm (Zhang & Sennrich 2019): y = x·rstd·w, rstd = 1/√(mean(x²) + eps).
void rmsnorm_forward(const float* x, const float* weight, float* y, float* rstd, int64_t M, int64_t N, float eps);
// dx (M,N) = rstd·(ĝ − x̂·mean(ĝ⊙x̂)), ĝ = dy⊙w, x̂ = x·rstd; dweight (N) =
// Σ_rows dy⊙x̂, overwritten (may be null).
void rmsnorm_backward(const float* x, const float* weight, const float* rstd, const float* dy, float* dx,
                      float* dweight, int64_t M, int64_t N);

}  // namespace qkv::kernels
