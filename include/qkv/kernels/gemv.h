// qkv/kernels/gemv.h — matrix-vector products for decoding: a few rows of
// activations against a weight matrix stored (N,K) row-major, the layout of
// Linear weights and GPT's tied lm_head.
//
//   y(M,N) = x(M,K) · Wᵀ (+ bias(N))      W is (N,K), row n at W + n*ldw
//
// One decoding step is bound by streaming W from memory once; a GEMM with
// M = 1 packs and blocks for reuse that does not exist. This kernel reads each
// row of W from memory once for all M rows of x (groups of 4 rows of x re-read
// it from L1/L2), splits N across one OpenMP team (threads only for ≥ 1 MiB of
// weights each), and sums in f32 like the GEMM (per-lane partial sums over K,
// then a horizontal sum). Every output is computed by exactly one thread in a
// fixed order, so results do not depend on the thread count. AVX-512 when the
// CPU has it (runtime dispatch), else AVX2.
//
// When it beats the GEMM backend was measured (bench/qkv_bench_gemv.cpp,
// bench/RESULTS.md "Generation: GEMV and 8-bit weights"): M ≤ 4 with the rows
// of x in L1 — decoding — so linear() asks gemv_f32_wins(M, K). Elsewhere
// (M = 3 with K = 3072, M ≥ 5) oneDNN was as fast or faster.
#pragma once
#include <cstdint>

namespace qkv::kernels {

// x (M·K floats) at most this many bytes: W is read row by row in memory
// order (the fast order); above it, 4 rows of W at a time.
inline constexpr int64_t kGemvRowByRowBytes = 16384;
// Largest M for which linear() may use gemv_f32 instead of sgemm.
inline constexpr int64_t kGemvMaxRows = 4;
// Whether gemv_f32 beat sgemm (oneDNN) for this M and K on the 124M shapes:
// M ≤ kGemvMaxRows and the row-by-row order applies.
inline bool gemv_f32_wins(int64_t M, int64_t K) {
  return M >= 1 && M <= kGemvMaxRows && M * K * 4 <= kGemvRowByRowBytes;
}

// x (M,K) with row stride ldx; W (N,K) with row stride ldw; bias (N) or null;
// y (M,N) with row stride ldy (overwritten). Any M, N, K ≥ 0. Threads: the
// library-wide count (qkv::num_threads()), or 1 inside a parallel region.
void gemv_f32(int64_t M, int64_t N, int64_t K, const float* x, int64_t ldx, const float* W, int64_t ldw,
              const float* bias, float* y, int64_t ldy);

}  // namespace qkv::kernels
