// qkv/kernels/qgemv_avx2.cpp — qgemv's fallback dot products at the x86-64-v3
// baseline (AVX2 + FMA), for CPUs without AVX-512 VNNI / BF16. Same blocking
// as the AVX-512 file (qgemv_avx512.cpp).
//
// int8, per 32 bytes (llama.cpp's AVX2 Q8_0 trick): vpsignb moves the sign
// of q_x onto q_w, vpmaddubsw multiplies |q_x| (unsigned) by it and adds
// pairs into int16 (|2·127·127| < 2¹⁵, no saturation), vpmaddwd by ones adds
// pairs into int32, whose lanes alternate between the chunk's two blocks
// (Q8Layout); then × d_x·d_w in f32.
// bf16: widen 8 weights to f32 (bf16 is the top half of an f32) and FMA with x.
#include <immintrin.h>

#include <cstring>

#include "hsum.h"
#include "qgemv_kernels.h"

namespace qkv::kernels::detail {
namespace {

template <int MB, int RB>
inline void store_rows(__m256 (&acc)[MB][RB], const float* bias, float* y, int64_t ldy) {
  for (int m = 0; m < MB; ++m) {
    if constexpr (RB == 4) {
      __m128 s = hsum4(acc[m][0], acc[m][1], acc[m][2], acc[m][3]);
      if (bias) s = _mm_add_ps(s, _mm_loadu_ps(bias));
      _mm_storeu_ps(y + m * ldy, s);
    } else {
      y[m * ldy] = hsum(acc[m][0]) + (bias ? bias[0] : 0.0f);
    }
  }
}

// [s[0], s[1], s[0], s[1], …]: a block pair's scales, one per alternate lane.
inline __m256 pair_scales(const void* s) {
  double pair;  // two floats as one 8-byte broadcast
  std::memcpy(&pair, s, sizeof pair);
  return _mm256_castpd_ps(_mm256_set1_pd(pair));
}

template <int MB, int RB>
struct Q8BlockAvx2 {
  static void run(const Q8Rows& x, const QuantizedMatrix& W, int64_t n0, int64_t n1, const float* bias, float* y,
                  int64_t ldy) {
    const Q8Layout& L = W.q8_layout();
    const int64_t chunks = x.Kp / 64;
    const __m256i ones = _mm256_set1_epi16(1);
    for (int64_t n = n0; n < n1; n += RB) {
      __m256 acc[MB][RB];
      for (auto& a : acc)
        for (auto& c : a) c = _mm256_setzero_ps();
      for (int64_t j = 0; j < chunks; ++j) {  // 64 values: blocks 2j and 2j+1, interleaved by 4 bytes
        const int64_t wq = L.chunk_offset(j), ws = L.scales_offset(j);
        __m256i w[RB][2];
        __m256 dw[RB];
        for (int r = 0; r < RB; ++r) {
          w[r][0] = _mm256_load_si256(reinterpret_cast<const __m256i*>(W.row(n + r) + wq));
          w[r][1] = _mm256_load_si256(reinterpret_cast<const __m256i*>(W.row(n + r) + wq + 32));
          dw[r] = pair_scales(W.row(n + r) + ws);
        }
        for (int m = 0; m < MB; ++m) {
          const int64_t off = m * x.Kp + 64 * j;
          __m256i qx[2], ax[2];
          for (int h = 0; h < 2; ++h) {
            qx[h] = _mm256_load_si256(reinterpret_cast<const __m256i*>(x.q + off + 32 * h));
            ax[h] = _mm256_load_si256(reinterpret_cast<const __m256i*>(x.absq + off + 32 * h));
          }
          const __m256 dx = pair_scales(x.scales + m * (x.Kp / kQ8Block) + 2 * j);
          for (int r = 0; r < RB; ++r) {
            // int32 lanes alternate blocks in both halves: add the halves, then scale
            __m256i dot = _mm256_setzero_si256();
            for (int h = 0; h < 2; ++h)
              dot = _mm256_add_epi32(
                  dot, _mm256_madd_epi16(_mm256_maddubs_epi16(ax[h], _mm256_sign_epi8(w[r][h], qx[h])), ones));
            acc[m][r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot), _mm256_mul_ps(dw[r], dx), acc[m][r]);
          }
        }
      }
      store_rows<MB, RB>(acc, bias ? bias + n : nullptr, y + n, ldy);
    }
  }
};

template <int MB, int RB>
struct Bf16BlockAvx2 {
  static void run(const Bf16Rows& x, const QuantizedMatrix& W, int64_t n0, int64_t n1, const float* bias, float* y,
                  int64_t ldy) {
    for (int64_t n = n0; n < n1; n += RB) {
      __m256 acc[MB][RB];
      for (auto& a : acc)
        for (auto& c : a) c = _mm256_setzero_ps();
      for (int64_t k = 0; k < x.Kp; k += 8) {
        __m256 w[RB];
        for (int r = 0; r < RB; ++r) {
          const __m128i h = _mm_load_si128(reinterpret_cast<const __m128i*>(W.bf16_row(n + r) + k));
          w[r] = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
        }
        for (int m = 0; m < MB; ++m) {
          const __m256 xv = _mm256_load_ps(x.f32 + m * x.Kp + k);
          for (int r = 0; r < RB; ++r) acc[m][r] = _mm256_fmadd_ps(xv, w[r], acc[m][r]);
        }
      }
      store_rows<MB, RB>(acc, bias ? bias + n : nullptr, y + n, ldy);
    }
  }
};

}  // namespace

void q8_rows_avx2(const Q8Rows& x, const QuantizedMatrix& W, int64_t n0, int64_t n1, const float* bias, float* y,
                  int64_t ldy) {
  for_row_blocks<Q8Rows, Q8BlockAvx2>(x, W, n0, n1, bias, y, ldy);
}

void bf16_rows_avx2(const Bf16Rows& x, const QuantizedMatrix& W, int64_t n0, int64_t n1, const float* bias, float* y,
                    int64_t ldy) {
  for_row_blocks<Bf16Rows, Bf16BlockAvx2>(x, W, n0, n1, bias, y, ldy);
}

}  // namespace qkv::kernels::detail
