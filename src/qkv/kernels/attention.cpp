#include "qkv/kernels/attention.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "qkv/core/allocator.h"
#include "qkv/kernels/gemm.h"
#include "qkv/kernels/softmax.h"

namespace qkv::kernels {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// Applies causal / boolean / additive masks to query rows [t0, t1) of one
// head's scores; `sc` points at row t0, rows have leading dimension S, and only
// columns [s0, lim) (the keys computed) are touched.
void apply_masks(const AttentionShape& a, int64_t bh, int64_t t0, int64_t t1, int64_t s0, int64_t lim, float* sc) {
  const int64_t S = a.S;
  if (a.bool_mask || a.add_mask) {
    const int64_t mo = a.mask_off[bh];
    for (int64_t t = t0; t < t1; ++t) {
      float* row = sc + (t - t0) * S;
      if (a.bool_mask) {
        const uint8_t* m = a.bool_mask + mo + t * a.mask_st;
        for (int64_t s = s0; s < lim; ++s)
          if (!m[s * a.mask_ss]) row[s] = kNegInf;
      } else {
        const float* m = a.add_mask + mo + t * a.mask_st;
        for (int64_t s = s0; s < lim; ++s) row[s] += m[s * a.mask_ss];
      }
    }
  }
  if (a.alibi) {  // Press et al. 2022: a linear penalty on the query–key distance
    const float m = a.alibi[bh % a.H];
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t tq = t + (a.S - a.T);
      float* row = sc + (t - t0) * S;
      for (int64_t s = s0; s < lim; ++s) row[s] -= m * static_cast<float>(tq > s ? tq - s : s - tq);
    }
  }
  if (a.causal) {
    for (int64_t t = t0; t < t1; ++t) {
      int64_t first_masked = std::max<int64_t>(s0, t + (a.S - a.T) + 1);
      float* row = sc + (t - t0) * S;
      for (int64_t s = first_masked; s < lim; ++s) row[s] = kNegInf;
    }
  }
}

// The keys before s0 are masked out by the boolean mask for every query row
// in [t0, t1): a left-padded row's padding (continuous batching, batched
// generation). They are skipped — exact, as their weights are 0 — so the
// products run over the real keys only and a padded row rounds exactly as the
// same row without padding (kernels/row_invariant.h).
int64_t leading_masked_keys(const AttentionShape& a, int64_t bh, int64_t t0, int64_t t1, int64_t lim) {
  if (!a.bool_mask) return 0;
  const uint8_t* base = a.bool_mask + a.mask_off[bh];
  int64_t s0 = lim;
  for (int64_t t = t0; t < t1 && s0 > 0; ++t) {
    const uint8_t* m = base + t * a.mask_st;
    int64_t s = 0;
    while (s < s0 && !m[s * a.mask_ss]) ++s;
    s0 = s;
  }
  return s0;
}

// Scratch (T,S) per thread from the caching allocator.
struct Scratch {
  explicit Scratch(size_t n) : bytes(n * sizeof(float)), p(static_cast<float*>(storage_alloc(bytes))) {}
  ~Scratch() { storage_free(p, bytes); }
  size_t bytes;
  float* p;
};

}  // namespace

// Causal attention skips the masked upper triangle: queries are processed in
// blocks of kCausalBlock rows, and a block only multiplies against the keys it
// may see (s < t1 + S − T), which halves the work for T = S. Without a causal
// mask one block covers all rows (largest GEMMs).
constexpr int64_t kCausalBlock = 64;

namespace {
inline int64_t block_rows(const AttentionShape& a) { return a.causal ? kCausalBlock : std::max<int64_t>(a.T, 1); }
inline int64_t visible_keys(const AttentionShape& a, int64_t t1) {
  return a.causal ? std::clamp<int64_t>(t1 + (a.S - a.T), 0, a.S) : a.S;
}
}  // namespace

