// qkv/kernels/qgemm_avx512.cpp — many rows of x times bf16 or int8 weights
// (a prompt's prefill): register-blocked GEMM on the stored values, so fewer
// bytes per weight also means more multiply-adds per instruction.
//
// Both kernels compute a tile of up to kMr rows of x × kNr = 32 rows of W
// (two zmm of y) with W's panel repacked per call so one 64-byte load holds
// 16 rows of W × one k-group, and a k-group of x is one 4-byte broadcast:
//
// bf16 (AVX512_BF16): x is rounded to bf16 once, as the GEMV kernels do;
//   panel = for each pair of k, 32 rows × 2 bf16. vdpbf16ps: 32 MACs each.
//
// int8 (AVX512_VNNI): x quantized per row in blocks of 32 exactly as the
//   GEMV path does (quantize_row_q8). vpdpbusd takes one unsigned operand, so
//   the panel stores q_w + 128 (a byte XOR 0x80) and the kernel subtracts
//   128·Σ_block q_x afterwards:  Σ q_x(q_w+128) − 128·Σ q_x = Σ q_x·q_w,
//   exact in int32 (|Σ| ≤ 32·127·255). Per block of 32: 8 vpdpbusd per
//   accumulator, then y += (d_x·d_w)·Σ in f32.
//
// Each output is computed whole by one thread in a fixed order, so results
// do not depend on the thread count; panels are split across the team.

// GCC 12 false positive: _mm512 casts are built on _mm512_undefined_*(),
// which -W(maybe-)uninitialized flags once inlined (as in gemm_avx512.cpp).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "isa.h"
#include "qgemv_kernels.h"
#include "split_rows.h"

namespace qkv::kernels::detail {
namespace {

constexpr int kNr = 32;  // rows of W per panel (two zmm of y)
constexpr int kMr = 6;   // rows of x per tile: 12 f32 accumulators (+ 12 int32 for int8)

// v's storage grown to at least n elements (kept between calls), from a
// 64-byte boundary (64 bytes of slack are asked for it).
template <class T>
T* grow(std::vector<T>& v, size_t n) {
  const size_t slack = 64 / sizeof(T);
  if (v.size() < n + slack) v.resize(n + slack);
  return reinterpret_cast<T*>((reinterpret_cast<uintptr_t>(v.data()) + 63) & ~uintptr_t(63));
}

// y row: acc + bias for the panel's nn ≤ 32 columns.
QKV_TARGET_AVX512 inline void store_row(float* y, const float* bias, __m512 a0, __m512 a1, int nn) {
  const __mmask16 m0 = nn >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << nn) - 1);
  const __mmask16 m1 = nn >= 32 ? __mmask16(0xFFFF) : nn <= 16 ? __mmask16(0) : __mmask16((1u << (nn - 16)) - 1);
  if (bias) {
    a0 = _mm512_add_ps(a0, _mm512_maskz_loadu_ps(m0, bias));
    a1 = _mm512_add_ps(a1, _mm512_maskz_loadu_ps(m1, bias + 16));
  }
  _mm512_mask_storeu_ps(y, m0, a0);
  _mm512_mask_storeu_ps(y + 16, m1, a1);
}

// ------------------------------------------------------------------ bf16

// One row of x to int8 blocks of 32 exactly as quantize_row_q8 (d = max|x|/127,
// q = nearbyint(x/d), a non-finite block gets q = 0 and d = NaN), plus
// 128·Σ q per block for the unsigned-operand correction.
QKV_TARGET_AVX512 void q8_row(const float* x, int64_t K, int64_t Kp, int8_t* q, float* d, int32_t* bias128) {
  const __m512 abs_mask = _mm512_castsi512_ps(_mm512_set1_epi32(0x7FFFFFFF));
  for (int64_t b0 = 0; b0 < Kp; b0 += kQ8Block) {
    __m512 v[2];
    for (int h = 0; h < 2; ++h) {
      const int64_t k = b0 + 16 * h;
      const __mmask16 in = K - k >= 16 ? __mmask16(0xFFFF) : K <= k ? __mmask16(0) : __mmask16((1u << (K - k)) - 1);
      v[h] = _mm512_maskz_loadu_ps(in, x + k);
    }
    const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_and_ps(v[0], abs_mask), _mm512_and_ps(v[1], abs_mask)));
    // x − x is 0 for finite x and NaN for NaN/Inf: one NaN anywhere makes the sum NaN.
    const float probe = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_sub_ps(v[0], v[0]), _mm512_sub_ps(v[1], v[1])));
    const int64_t b = b0 / kQ8Block;
    const float scale = amax / 127.0f;
    if (probe != 0.0f || !(scale > 0.0f)) {  // non-finite, or all zero
      std::memset(q + b0, 0, kQ8Block);
      d[b] = probe != 0.0f ? std::nanf("") : scale;
      bias128[b] = 0;
      continue;
    }
    const __m512 dv = _mm512_set1_ps(scale);
    __m512i s = _mm512_setzero_si512();
    for (int h = 0; h < 2; ++h) {
      const __m512i qi = _mm512_cvtps_epi32(_mm512_roundscale_ps(_mm512_div_ps(v[h], dv), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
      s = _mm512_add_epi32(s, qi);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(q + b0 + 16 * h), _mm512_cvtepi32_epi8(qi));
    }
    d[b] = scale;
    bias128[b] = 128 * _mm512_reduce_add_epi32(s);
  }
}

