#include "qkv/kernels/attention.h"

#include <omp.h>

#include <cmath>
#include <limits>
#include <vector>

#include "qkv/core/allocator.h"
#include "qkv/kernels/gemm.h"
#include "qkv/kernels/softmax.h"

namespace qkv::kernels {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// Applies causal / boolean / additive masks to one head's scores (T,S).
void apply_masks(const AttentionShape& a, int64_t bh, float* sc) {
  const int64_t T = a.T, S = a.S;
  if (a.bool_mask || a.add_mask) {
    const int64_t mo = a.mask_off[bh];
    for (int64_t t = 0; t < T; ++t) {
      float* row = sc + t * S;
      if (a.bool_mask) {
        const uint8_t* m = a.bool_mask + mo + t * a.mask_st;
        for (int64_t s = 0; s < S; ++s)
          if (!m[s * a.mask_ss]) row[s] = kNegInf;
      } else {
        const float* m = a.add_mask + mo + t * a.mask_st;
        for (int64_t s = 0; s < S; ++s) row[s] += m[s * a.mask_ss];
      }
    }
  }
  if (a.causal) {
    for (int64_t t = 0; t < T; ++t) {
      int64_t first_masked = std::max<int64_t>(0, t + (S - T) + 1);
      float* row = sc + t * S;
      for (int64_t s = first_masked; s < S; ++s) row[s] = kNegInf;
    }
  }
}

// Scratch (T,S) per thread from the caching allocator.
struct Scratch {
  explicit Scratch(size_t n) : bytes(n * sizeof(float)), p(static_cast<float*>(storage_alloc(bytes))) {}
  ~Scratch() { storage_free(p, bytes); }
  size_t bytes;
  float* p;
};

}  // namespace

void attention_forward(const AttentionShape& a, const float* q, const float* k, const float* v,
                       float* out, float* P) {
  const int64_t T = a.T, S = a.S, hs = a.hs, hv = a.hv;
#pragma omp parallel if (a.BH > 1 && !omp_in_parallel())
  {
    Scratch pd(a.dropout ? static_cast<size_t>(T * S) : 1);
#pragma omp for schedule(static)
    for (int64_t bh = 0; bh < a.BH; ++bh) {
      const float* qh = q + bh * T * hs;
      const float* kh = k + bh * S * hs;
      const float* vh = v + bh * S * hv;
      float* ph = P + bh * T * S;
      // scores = scale · q kᵀ   (T,S)
      sgemm(false, true, T, S, hs, a.scale, qh, hs, kh, hs, 0.0f, ph, S);
      apply_masks(a, bh, ph);
      softmax_forward(ph, ph, T, S);  // in place; all-masked rows → 0
      const float* pu = ph;
      if (a.dropout) {
        const float* dm = a.dropout + bh * T * S;
        for (int64_t i = 0; i < T * S; ++i) pd.p[i] = ph[i] * dm[i];
        pu = pd.p;
      }
      // out = P v   (T,hv)
      sgemm(false, false, T, hv, S, 1.0f, pu, S, vh, hv, 0.0f, out + bh * T * hv, hv);
    }
  }
}

void attention_backward(const AttentionShape& a, const float* q, const float* k, const float* v,
                        const float* P, const float* dout, float* dq, float* dk, float* dv) {
  const int64_t T = a.T, S = a.S, hs = a.hs, hv = a.hv;
#pragma omp parallel if (a.BH > 1 && !omp_in_parallel())
  {
    Scratch dp(static_cast<size_t>(T * S));
    Scratch pd(a.dropout ? static_cast<size_t>(T * S) : 1);
#pragma omp for schedule(static)
    for (int64_t bh = 0; bh < a.BH; ++bh) {
      const float* qh = q + bh * T * hs;
      const float* kh = k + bh * S * hs;
      const float* vh = v + bh * S * hv;
      const float* ph = P + bh * T * S;
      const float* go = dout + bh * T * hv;
      const float* dm = a.dropout ? a.dropout + bh * T * S : nullptr;
      const float* pu = ph;
      if (dm) {
        for (int64_t i = 0; i < T * S; ++i) pd.p[i] = ph[i] * dm[i];
        pu = pd.p;
      }
      // dv = P_usedᵀ dout   (S,hv)
      sgemm(true, false, S, hv, T, 1.0f, pu, S, go, hv, 0.0f, dv + bh * S * hv, hv);
      // dP = dout vᵀ   (T,S)
      sgemm(false, true, T, S, hv, 1.0f, go, hv, vh, hv, 0.0f, dp.p, S);
      if (dm)
        for (int64_t i = 0; i < T * S; ++i) dp.p[i] *= dm[i];
      // dS = P ⊙ (dP − Σ_s dP⊙P)   (softmax backward, in place)
      softmax_backward(ph, dp.p, dp.p, T, S);
      // dq = scale · dS k   (T,hs);  dk = scale · dSᵀ q   (S,hs)
      sgemm(false, false, T, hs, S, a.scale, dp.p, S, kh, hs, 0.0f, dq + bh * T * hs, hs);
      sgemm(true, false, S, hs, T, a.scale, dp.p, S, qh, hs, 0.0f, dk + bh * S * hs, hs);
    }
  }
}

}  // namespace qkv::kernels
