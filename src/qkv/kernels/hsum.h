// Private: horizontal sums shared by the GEMV kernels — four accumulators
// reduced to four floats at once (cheaper than four separate reductions) —
// and the store of a block's results.
#pragma once
#include <immintrin.h>

#include <cstdint>

#include "isa.h"

namespace qkv::kernels::detail {

// {Σa, Σb, Σc, Σd} over the 16 lanes of each.
QKV_TARGET_AVX512 inline __m128 hsum4(__m512 a, __m512 b, __m512 c, __m512 d) {
  // per 128-bit lane: ab = [a0+a2, b0+b2, a1+a3, b1+b3], cd likewise
  __m512 ab = _mm512_add_ps(_mm512_unpacklo_ps(a, b), _mm512_unpackhi_ps(a, b));
  __m512 cd = _mm512_add_ps(_mm512_unpacklo_ps(c, d), _mm512_unpackhi_ps(c, d));
  // per 128-bit lane: [a, b, c, d] partial sums; then add the four lanes
  __m512 s = _mm512_add_ps(_mm512_shuffle_ps(ab, cd, 0x44), _mm512_shuffle_ps(ab, cd, 0xEE));
  __m256 h = _mm256_add_ps(_mm512_castps512_ps256(s),
                           _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(s), 1)));
  return _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
}

// {Σa, Σb, Σc, Σd} over the 8 lanes of each.
inline __m128 hsum4(__m256 a, __m256 b, __m256 c, __m256 d) {
  // hadd(a,b) = [a01 a23 b01 b23 | a45 a67 b45 b67]; twice more gives the
  // four sums in each 128-bit half.
  __m256 s = _mm256_hadd_ps(_mm256_hadd_ps(a, b), _mm256_hadd_ps(c, d));
  return _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
}

inline float hsum(__m256 a) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}

// y[m][r] = bias[r] + Σ lanes of acc[m][r] (summed over its U copies).
template <int MB, int RB, int U>
QKV_TARGET_AVX512 inline void store_rows(__m512 (&acc)[MB][RB][U], const float* bias, float* y, int64_t ldy) {
  for (int m = 0; m < MB; ++m) {
    __m512 v[RB];
    for (int r = 0; r < RB; ++r) {
      v[r] = acc[m][r][0];
      for (int u = 1; u < U; ++u) v[r] = _mm512_add_ps(v[r], acc[m][r][u]);
    }
    if constexpr (RB == 4) {
      __m128 s = hsum4(v[0], v[1], v[2], v[3]);
      if (bias) s = _mm_add_ps(s, _mm_loadu_ps(bias));
      _mm_storeu_ps(y + m * ldy, s);
    } else {
      y[m * ldy] = _mm512_reduce_add_ps(v[0]) + (bias ? bias[0] : 0.0f);
    }
  }
}

// The same for AVX2 accumulators (8 lanes).
template <int MB, int RB, int U>
inline void store_rows(__m256 (&acc)[MB][RB][U], const float* bias, float* y, int64_t ldy) {
  for (int m = 0; m < MB; ++m) {
    __m256 v[RB];
    for (int r = 0; r < RB; ++r) {
      v[r] = acc[m][r][0];
      for (int u = 1; u < U; ++u) v[r] = _mm256_add_ps(v[r], acc[m][r][u]);
    }
    if constexpr (RB == 4) {
      __m128 s = hsum4(v[0], v[1], v[2], v[3]);
      if (bias) s = _mm_add_ps(s, _mm_loadu_ps(bias));
      _mm_storeu_ps(y + m * ldy, s);
    } else {
      y[m * ldy] = hsum(v[0]) + (bias ? bias[0] : 0.0f);
    }
  }
}

}  // namespace qkv::kernels::detail