// P[p*32 + j] = the bf16 pair (k = 2p, 2p+1) of row n0+j; zeros past N.
void pack_bf16_panel(const QuantizedMatrix& W, int64_t n0, int nn, uint32_t* P) {
  const int64_t pairs = W.padded_cols() / 2;
  for (int j = 0; j < kNr; ++j) {
    if (j >= nn) {
      for (int64_t p = 0; p < pairs; ++p) P[p * kNr + j] = 0;
      continue;
    }
    uint32_t* out = P + j;
    const auto* row = reinterpret_cast<const uint32_t*>(W.bf16_row(n0 + j));
    for (int64_t p = 0; p < pairs; ++p) out[p * kNr] = row[p];
  }
}

// The loops over r and g are unrolled by pragma: at -O2 GCC otherwise keeps
// the accumulators in memory (measured: 3× slower).
template <int MR>
QKV_TARGET_AVX512_BF16 void bf16_tile(const uint32_t* A, int64_t pairs, const uint32_t* P, const float* bias,
                                      float* y, int64_t ldy, int nn) {
  __m512 acc[MR][2];
  #pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
  for (int64_t p = 0; p < pairs; ++p) {
    const __m512bh b0 = (__m512bh)_mm512_load_si512(P + p * kNr);
    const __m512bh b1 = (__m512bh)_mm512_load_si512(P + p * kNr + 16);
    #pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      const __m512bh a = (__m512bh)_mm512_set1_epi32(static_cast<int>(A[r * pairs + p]));
      acc[r][0] = _mm512_dpbf16_ps(acc[r][0], a, b0);
      acc[r][1] = _mm512_dpbf16_ps(acc[r][1], a, b1);
    }
  }
  #pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) store_row(y + r * ldy, bias, acc[r][0], acc[r][1], nn);
}

template <int MR>
QKV_TARGET_AVX512_BF16 void bf16_panel(int64_t M, const uint32_t* A, int64_t pairs, const uint32_t* P,
                                       const float* bias, float* y, int64_t ldy, int nn) {
  int64_t m = 0;
  for (; m + MR <= M; m += MR) bf16_tile<MR>(A + m * pairs, pairs, P, bias, y + m * ldy, ldy, nn);
  switch (M - m) {
    case 1: bf16_tile<1>(A + m * pairs, pairs, P, bias, y + m * ldy, ldy, nn); break;
    case 2: bf16_tile<2>(A + m * pairs, pairs, P, bias, y + m * ldy, ldy, nn); break;
    case 3: bf16_tile<3>(A + m * pairs, pairs, P, bias, y + m * ldy, ldy, nn); break;
    case 4: bf16_tile<4>(A + m * pairs, pairs, P, bias, y + m * ldy, ldy, nn); break;
    case 5: bf16_tile<5>(A + m * pairs, pairs, P, bias, y + m * ldy, ldy, nn); break;
    default: break;
  }
}

// ------------------------------------------------------------------ int8