void attention_forward(const AttentionShape& a, const float* q, const float* k, const float* v,
                       float* out, float* P) {
  const int64_t T = a.T, S = a.S, hs = a.hs, hv = a.hv, TB = block_rows(a);
  const int64_t ldq = a.q.st, ldk = a.k.st, ldv = a.v.st, ldo = a.out.st;
#pragma omp parallel if (a.BH > 1 && !omp_in_parallel())
  {
    Scratch pd(a.dropout ? static_cast<size_t>(T * S) : 1);
#pragma omp for schedule(static)
    for (int64_t bh = 0; bh < a.BH; ++bh) {
      const int64_t b = bh / a.H, h = bh % a.H, hk = h / a.kv_group;  // hk: its key/value head
      const float* qh = q + a.q.at(b, h);
      const float* kh = k + a.k.at(b, hk);
      const float* vh = v + a.v.at(b, hk);
      float* ph = P + bh * T * S;
      float* oh = out + a.out.at(b, h);
      const float* dm = a.dropout ? a.dropout + bh * T * S : nullptr;
      for (int64_t t0 = 0; t0 < T; t0 += TB) {
        const int64_t t1 = std::min(T, t0 + TB), rows = t1 - t0, lim = visible_keys(a, t1);
        const int64_t s0 = leading_masked_keys(a, bh, t0, t1, lim);
        float* pb = ph + t0 * S;
        if (s0 >= lim) {  // nothing visible: P = 0, out = 0
          std::fill(pb, pb + rows * S, 0.0f);
          for (int64_t t = t0; t < t1; ++t) std::fill(oh + t * ldo, oh + t * ldo + hv, 0.0f);
          continue;
        }
        // scores = scale · q kᵀ   (rows, lim − s0) at columns [s0, lim), leading dimension S
        sgemm(false, true, rows, lim - s0, hs, a.scale, qh + t0 * ldq, ldq, kh + s0 * ldk, ldk, 0.0f, pb + s0, S);
        apply_masks(a, bh, t0, t1, s0, lim, pb);
        for (int64_t t = 0; t < rows; ++t) {
          std::fill(pb + t * S, pb + t * S + s0, 0.0f);
          softmax_row(pb + t * S + s0, pb + t * S + s0, lim - s0);  // all-masked row → 0
          std::fill(pb + t * S + lim, pb + (t + 1) * S, 0.0f);
        }
        const float* pu = pb;
        if (dm) {
          for (int64_t t = 0; t < rows; ++t)
            for (int64_t s2 = 0; s2 < lim; ++s2) pd.p[t * S + s2] = pb[t * S + s2] * dm[(t0 + t) * S + s2];
          pu = pd.p;
        }
        // out = P v   (rows, hv), over keys [s0, lim)
        sgemm(false, false, rows, hv, lim - s0, 1.0f, pu + s0, S, vh + s0 * ldv, ldv, 0.0f, oh + t0 * ldo, ldo);
      }
    }
  }
}

