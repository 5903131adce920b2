#include "qkv/kernels/cross_entropy.h"

#include <omp.h>

#include <cmath>
#include <limits>

#include "vec_math.h"

namespace qkv::kernels {

void cross_entropy_forward(const float* logits, const int64_t* targets, float* loss, float* lse,
                           int64_t N, int64_t V, int64_t ignore_index, float smoothing) {
#pragma omp parallel for if (N > 1 && N * V >= (1 << 14) && !omp_in_parallel())
  for (int64_t i = 0; i < N; ++i) {
    const float* x = logits + i * V;
    float m = -std::numeric_limits<float>::infinity();
#pragma omp simd reduction(max : m)
    for (int64_t j = 0; j < V; ++j) m = x[j] > m ? x[j] : m;
    float s = 0.0f, sx = 0.0f;
#pragma omp simd reduction(+ : s, sx)
    for (int64_t j = 0; j < V; ++j) {
      s += fast_exp(x[j] - m);
      sx += x[j];
    }
    float l = m + std::log(s);
    lse[i] = l;
    int64_t t = targets[i];
    if (t == ignore_index) {
      loss[i] = 0.0f;
      continue;
    }
    loss[i] = l - (1.0f - smoothing) * x[t] - smoothing * sx / static_cast<float>(V);
  }
}

void cross_entropy_backward(const float* logits, const int64_t* targets, const float* lse,
                            const float* gscale, float* dlogits, int64_t N, int64_t V,
                            int64_t ignore_index, float smoothing) {
  const float off = smoothing / static_cast<float>(V);
#pragma omp parallel for if (N > 1 && N * V >= (1 << 14) && !omp_in_parallel())
  for (int64_t i = 0; i < N; ++i) {
    const float* x = logits + i * V;
    float* d = dlogits + i * V;
    int64_t t = targets[i];
    if (t == ignore_index) {
      for (int64_t j = 0; j < V; ++j) d[j] = 0.0f;
      continue;
    }
    const float g = gscale[i], l = lse[i];
#pragma omp simd
    for (int64_t j = 0; j < V; ++j) d[j] = g * (fast_exp(x[j] - l) - off);
    d[t] -= g * (1.0f - smoothing);
  }
}

}  // namespace qkv::kernels