// Byte t of k-group g (4 values of one block) of row n0+j at
// P[(g*32 + j)*4 + t], as q_w + 128; S[b*32 + j] = d_w of block b.
// Q8Layout stores chunk c (64 values: blocks 2c, 2c+1) as 16 groups of 4
// bytes alternating between the two blocks: group i holds values
// 64c + (i%2)*32 + (i/2)*4 … +3, i.e. k-group 16c + (i%2)*8 + i/2.
void pack_q8_panel(const QuantizedMatrix& W, int64_t n0, int nn, uint32_t* P, float* S) {
  const Q8Layout& L = W.q8_layout();
  const int64_t chunks = L.chunks, blocks = 2 * chunks;
  for (int j = 0; j < kNr; ++j) {
    if (j >= nn) {
      for (int64_t g = 0; g < 16 * chunks; ++g) P[g * kNr + j] = 0x80808080u;  // q_w = 0
      for (int64_t b = 0; b < blocks; ++b) S[b * kNr + j] = 0.0f;
      continue;
    }
    const std::byte* row = W.row(n0 + j);
    for (int64_t c = 0; c < chunks; ++c) {
      uint32_t v[16];
      std::memcpy(v, row + L.chunk_offset(c), sizeof v);
      for (int i = 0; i < 16; ++i) P[(16 * c + (i % 2) * 8 + i / 2) * kNr + j] = v[i] ^ 0x80808080u;
      float d[2];
      std::memcpy(d, row + L.scales_offset(c), sizeof d);
      S[(2 * c) * kNr + j] = d[0];
      S[(2 * c + 1) * kNr + j] = d[1];
    }
  }
}

// x quantized: q (M, Kp) in natural order, per block d_x (M, blocks) and
// 128·Σ q_x (M, blocks).
struct Q8Activations {
  const int8_t* q = nullptr;
  const float* d = nullptr;
  const int32_t* bias128 = nullptr;
  int64_t Kp = 0, blocks = 0;
};

template <int MR>
QKV_TARGET_AVX512_VNNI void q8_tile(const Q8Activations& x, int64_t m0, const uint32_t* P, const float* S,
                                    const float* bias, float* y, int64_t ldy, int nn) {
  __m512 acc[MR][2];
  #pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
  const int32_t* xq[MR];
  #pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) xq[r] = reinterpret_cast<const int32_t*>(x.q + (m0 + r) * x.Kp);
  for (int64_t b = 0; b < x.blocks; ++b) {
    __m512i s[MR][2];
    #pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) s[r][0] = s[r][1] = _mm512_setzero_si512();
    #pragma GCC unroll 8
    for (int g = 0; g < 8; ++g) {
      const int64_t k4 = b * 8 + g;
      const __m512i w0 = _mm512_load_si512(P + k4 * kNr), w1 = _mm512_load_si512(P + k4 * kNr + 16);
      #pragma GCC unroll 8
      for (int r = 0; r < MR; ++r) {
        const __m512i a = _mm512_set1_epi32(xq[r][k4]);
        s[r][0] = _mm512_dpbusd_epi32(s[r][0], w0, a);
        s[r][1] = _mm512_dpbusd_epi32(s[r][1], w1, a);
      }
    }
    const __m512 d0 = _mm512_load_ps(S + b * kNr), d1 = _mm512_load_ps(S + b * kNr + 16);
    #pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      const int64_t i = (m0 + r) * x.blocks + b;
      const __m512i c = _mm512_set1_epi32(x.bias128[i]);
      const __m512 dx = _mm512_set1_ps(x.d[i]);
      acc[r][0] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(s[r][0], c)), _mm512_mul_ps(d0, dx), acc[r][0]);
      acc[r][1] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(s[r][1], c)), _mm512_mul_ps(d1, dx), acc[r][1]);
    }
  }
  #pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) store_row(y + (m0 + r) * ldy, bias, acc[r][0], acc[r][1], nn);
}

template <int MR>
QKV_TARGET_AVX512_VNNI void q8_panel(int64_t M, const Q8Activations& x, const uint32_t* P, const float* S,
                                     const float* bias, float* y, int64_t ldy, int nn) {
  int64_t m = 0;
  for (; m + MR <= M; m += MR) q8_tile<MR>(x, m, P, S, bias, y, ldy, nn);
  switch (M - m) {
    case 1: q8_tile<1>(x, m, P, S, bias, y, ldy, nn); break;
    case 2: q8_tile<2>(x, m, P, S, bias, y, ldy, nn); break;
    case 3: q8_tile<3>(x, m, P, S, bias, y, ldy, nn); break;
    case 4: q8_tile<4>(x, m, P, S, bias, y, ldy, nn); break;
    case 5: q8_tile<5>(x, m, P, S, bias, y, ldy, nn); break;
    default: break;
  }
}

