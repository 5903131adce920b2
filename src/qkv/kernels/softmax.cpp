#include "qkv/kernels/softmax.h"

#include <omp.h>

#include <cmath>
#include <limits>
#include <algorithm>
#include <vector>

#include "vec_math.h"

namespace qkv::kernels {
namespace {
inline bool go_parallel(int64_t M, int64_t N) { return M > 1 && M * N >= (1 << 14) && !omp_in_parallel(); }

// Runs row(i) for i in [0, M): across threads when the work is large, else
// inline — never an `omp parallel if(false)`, whose runtime call costs about a
// microsecond even when it runs serially (attention calls these per row).
template <class Row>
void for_rows(int64_t M, int64_t N, Row row) {
  if (go_parallel(M, N)) {
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < M; ++i) row(i);
  } else {
    for (int64_t i = 0; i < M; ++i) row(i);
  }
}

inline float row_max(const float* x, int64_t N) {
  float m = -std::numeric_limits<float>::infinity();
#pragma omp simd reduction(max : m)
  for (int64_t j = 0; j < N; ++j) m = x[j] > m ? x[j] : m;
  return m;
}
}  // namespace

void softmax_row(const float* xr, float* yr, int64_t N) {
  float m = row_max(xr, N);
  if (m == -std::numeric_limits<float>::infinity()) {  // fully masked row
    for (int64_t j = 0; j < N; ++j) yr[j] = 0.0f;
    return;
  }
  float s = 0.0f;
#pragma omp simd reduction(+ : s)
  for (int64_t j = 0; j < N; ++j) {
    float e = fast_exp(xr[j] - m);
    yr[j] = e;
    s += e;
  }
  float inv = 1.0f / s;
#pragma omp simd
  for (int64_t j = 0; j < N; ++j) yr[j] *= inv;
}

void softmax_backward_row(const float* yr, const float* gr, float* dr, int64_t N) {
  float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
  for (int64_t j = 0; j < N; ++j) dot += yr[j] * gr[j];
#pragma omp simd
  for (int64_t j = 0; j < N; ++j) dr[j] = yr[j] * (gr[j] - dot);
}

void softmax_forward(const float* x, float* y, int64_t M, int64_t N) {
  for_rows(M, N, [&](int64_t i) { softmax_row(x + i * N, y + i * N, N); });
}

void softmax_backward(const float* y, const float* dy, float* dx, int64_t M, int64_t N) {
  for_rows(M, N, [&](int64_t i) { softmax_backward_row(y + i * N, dy + i * N, dx + i * N, N); });
}

void log_softmax_forward(const float* x, float* y, int64_t M, int64_t N) {
#pragma omp parallel for if (go_parallel(M, N))
  for (int64_t i = 0; i < M; ++i) {
    const float* xr = x + i * N;
    float* yr = y + i * N;
    float m = row_max(xr, N);
    if (m == -std::numeric_limits<float>::infinity()) {
      for (int64_t j = 0; j < N; ++j) yr[j] = -std::numeric_limits<float>::infinity();
      continue;
    }
    float s = 0.0f;
#pragma omp simd reduction(+ : s)
    for (int64_t j = 0; j < N; ++j) s += fast_exp(xr[j] - m);
    float lse = m + std::log(s);
#pragma omp simd
    for (int64_t j = 0; j < N; ++j) yr[j] = xr[j] - lse;
  }
}

void log_softmax_backward(const float* y, const float* dy, float* dx, int64_t M, int64_t N) {
#pragma omp parallel for if (go_parallel(M, N))
  for (int64_t i = 0; i < M; ++i) {
    const float* yr = y + i * N;
    const float* gr = dy + i * N;
    float* dr = dx + i * N;
    float s = 0.0f;
#pragma omp simd reduction(+ : s)
    for (int64_t j = 0; j < N; ++j) s += gr[j];
#pragma omp simd
    for (int64_t j = 0; j < N; ++j) dr[j] = gr[j] - fast_exp(yr[j]) * s;
  }
}

void layernorm_forward(const float* x, const float* weight, const float* bias, float* y,
                       float* mean, float* rstd, int64_t M, int64_t N, float eps) {
#pragma omp parallel for if (go_parallel(M, N))
  for (int64_t i = 0; i < M; ++i) {
    const float* xr = x + i * N;
    float* yr = y + i * N;
    float s = 0.0f;
#pragma omp simd reduction(+ : s)
    for (int64_t j = 0; j < N; ++j) s += xr[j];
    float mu = s / static_cast<float>(N);
    float v = 0.0f;  // two-pass variance: no cancellation
#pragma omp simd reduction(+ : v)
    for (int64_t j = 0; j < N; ++j) v += (xr[j] - mu) * (xr[j] - mu);
    float rs = 1.0f / std::sqrt(v / static_cast<float>(N) + eps);
    mean[i] = mu;
    rstd[i] = rs;
    if (weight && bias) {
#pragma omp simd
      for (int64_t j = 0; j < N; ++j) yr[j] = (xr[j] - mu) * rs * weight[j] + bias[j];
    } else {
      for (int64_t j = 0; j < N; ++j) {
        float v2 = (xr[j] - mu) * rs;
        if (weight) v2 *= weight[j];
        if (bias) v2 += bias[j];
        yr[j] = v2;
      }
    }
  }
}

