// qkv/kernels/qgemv_avx512.cpp — the AVX-512 dot products of qgemv.
//
// Blocking as gemv_f32 (for_row_blocks): W row by row in memory order, or 4
// rows of W × up to 4 rows of x; one zmm accumulator per pair, reduced at the
// end of K.
//
// int8 (VNNI). vpdpbusd multiplies unsigned bytes by signed bytes, so the
// sign of x moves onto w:  q_x·q_w = |q_x| · (sign(q_x)·q_w)  — one masked
// subtract (w → −w where q_x < 0, masks precomputed per row of x); q_w is
// never −128, so −q_w fits. Per 64 bytes (two blocks of 32, interleaved by 4
// bytes — Q8Layout): 16 int32 lane sums alternating between block 2j and
// 2j+1, converted to f32 and multiplied by the alternating scale products
// d_x·d_w (two 8-byte broadcasts). Integer sums are exact; |Σ| ≤ 4·127·127.
//
// bf16 (AVX512_BF16). vdpbf16ps adds a[2i]·b[2i] + a[2i+1]·b[2i+1] to f32
// lane i. x is rounded to bf16 (as in the prefill GEMM): one vdpbf16ps per 32
// weights. (x as x_hi + x_lo, two of them, was exact to ~16 bits but ran at
// 25–30 GB/s a core, below memory speed — the second was not free after all.)

// GCC 12 false positive: _mm512 reductions/casts are built on _mm512_undefined_*(),
// which -W(maybe-)uninitialized flags once inlined (as in gemm_avx512.cpp).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "hsum.h"
#include "isa.h"
#include "qgemv_kernels.h"

namespace qkv::kernels::detail {
namespace {

// Software prefetch this far ahead in the row (rows are contiguous, so past
// its end is the next row). The int8 loop spends ~10 instructions per 64
// bytes, so fewer loads are in flight than in the f32/bf16 loops and the
// hardware prefetcher alone gave 14–18 GB/s a core; 2 KiB ahead gave 20–26
// GB/s and 84 → 109 tokens/s on GPT-2 124M (1 KiB and 4 KiB: less; f32 and
// bf16: no gain, so they do without). bench/RESULTS.md.
constexpr int64_t kPrefetchBytes = 2048;

// [s[0], s[1], s[0], s[1], …]: a block pair's scales, one per alternate lane.
QKV_TARGET_AVX512 inline __m512 pair_scales(const void* s) {
  double pair;  // two floats as one 8-byte broadcast (memcpy: no aliasing issue, compiles to vbroadcastsd)
  std::memcpy(&pair, s, sizeof pair);
  return _mm512_castpd_ps(_mm512_set1_pd(pair));
}

// One 64-byte chunk j (blocks 2j, 2j+1) of rows n … n+RB−1 into accumulator copy u.
template <int MB, int RB, int U>
QKV_TARGET_AVX512_VNNI inline void q8_chunk(const Q8Rows& x, const QuantizedMatrix& W, int64_t n, int64_t j, int u,
                                            __m512 (&acc)[MB][RB][U]) {
  const Q8Layout& L = W.q8_layout();
  const int64_t wq = L.chunk_offset(j), ws = L.scales_offset(j);
  const __m512i zero = _mm512_setzero_si512();
  __m512i w[RB];
  __m512 dw[RB];
  for (int r = 0; r < RB; ++r) {
    _mm_prefetch(reinterpret_cast<const char*>(W.row(n + r) + wq + kPrefetchBytes), _MM_HINT_T0);
    w[r] = _mm512_load_si512(W.row(n + r) + wq);
    dw[r] = pair_scales(W.row(n + r) + ws);
  }
  for (int m = 0; m < MB; ++m) {
    const __m512i ax = _mm512_load_si512(x.absq + m * x.Kp + 64 * j);
    const __mmask64 neg = x.neg[m * (x.Kp / 64) + j];
    const __m512 dx = pair_scales(x.scales + m * (x.Kp / kQ8Block) + 2 * j);
    for (int r = 0; r < RB; ++r) {
      const __m512i sw = _mm512_mask_sub_epi8(w[r], neg, zero, w[r]);  // sign(q_x)·q_w
      const __m512i dot = _mm512_dpbusd_epi32(zero, ax, sw);           // lane i: block 2j + i%2
      acc[m][r][u] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), _mm512_mul_ps(dw[r], dx), acc[m][r][u]);
    }
  }
}

