// qkv/kernels/gemv.cpp — y(M,N) = x(M,K) · Wᵀ + bias for small M, W (N,K).
//
// Each thread takes a contiguous range of W's rows. Two loop orders, chosen by
// whether the rows of x fit in L1 (M·K·4 ≤ 16 KiB, e.g. decoding, M = 1):
//   row by row   one row of W at a time, in memory order, so the whole range
//                is a single sequential stream (what the hardware prefetcher
//                serves best: 18–22 GB/s on one Zen 4 core, against 12–13 GB/s
//                for four interleaved rows); 4 accumulators along k per row of
//                x hide the FMA latency; x is re-read from L1.
//   4 rows       4 rows of W against each group of ≤ 4 rows of x, one
//                accumulator per pair: every load of x feeds 4 FMAs, for rows
//                of x too long to stay in L1.
// Either way each row of W comes from memory once (further groups of x find it
// in L1/L2), sums are per-lane f32 partial sums over k reduced at the end, and
// each output is computed by one thread in a fixed order. The loops exist twice:
// AVX-512 (16 lanes, masked K tail) and the AVX2 baseline (8 lanes).
#include "qkv/kernels/gemv.h"

// GCC 12 false positive: _mm512 reductions/casts are built on _mm512_undefined_*(),
// which -W(maybe-)uninitialized flags once inlined (as in gemm_avx512.cpp).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>

#include "hsum.h"
#include "isa.h"
#include "qkv/kernels/row_invariant.h"
#include "split_rows.h"

namespace qkv::kernels {
namespace {

using detail::hsum;
using detail::hsum4;
using detail::store_rows;

constexpr int kMB = 4;                     // rows of x per pass

// ---------------------------------------------------------------- AVX-512

// Rows of x m = 0…MB−1 against rows of W r = 0…RB−1, U accumulators along k:
// y[m][r] = bias[r] + Σ_k x[m][k]·W[r][k].
template <int MB, int RB, int U>
QKV_TARGET_AVX512 void block_avx512(const float* x, int64_t ldx, const float* W, int64_t ldw, int64_t K,
                                    const float* bias, float* y, int64_t ldy) {
  __m512 acc[MB][RB][U];
  for (auto& a : acc)
    for (auto& b : a)
      for (auto& c : b) c = _mm512_setzero_ps();
  int64_t k = 0;
  for (; k + 16 * U <= K; k += 16 * U)
    for (int u = 0; u < U; ++u) {
      __m512 w[RB];
      for (int r = 0; r < RB; ++r) w[r] = _mm512_loadu_ps(W + r * ldw + k + 16 * u);
      for (int m = 0; m < MB; ++m) {
        const __m512 xv = _mm512_loadu_ps(x + m * ldx + k + 16 * u);
        for (int r = 0; r < RB; ++r) acc[m][r][u] = _mm512_fmadd_ps(xv, w[r], acc[m][r][u]);
      }
    }
  for (; k < K; k += 16) {  // up to U−1 whole vectors, then a masked one
    const __mmask16 t = K - k >= 16 ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << (K - k)) - 1);
    __m512 w[RB];
    for (int r = 0; r < RB; ++r) w[r] = _mm512_maskz_loadu_ps(t, W + r * ldw + k);
    for (int m = 0; m < MB; ++m) {
      const __m512 xv = _mm512_maskz_loadu_ps(t, x + m * ldx + k);
      for (int r = 0; r < RB; ++r) acc[m][r][0] = _mm512_fmadd_ps(xv, w[r], acc[m][r][0]);
    }
  }
  store_rows(acc, bias, y, ldy);
}

// ---------------------------------------------------------------- AVX2 (baseline)

