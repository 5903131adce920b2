// qkv/kernels/qgemv.cpp — y(M,N) = x(M,K)·Wᵀ + bias with W a QuantizedMatrix.
//
// M ≤ kQgemvMaxRows (decoding, short prompts): the rows of x are prepared once
// on the calling thread (int8: quantized in blocks of 32 with |q|, sign masks
// and scale vectors; bf16: rounded to bf16 on AVX512-BF16, as the prefill GEMM
// does — x split into hi + lo bf16 halves doubled the dot products and left
// decoding compute-bound at 25–30 GB/s a core, for a perplexity change of
// 3e-5 (bench/RESULTS.md, issue #16); f32 on AVX2), then the team splits W's
// rows and runs the per-ISA dot kernels (qgemv_avx512.cpp, qgemv_avx2.cpp),
// which read W from memory once for all M rows.
// Larger M (long prompts): each thread dequantizes panels of its rows of W to
// f32 (about 128 KiB, so they stay in L2) and multiplies them with sgemm.
// Measured on the 124M shapes (bench/qkv_bench_gemv.cpp qgemv, 1 thread): the
// dot kernels take half the time of this path at M = 16, and about the same
// at M = 64 (e.g. lm_head int8: 17 against 34 ms, 59 against 68 ms).
#include <omp.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <vector>

#include "isa.h"
#include "qgemv_kernels.h"
#include "qkv/kernels/gemm.h"
#include "qkv/kernels/quantized.h"
#include "qkv/kernels/row_invariant.h"
#include "split_rows.h"