// Panels of 32 rows of W split across the team (whole panels per thread).
template <class Fn>
void for_panels(int64_t N, int64_t flops, Fn&& fn) {
  // split_rows wants weight traffic; a prefill GEMM is compute-bound, so any
  // call worth ~1 ms of work takes the whole team.
  split_rows(N, kNr, flops / 64, [&](int64_t n0, int64_t n1) {
    for (int64_t p = n0; p < n1; p += kNr) fn(p, static_cast<int>(std::min<int64_t>(kNr, n1 - p)));
  });
}

}  // namespace

void bf16_gemm_avx512_bf16(int64_t M, const float* x, int64_t ldx, const QuantizedMatrix& W, const float* bias,
                           float* y, int64_t ldy) {
  const int64_t K = W.cols(), Kp = W.padded_cols(), pairs = Kp / 2;
  static thread_local std::vector<uint32_t> a_buf;
  uint32_t* A = grow(a_buf, M * pairs);
  for (int64_t m = 0; m < M; ++m) bf16_row_avx512(x + m * ldx, K, Kp, reinterpret_cast<uint16_t*>(A + m * pairs));
  for_panels(W.rows(), 2 * M * Kp * W.rows(), [&](int64_t n0, int nn) {
    static thread_local std::vector<uint32_t> p_buf;
    uint32_t* P = grow(p_buf, pairs * kNr);
    pack_bf16_panel(W, n0, nn, P);
    bf16_panel<kMr>(M, A, pairs, P, bias ? bias + n0 : nullptr, y + n0, ldy, nn);
  });
}

void q8_gemm_avx512_vnni(int64_t M, const float* x, int64_t ldx, const QuantizedMatrix& W, const float* bias,
                         float* y, int64_t ldy) {
  const int64_t K = W.cols(), Kp = W.padded_cols(), blocks = Kp / kQ8Block;
  static thread_local std::vector<int8_t> q_buf;
  static thread_local std::vector<float> d_buf;
  static thread_local std::vector<int32_t> c_buf;
  int8_t* q = grow(q_buf, M * Kp);
  float* d = grow(d_buf, M * blocks);
  int32_t* c = grow(c_buf, M * blocks);
  for (int64_t m = 0; m < M; ++m) q8_row(x + m * ldx, K, Kp, q + m * Kp, d + m * blocks, c + m * blocks);
  const Q8Activations a{q, d, c, Kp, blocks};
  for_panels(W.rows(), 2 * M * Kp * W.rows(), [&](int64_t n0, int nn) {
    static thread_local std::vector<uint32_t> p_buf;
    static thread_local std::vector<float> s_buf;
    uint32_t* P = grow(p_buf, Kp / 4 * kNr);
    float* S = grow(s_buf, blocks * kNr);
    pack_q8_panel(W, n0, nn, P, S);
    q8_panel<kMr>(M, a, P, S, bias ? bias + n0 : nullptr, y + n0, ldy, nn);
  });
}

// One row of x to bf16, as float_to_bf16 (round to nearest even, NaN kept
// quiet), zeros from K to Kp.
QKV_TARGET_AVX512 void bf16_row_avx512(const float* x, int64_t K, int64_t Kp, uint16_t* out) {
  const __m512i one = _mm512_set1_epi32(1), round = _mm512_set1_epi32(0x7FFF);
  const __m512i abs_mask = _mm512_set1_epi32(0x7FFFFFFF), inf = _mm512_set1_epi32(0x7F800000);
  for (int64_t k = 0; k < Kp; k += 16) {
    const __mmask16 in = K - k >= 16 ? __mmask16(0xFFFF) : K <= k ? __mmask16(0) : __mmask16((1u << (K - k)) - 1);
    const __m512i u = _mm512_castps_si512(_mm512_maskz_loadu_ps(in, x + k));
    __m512i r = _mm512_add_epi32(u, _mm512_add_epi32(round, _mm512_and_si512(_mm512_srli_epi32(u, 16), one)));
    const __mmask16 nan = _mm512_cmpgt_epu32_mask(_mm512_and_si512(u, abs_mask), inf);
    r = _mm512_mask_or_epi32(r, nan, u, _mm512_set1_epi32(0x400000));  // quiet NaN: (u >> 16) | 0x40
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + k), _mm512_cvtepi32_epi16(_mm512_srli_epi32(r, 16)));
  }
}

}  // namespace qkv::kernels::detail