namespace {

// Query head h of batch entry b against its key/value head (kh, vh): writes
// dq's rows, adds to dk, dv (lddk/lddv-strided rows at dkh, dvh). dp and pd
// are the thread's (TB,S) scratch.
void head_backward(const AttentionShape& a, int64_t b, int64_t h, const float* q, const float* kh, const float* vh,
                   const float* P, const float* dout, float* dq, float* dkh, float* dvh, float* dp, float* pd) {
  const int64_t T = a.T, S = a.S, hs = a.hs, hv = a.hv, TB = block_rows(a);
  const int64_t ldq = a.q.st, ldk = a.k.st, ldv = a.v.st, ldgo = a.dout.st;
  const int64_t lddq = a.dq.st, lddk = a.dk.st, lddv = a.dv.st;
  const int64_t bh = b * a.H + h;
  const float* qh = q + a.q.at(b, h);
  const float* ph = P + bh * T * S;
  const float* go = dout + a.dout.at(b, h);
  const float* dm = a.dropout ? a.dropout + bh * T * S : nullptr;
  float* dqh = dq + a.dq.at(b, h);
  for (int64_t t0 = 0; t0 < T; t0 += TB) {
    const int64_t t1 = std::min(T, t0 + TB), rows = t1 - t0, lim = visible_keys(a, t1);
    if (lim == 0) {
      for (int64_t t = t0; t < t1; ++t) std::fill(dqh + t * lddq, dqh + t * lddq + hs, 0.0f);
      continue;
    }
    const float* pb = ph + t0 * S;
    const float* pu = pb;
    if (dm) {
      for (int64_t t = 0; t < rows; ++t)
        for (int64_t s2 = 0; s2 < lim; ++s2) pd[t * S + s2] = pb[t * S + s2] * dm[(t0 + t) * S + s2];
      pu = pd;
    }
    // dv += P_usedᵀ dout   (lim, hv)
    sgemm(true, false, lim, hv, rows, 1.0f, pu, S, go + t0 * ldgo, ldgo, 1.0f, dvh, lddv);
    // dP = dout vᵀ   (rows, lim)
    sgemm(false, true, rows, lim, hv, 1.0f, go + t0 * ldgo, ldgo, vh, ldv, 0.0f, dp, S);
    for (int64_t t = 0; t < rows; ++t) {
      float* row = dp + t * S;
      if (dm)
        for (int64_t s2 = 0; s2 < lim; ++s2) row[s2] *= dm[(t0 + t) * S + s2];
      // dS = P ⊙ (dP − Σ_s dP⊙P)   (softmax backward, in place)
      softmax_backward_row(pb + t * S, row, row, lim);
      if (a.dscores) std::copy(row, row + lim, a.dscores + (bh * T + t0 + t) * S);
    }
    // dq = scale · dS k   (rows, hs);  dk += scale · dSᵀ q   (lim, hs)
    sgemm(false, false, rows, hs, lim, a.scale, dp, S, kh, ldk, 0.0f, dqh + t0 * lddq, lddq);
    sgemm(true, false, lim, hs, rows, a.scale, dp, S, qh + t0 * ldq, ldq, 1.0f, dkh, lddk);
  }
}

}  // namespace

void attention_backward(const AttentionShape& a, const float* q, const float* k, const float* v,
                        const float* P, const float* dout, float* dq, float* dk, float* dv) {
  const int64_t S = a.S, hs = a.hs, hv = a.hv, TB = block_rows(a);
  const int64_t lddk = a.dk.st, lddv = a.dv.st;
  const int64_t G = a.kv_group, Hkv = a.H / G;
#pragma omp parallel if (a.BH > G && !omp_in_parallel())
  {
    Scratch dp(static_cast<size_t>(TB * S));
    Scratch pd(a.dropout ? static_cast<size_t>(TB * S) : 1);
    // One task per key/value head: its G query heads add to the same dk, dv
    // rows (grouped-query attention), one after another.
#pragma omp for schedule(static)
    for (int64_t bkv = 0; bkv < a.BH / G; ++bkv) {
      const int64_t b = bkv / Hkv, hk = bkv % Hkv;
      const float* kh = k + a.k.at(b, hk);
      const float* vh = v + a.v.at(b, hk);
      float* dkh = dk + a.dk.at(b, hk);
      float* dvh = dv + a.dv.at(b, hk);
      for (int64_t s = 0; s < S; ++s) {  // dk, dv accumulate over query blocks and heads
        std::fill(dkh + s * lddk, dkh + s * lddk + hs, 0.0f);
        std::fill(dvh + s * lddv, dvh + s * lddv + hv, 0.0f);
      }
      for (int64_t h = hk * G; h < (hk + 1) * G; ++h)
        head_backward(a, b, h, q, kh, vh, P, dout, dq, dkh, dvh, dp.p, pd.p);
    }
  }
}

}  // namespace qkv::kernels