// Rows n0, n0+RB, … < n1 of W against the MB rows of x. One row of W at a time
// rotates four accumulators (four FMA chains; two read ~10 % slower, noisy
// qkv_bench_gemv qgemv runs); four rows have four already.
template <int MB, int RB>
QKV_TARGET_AVX512_VNNI void q8_rows(const Q8Rows& x, const QuantizedMatrix& W, int64_t n0, int64_t n1,
                                    const float* bias, float* y, int64_t ldy) {
  constexpr int U = RB == 1 ? 4 : 1;
  const int64_t chunks = x.Kp / 64;
  for (int64_t n = n0; n < n1; n += RB) {
    __m512 acc[MB][RB][U];
    for (auto& a : acc)
      for (auto& b : a)
        for (auto& c : b) c = _mm512_setzero_ps();
    int64_t j = 0;
    for (; j + U <= chunks; j += U)
      for (int u = 0; u < U; ++u) q8_chunk<MB, RB, U>(x, W, n, j + u, u, acc);
    for (; j < chunks; ++j) q8_chunk<MB, RB, U>(x, W, n, j, 0, acc);
    store_rows<MB, RB, U>(acc, bias ? bias + n : nullptr, y + n, ldy);
  }
}

// bf16: x rounded to bf16 against the stored bf16 W, f32 accumulation. One
// row of W at a time rotates four accumulators over k (vdpbf16ps's latency
// bound the row-by-row decode product with fewer chains).
template <int MB, int RB, int U>
QKV_TARGET_AVX512_BF16 inline void bf16_step(const Bf16Rows& x, const QuantizedMatrix& W, int64_t n, int64_t k, int u,
                                             __m512 (&acc)[MB][RB][U]) {
  __m512bh w[RB];
  for (int r = 0; r < RB; ++r) w[r] = (__m512bh)_mm512_load_si512(W.bf16_row(n + r) + k);
  for (int m = 0; m < MB; ++m) {
    const __m512bh xm = (__m512bh)_mm512_load_si512(x.hi + m * x.Kp + k);
    for (int r = 0; r < RB; ++r) acc[m][r][u] = _mm512_dpbf16_ps(acc[m][r][u], xm, w[r]);
  }
}

template <int MB, int RB>
QKV_TARGET_AVX512_BF16 void bf16_rows(const Bf16Rows& x, const QuantizedMatrix& W, int64_t n0, int64_t n1,
                                      const float* bias, float* y, int64_t ldy) {
  constexpr int U = RB == 1 ? 4 : 1;
  for (int64_t n = n0; n < n1; n += RB) {
    __m512 acc[MB][RB][U];
    for (auto& a : acc)
      for (auto& b : a)
        for (auto& c : b) c = _mm512_setzero_ps();
    int64_t k = 0;
    for (; k + 32 * U <= x.Kp; k += 32 * U)
      for (int u = 0; u < U; ++u) bf16_step<MB, RB, U>(x, W, n, k + 32 * u, u, acc);
    for (; k < x.Kp; k += 32) bf16_step<MB, RB, U>(x, W, n, k, 0, acc);
    store_rows<MB, RB, U>(acc, bias ? bias + n : nullptr, y + n, ldy);
  }
}

template <int MB, int RB>
struct Q8BlockAvx512 {
  static void run(const Q8Rows& x, const QuantizedMatrix& W, int64_t n0, int64_t n1, const float* bias, float* y,
                  int64_t ldy) {
    q8_rows<MB, RB>(x, W, n0, n1, bias, y, ldy);
  }
};
template <int MB, int RB>
struct Bf16BlockAvx512 {
  static void run(const Bf16Rows& x, const QuantizedMatrix& W, int64_t n0, int64_t n1, const float* bias, float* y,
                  int64_t ldy) {
    bf16_rows<MB, RB>(x, W, n0, n1, bias, y, ldy);
  }
};

}  // namespace

void q8_rows_avx512_vnni(const Q8Rows& x, const QuantizedMatrix& W, int64_t n0, int64_t n1, const float* bias,
                         float* y, int64_t ldy) {
  for_row_blocks<Q8Rows, Q8BlockAvx512>(x, W, n0, n1, bias, y, ldy);
}

void bf16_rows_avx512_bf16(const Bf16Rows& x, const QuantizedMatrix& W, int64_t n0, int64_t n1, const float* bias,
                           float* y, int64_t ldy) {
  for_row_blocks<Bf16Rows, Bf16BlockAvx512>(x, W, n0, n1, bias, y, ldy);
}

}  // namespace qkv::kernels::detail