void layernorm_backward(const float* x, const float* weight, const float* mean, const float* rstd,
                        const float* dy, float* dx, float* dweight, float* dbias, int64_t M,
                        int64_t N) {
  // dx: parallel over rows.
#pragma omp parallel for if (go_parallel(M, N))
  for (int64_t i = 0; i < M; ++i) {
    const float* xr = x + i * N;
    const float* gr = dy + i * N;
    float* dr = dx + i * N;
    const float mu = mean[i], rs = rstd[i];
    float sum_g = 0.0f, sum_gx = 0.0f;
#pragma omp simd reduction(+ : sum_g, sum_gx)
    for (int64_t j = 0; j < N; ++j) {
      float xh = (xr[j] - mu) * rs;
      float gh = gr[j] * (weight ? weight[j] : 1.0f);
      sum_g += gh;
      sum_gx += gh * xh;
    }
    const float mg = sum_g / static_cast<float>(N), mgx = sum_gx / static_cast<float>(N);
#pragma omp simd
    for (int64_t j = 0; j < N; ++j) {
      float xh = (xr[j] - mu) * rs;
      float gh = gr[j] * (weight ? weight[j] : 1.0f);
      dr[j] = rs * (gh - mg - xh * mgx);
    }
  }
  if (!dweight && !dbias) return;
  // dweight/dbias: parallel over column blocks, rows summed in order, so the
  // result does not depend on the thread count.
  const int64_t kBlock = 64;
  const int64_t nblocks = (N + kBlock - 1) / kBlock;
#pragma omp parallel for if (nblocks > 1 && go_parallel(M, N))
  for (int64_t b = 0; b < nblocks; ++b) {
    const int64_t j0 = b * kBlock, j1 = std::min(N, j0 + kBlock);
    float accw[kBlock] = {0}, accb[kBlock] = {0};
    for (int64_t i = 0; i < M; ++i) {
      const float* xr = x + i * N;
      const float* gr = dy + i * N;
      const float mu = mean[i], rs = rstd[i];
#pragma omp simd
      for (int64_t j = j0; j < j1; ++j) {
        accw[j - j0] += gr[j] * (xr[j] - mu) * rs;
        accb[j - j0] += gr[j];
      }
    }
    for (int64_t j = j0; j < j1; ++j) {
      if (dweight) dweight[j] = accw[j - j0];
      if (dbias) dbias[j] = accb[j - j0];
    }
  }
}

void rmsnorm_forward(const float* x, const float* weight, float* y, float* rstd, int64_t M, int64_t N, float eps) {
#pragma omp parallel for if (go_parallel(M, N))
  for (int64_t i = 0; i < M; ++i) {
    const float* xr = x + i * N;
    float* yr = y + i * N;
    float ss = 0.0f;
#pragma omp simd reduction(+ : ss)
    for (int64_t j = 0; j < N; ++j) ss += xr[j] * xr[j];
    const float rs = 1.0f / std::sqrt(ss / static_cast<float>(N) + eps);
    rstd[i] = rs;
    if (weight) {
#pragma omp simd
      for (int64_t j = 0; j < N; ++j) yr[j] = xr[j] * rs * weight[j];
    } else {
#pragma omp simd
      for (int64_t j = 0; j < N; ++j) yr[j] = xr[j] * rs;
    }
  }
}

void rmsnorm_backward(const float* x, const float* weight, const float* rstd, const float* dy, float* dx,
                      float* dweight, int64_t M, int64_t N) {
  // dx: parallel over rows. y = x·r·w with r = (mean(x²)+eps)^(−1/2), so
  // ∂r/∂x_j = −r³·x_j/N and dx_j = r·ĝ_j − (r³/N)·x_j·Σ_k ĝ_k x_k.
#pragma omp parallel for if (go_parallel(M, N))
  for (int64_t i = 0; i < M; ++i) {
    const float* xr = x + i * N;
    const float* gr = dy + i * N;
    float* dr = dx + i * N;
    const float rs = rstd[i];
    float sum_gx = 0.0f;  // Σ ĝ⊙x̂
#pragma omp simd reduction(+ : sum_gx)
    for (int64_t j = 0; j < N; ++j) sum_gx += gr[j] * (weight ? weight[j] : 1.0f) * xr[j] * rs;
    const float mgx = sum_gx / static_cast<float>(N);
#pragma omp simd
    for (int64_t j = 0; j < N; ++j) {
      const float gh = gr[j] * (weight ? weight[j] : 1.0f);
      dr[j] = rs * (gh - xr[j] * rs * mgx);
    }
  }
  if (!dweight) return;
  // dweight: parallel over column blocks, rows summed in order (the result
  // does not depend on the thread count).
  const int64_t kBlock = 64;
  const int64_t nblocks = (N + kBlock - 1) / kBlock;
#pragma omp parallel for if (nblocks > 1 && go_parallel(M, N))
  for (int64_t b = 0; b < nblocks; ++b) {
    const int64_t j0 = b * kBlock, j1 = std::min(N, j0 + kBlock);
    float acc[kBlock] = {0};
    for (int64_t i = 0; i < M; ++i) {
      const float* xr = x + i * N;
      const float* gr = dy + i * N;
      const float rs = rstd[i];
#pragma omp simd
      for (int64_t j = j0; j < j1; ++j) acc[j - j0] += gr[j] * xr[j] * rs;
    }
    for (int64_t j = j0; j < j1; ++j) dweight[j] = acc[j - j0];
  }
}

}  // namespace qkv::kernels