namespace qkv::kernels {
namespace {

// A per-thread scratch area, 64-byte aligned, grown as needed (never shrunk:
// decoding calls repeat the same sizes, so nothing is allocated after the first).
std::byte* scratch(size_t bytes) {
  thread_local std::vector<std::byte> buf;
  if (buf.size() < bytes + 64) buf.resize(bytes + 64);
  auto p = reinterpret_cast<uintptr_t>(buf.data());
  return reinterpret_cast<std::byte*>((p + 63) & ~uintptr_t(63));
}

inline size_t up64(size_t n) { return (n + 63) / 64 * 64; }

detail::Q8Rows prepare_q8(int64_t M, const float* x, int64_t ldx, int64_t K, int64_t Kp) {
  const int64_t chunks = Kp / 64, blocks = Kp / kQ8Block;
  const size_t sq = up64(M * Kp), sneg = up64(M * chunks * 8), ss = up64(M * blocks * 4);
  std::byte* p = scratch(3 * sq + sneg + ss);
  auto* q = reinterpret_cast<int8_t*>(p);
  auto* absq = reinterpret_cast<uint8_t*>(p + sq);
  auto* logical = reinterpret_cast<int8_t*>(p + 2 * sq);  // quantize_row_q8's order
  auto* neg = reinterpret_cast<uint64_t*>(p + 3 * sq);
  auto* sc = reinterpret_cast<float*>(p + 3 * sq + sneg);
  for (int64_t m = 0; m < M; ++m) {
    int8_t* lm = logical + m * Kp;
    quantize_row_q8(x + m * ldx, K, Kp, lm, sc + m * blocks);
    for (int64_t j = 0; j < chunks; ++j) {
      int8_t* qj = q + m * Kp + 64 * j;
      for (int64_t i = 0; i < 64; ++i) qj[Q8Layout::in_chunk(i)] = lm[64 * j + i];
      uint64_t bits = 0;
      for (int i = 0; i < 64; ++i) {
        absq[m * Kp + 64 * j + i] = static_cast<uint8_t>(qj[i] < 0 ? -qj[i] : qj[i]);
        bits |= uint64_t(qj[i] < 0) << i;
      }
      neg[m * chunks + j] = bits;
    }
  }
  return {M, Kp, q, absq, neg, sc};
}

detail::Bf16Rows prepare_bf16(int64_t M, const float* x, int64_t ldx, int64_t K, int64_t Kp, bool avx512) {
  std::byte* p = scratch(avx512 ? up64(M * Kp * 2) : up64(M * Kp * 4));
  detail::Bf16Rows r;
  r.M = M;
  r.Kp = Kp;
  if (avx512) {
    auto* hi = reinterpret_cast<uint16_t*>(p);
    for (int64_t m = 0; m < M; ++m) detail::bf16_row_avx512(x + m * ldx, K, Kp, hi + m * Kp);
    r.hi = hi;
  } else {
    auto* f = reinterpret_cast<float*>(p);
    for (int64_t m = 0; m < M; ++m) {
      std::memcpy(f + m * Kp, x + m * ldx, K * sizeof(float));
      std::fill(f + m * Kp + K, f + (m + 1) * Kp, 0.0f);
    }
    r.f32 = f;
  }
  return r;
}

// y = x·Wᵀ + bias through f32 panels of W and sgemm (any M).
void dequantized_gemm(int64_t M, const float* x, int64_t ldx, const QuantizedMatrix& q, const float* bias, float* y,
                      int64_t ldy) {
  const int64_t N = q.rows(), K = q.cols();
  const int64_t panel = std::clamp<int64_t>((32768 / std::max<int64_t>(K, 1)) / 16 * 16, 16, 256);
  detail::split_rows(N, panel, q.bytes(), [&](int64_t n0, int64_t n1) {
    thread_local std::vector<float> w;
    w.resize(panel * K);
    for (int64_t p0 = n0; p0 < n1; p0 += panel) {
      const int64_t pn = std::min(panel, n1 - p0);
      q.dequantize_rows(p0, p0 + pn, w.data(), K);
      for (int64_t m = 0; m < M; ++m)
        for (int64_t n = 0; n < pn; ++n) y[m * ldy + p0 + n] = bias ? bias[p0 + n] : 0.0f;
      sgemm(false, true, M, pn, K, 1.0f, x, ldx, w.data(), K, 1.0f, y + p0, ldy);
    }
  });
}

}  // namespace

void qgemv(int64_t M, const float* x, int64_t ldx, const QuantizedMatrix& q, const float* bias, float* y,
           int64_t ldy) {
  // x (M,K), W = q (N,K), bias (N) or null, y (M,N)
  const int64_t N = q.rows(), K = q.cols(), Kp = q.padded_cols();
  if (M <= 0 || N <= 0) return;
  const detail::Isa isa = detail::isa();
  const bool invariant = row_invariant();  // the dot kernels in one row's order, for any M
  if ((M > kQgemvMaxRows && !invariant) || K == 0) {
    if (K > 0 && q.format() == WeightFormat::Int8 && isa.vnni) detail::q8_gemm_avx512_vnni(M, x, ldx, q, bias, y, ldy);
    else if (K > 0 && q.format() == WeightFormat::BF16 && isa.bf16) detail::bf16_gemm_avx512_bf16(M, x, ldx, q, bias, y, ldy);
    else dequantized_gemm(M, x, ldx, q, bias, y, ldy);
    return;
  }
  if (q.format() == WeightFormat::Int8) {
    detail::Q8Rows r = prepare_q8(M, x, ldx, K, Kp);
    r.single_row_order = invariant;
    detail::split_rows(N, 4, q.bytes(), [&](int64_t n0, int64_t n1) {
      if (isa.vnni) detail::q8_rows_avx512_vnni(r, q, n0, n1, bias, y, ldy);
      else detail::q8_rows_avx2(r, q, n0, n1, bias, y, ldy);
    });
  } else {
    detail::Bf16Rows r = prepare_bf16(M, x, ldx, K, Kp, isa.bf16);
    r.single_row_order = invariant;
    detail::split_rows(N, 4, q.bytes(), [&](int64_t n0, int64_t n1) {
      if (isa.bf16) detail::bf16_rows_avx512_bf16(r, q, n0, n1, bias, y, ldy);
      else detail::bf16_rows_avx2(r, q, n0, n1, bias, y, ldy);
    });
  }
}

}  // namespace qkv::kernels