template <int MB, int RB, int U>
void block_avx2(const float* x, int64_t ldx, const float* W, int64_t ldw, int64_t K, const float* bias, float* y,
                int64_t ldy) {
  __m256 acc[MB][RB][U];
  for (auto& a : acc)
    for (auto& b : a)
      for (auto& c : b) c = _mm256_setzero_ps();
  int64_t k = 0;
  for (; k + 8 * U <= K; k += 8 * U)
    for (int u = 0; u < U; ++u) {
      __m256 w[RB];
      for (int r = 0; r < RB; ++r) w[r] = _mm256_loadu_ps(W + r * ldw + k + 8 * u);
      for (int m = 0; m < MB; ++m) {
        const __m256 xv = _mm256_loadu_ps(x + m * ldx + k + 8 * u);
        for (int r = 0; r < RB; ++r) acc[m][r][u] = _mm256_fmadd_ps(xv, w[r], acc[m][r][u]);
      }
    }
  for (; k < K; k += 8) {  // lanes i < K−k: mask lane = −1
    const __m256i t = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(std::min<int64_t>(K - k, 8))),
                                         _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    __m256 w[RB];
    for (int r = 0; r < RB; ++r) w[r] = _mm256_maskload_ps(W + r * ldw + k, t);
    for (int m = 0; m < MB; ++m) {
      const __m256 xv = _mm256_maskload_ps(x + m * ldx + k, t);
      for (int r = 0; r < RB; ++r) acc[m][r][0] = _mm256_fmadd_ps(xv, w[r], acc[m][r][0]);
    }
  }
  store_rows(acc, bias, y, ldy);
}

// ---------------------------------------------------------------- driver

using BlockFn = void (*)(const float*, int64_t, const float*, int64_t, int64_t, const float*, float*, int64_t);

// block<mb> for mb = 1…4 of one (ISA, RB, U) choice.
struct Blocks {
  BlockFn f[kMB];
};
template <int RB, int U>
constexpr Blocks avx512_blocks{{block_avx512<1, RB, U>, block_avx512<2, RB, U>, block_avx512<3, RB, U>,
                                block_avx512<4, RB, U>}};
template <int RB, int U>
constexpr Blocks avx2_blocks{{block_avx2<1, RB, U>, block_avx2<2, RB, U>, block_avx2<3, RB, U>,
                              block_avx2<4, RB, U>}};

// All rows of x against rows n … n+rb−1 of W.
inline void all_x(const Blocks& b, int64_t M, const float* x, int64_t ldx, const float* W, int64_t ldw, int64_t K,
                  const float* bias, float* y, int64_t ldy) {
  for (int64_t m0 = 0; m0 < M; m0 += kMB)
    b.f[std::min<int64_t>(kMB, M - m0) - 1](x + m0 * ldx, ldx, W, ldw, K, bias, y + m0 * ldy, ldy);
}

}  // namespace

void gemv_f32(int64_t M, int64_t N, int64_t K, const float* x, int64_t ldx, const float* W, int64_t ldw,
              const float* bias, float* y, int64_t ldy) {
  // x (M,K), W (N,K), bias (N) or null, y (M,N)
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n) y[m * ldy + n] = bias ? bias[n] : 0.0f;
    return;
  }
  const bool avx512 = detail::isa().avx512;
  // Under RowInvariantScope every row takes the order a single row would.
  const bool row_by_row = (row_invariant() ? 1 : M) * K * int64_t(sizeof(float)) <= kGemvRowByRowBytes;
  const Blocks& one = avx512 ? avx512_blocks<1, 4> : avx2_blocks<1, 4>;  // 1 row of W, 4 accumulators
  const Blocks& four = avx512 ? avx512_blocks<4, 1> : avx2_blocks<4, 1>;  // 4 rows of W
  // Row by row with more rows of x than one group (row-invariant decoding of
  // many sequences): panels of W's rows that stay in L2, each against every
  // group of x in turn, so a group is read from L1 and not from L2 once per
  // row of W (3× faster at M = 16, K = 768). Same arithmetic per output.
  const int64_t panel = row_by_row && M > kMB ? std::clamp<int64_t>((256 << 10) / (K * 4), 4, 64) : 0;
  detail::split_rows(N, 4, N * K * int64_t(sizeof(float)), [&](int64_t n0, int64_t n1) {
    int64_t n = n0;
    if (!row_by_row)
      for (; n + 4 <= n1; n += 4)
        all_x(four, M, x, ldx, W + n * ldw, ldw, K, bias ? bias + n : nullptr, y + n, ldy);
    if (panel == 0) {
      for (; n < n1; ++n) all_x(one, M, x, ldx, W + n * ldw, ldw, K, bias ? bias + n : nullptr, y + n, ldy);
      return;
    }
    for (int64_t p = n; p < n1; p += panel)
      for (int64_t m0 = 0; m0 < M; m0 += kMB) {
        const BlockFn f = one.f[std::min<int64_t>(kMB, M - m0) - 1];
        for (int64_t r = p; r < std::min(n1, p + panel); ++r)
          f(x + m0 * ldx, ldx, W + r * ldw, ldw, K, bias ? bias + r : nullptr, y + m0 * ldy + r, ldy);
      }
  });
}

}  // namespace qkv::kernels
