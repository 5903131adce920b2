// qkv/kernels/gemm_avx512.cpp — our own AVX-512 fp32 GEMM (Goto/BLIS scheme).
//
//   C(M,N) = alpha * op(A)(M,K) @ op(B)(K,N) + beta * C, all row-major.
//
// Loops, outermost first (per thread, on its own block of C):
//   jc over N in NC  →  pc over K in KC  →  pack op(B)[pc, jc] as KC×NR slivers
//   ic over M in MC  →  pack op(A)[ic, pc] as MR×KC slivers
//   jr over NC in NR →  ir over MC in MR  →  micro-kernel: MR×NR tile of C
// The micro-kernel keeps an MR×NR = 6×64 tile in 24 zmm accumulators: per k,
// four loads of B and six broadcasts of A feed 24 FMAs. On Zen 4 a zmm
// broadcast is not free, so few broadcasts per FMA matters: measured (1 thread,
// best of 2) 6×64 ≈ 101-104 GFLOP/s, 8×48 ≈ 98-104, 14×32 ≈ 93-100, 12×32 ≈
// 88-97, 4×96 ≈ 37 (spills). Blocking (KC,MC,NC) mattered only within noise;
// KC=512, MC=96, NC=3072 chosen. All overridable with -DQKV_GEMM_MR/NV/KC/MC/NC
// (MR and NV together, KC, MC and NC together). Transposes cost nothing
// extra: they only change the packing loops. Tails (M%MR, N%NR) are padded
// with zeros in the packed panels and masked on store.
// Threads: C is split into tm×tn disjoint blocks, one per thread, each with
// its own packing buffers; the N split is preferred (small-M activations).
#include "gemm_avx512.h"

// GCC 12 false positive: _mm512_unpacklo_ps & co. are built on
// _mm512_undefined_ps(), which -Wmaybe-uninitialized flags once inlined.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace qkv::kernels::detail {
namespace {

#ifndef QKV_GEMM_MR
#define QKV_GEMM_MR 6
#define QKV_GEMM_NV 4
#endif
constexpr int64_t MR = QKV_GEMM_MR;      // rows of the register tile
constexpr int NV = QKV_GEMM_NV;          // zmm vectors per tile row
constexpr int64_t NR = 16 * NV;          // columns of the register tile
#ifndef QKV_GEMM_KC
#define QKV_GEMM_KC 512
#define QKV_GEMM_MC 96
#define QKV_GEMM_NC 3072
#endif
constexpr int64_t KC = QKV_GEMM_KC;                    // depth of a packed panel
constexpr int64_t MC = MR * (QKV_GEMM_MC / MR);        // rows of packed A (L2)
constexpr int64_t NC = NR * (QKV_GEMM_NC / NR);        // columns of packed B

// Mask of the first n lanes of 16 (n <= 0: none, n >= 16: all).
inline __mmask16 tail_mask(int64_t n) {
  return n >= 16 ? (__mmask16)0xFFFF : n <= 0 ? (__mmask16)0
                                              : (__mmask16)((1u << n) - 1);
}

// Pack op(A)[i0:i0+mc, p0:p0+kc] into MR-row slivers: dst[s][k][r].
void pack_a(bool trans_a, const float* A, int64_t lda, int64_t i0, int64_t mc,
            int64_t p0, int64_t kc, float* dst) {
  for (int64_t is = 0; is < mc; is += MR) {
    const int64_t mr = std::min(MR, mc - is);
    float* d = dst + is * kc;
    if (!trans_a) {
      // op(A)[i][k] = A[i*lda + k]: rows are contiguous in k.
      for (int64_t r = 0; r < mr; ++r) {
        const float* a = A + (i0 + is + r) * lda + p0;
        for (int64_t k = 0; k < kc; ++k) d[k * MR + r] = a[k];
      }
      for (int64_t r = mr; r < MR; ++r)
        for (int64_t k = 0; k < kc; ++k) d[k * MR + r] = 0.0f;
    } else {
      // op(A)[i][k] = A[k*lda + i]: for each k the MR rows are contiguous.
      for (int64_t k = 0; k < kc; ++k) {
        const float* a = A + (p0 + k) * lda + i0 + is;
        int64_t r = 0;
        for (; r < mr; ++r) d[k * MR + r] = a[r];
        for (; r < MR; ++r) d[k * MR + r] = 0.0f;
      }
    }
  }
}

// Pack op(B)[p0:p0+kc, j0:j0+nc] into NR-column slivers: dst[s][k][c].
void pack_b(bool trans_b, const float* B, int64_t ldb, int64_t p0, int64_t kc,
            int64_t j0, int64_t nc, float* dst) {
  for (int64_t js = 0; js < nc; js += NR) {
    const int64_t nr = std::min(NR, nc - js);
    float* d = dst + js * kc;
    if (!trans_b) {
      // op(B)[k][j] = B[k*ldb + j]: each k gives NR contiguous floats.
      __mmask16 m[NV];
      for (int v = 0; v < NV; ++v) m[v] = tail_mask(nr - 16 * v);
      for (int64_t k = 0; k < kc; ++k) {
        const float* b = B + (p0 + k) * ldb + j0 + js;
        for (int v = 0; v < NV; ++v)
          _mm512_store_ps(d + k * NR + 16 * v,
                          _mm512_maskz_loadu_ps(m[v], b + 16 * v));
      }
    } else {
      // op(B)[k][j] = B[j*ldb + k]: transpose 16×16 blocks through registers.
      for (int64_t c0 = 0; c0 < NR; c0 += 16) {
        const int64_t cn = std::clamp<int64_t>(nr - c0, 0, 16);
        int64_t k = 0;
        if (cn == 16) {
          for (; k + 16 <= kc; k += 16) {
            __m512 r[16];
            for (int c = 0; c < 16; ++c)
              r[c] = _mm512_loadu_ps(B + (j0 + js + c0 + c) * ldb + p0 + k);
            // 16×16 transpose: unpack, shuffle, then 128-bit lane permutes.
            __m512 t[16];
            for (int c = 0; c < 16; c += 2) {
              t[c] = _mm512_unpacklo_ps(r[c], r[c + 1]);
              t[c + 1] = _mm512_unpackhi_ps(r[c], r[c + 1]);
            }
            for (int c = 0; c < 16; c += 4) {
              r[c] = _mm512_shuffle_ps(t[c], t[c + 2], 0x44);
              r[c + 1] = _mm512_shuffle_ps(t[c], t[c + 2], 0xEE);
              r[c + 2] = _mm512_shuffle_ps(t[c + 1], t[c + 3], 0x44);
              r[c + 3] = _mm512_shuffle_ps(t[c + 1], t[c + 3], 0xEE);
            }
            for (int c = 0; c < 4; ++c) {
              t[c] = _mm512_shuffle_f32x4(r[c], r[c + 4], 0x88);
              t[c + 4] = _mm512_shuffle_f32x4(r[c], r[c + 4], 0xDD);
              t[c + 8] = _mm512_shuffle_f32x4(r[c + 8], r[c + 12], 0x88);
              t[c + 12] = _mm512_shuffle_f32x4(r[c + 8], r[c + 12], 0xDD);
            }
            for (int c = 0; c < 4; ++c) {
              r[c] = _mm512_shuffle_f32x4(t[c], t[c + 8], 0x88);
              r[c + 8] = _mm512_shuffle_f32x4(t[c], t[c + 8], 0xDD);
              r[c + 4] = _mm512_shuffle_f32x4(t[c + 4], t[c + 12], 0x88);
              r[c + 12] = _mm512_shuffle_f32x4(t[c + 4], t[c + 12], 0xDD);
            }
            for (int q = 0; q < 16; ++q)
              _mm512_store_ps(d + (k + q) * NR + c0, r[q]);
          }
        }
        for (; k < kc; ++k) {
          float* dk = d + k * NR + c0;
          int64_t c = 0;
          for (; c < cn; ++c) dk[c] = B[(j0 + js + c0 + c) * ldb + p0 + k];
          for (; c < 16; ++c) dk[c] = 0.0f;
        }
      }
    }
  }
}

// C[0:mr, 0:nr] = alpha * (a_panel @ b_panel) + beta * C   (beta==0: no read)
// a: kc×MR packed, b: kc×NR packed.
__attribute__((always_inline)) inline void micro_kernel(
    int64_t kc, const float* __restrict a, const float* __restrict b,
    float* C, int64_t ldc, int64_t mr, int64_t nr, float alpha, float beta) {
  __m512 c[MR][NV];
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) c[r][v] = _mm512_setzero_ps();
  for (int64_t k = 0; k < kc; ++k) {
    __m512 bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) bv[v] = _mm512_load_ps(b + 16 * v);
    _mm_prefetch((const char*)(b + 8 * NR), _MM_HINT_T0);
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r) {
      const __m512 av = _mm512_set1_ps(a[r]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) c[r][v] = _mm512_fmadd_ps(av, bv[v], c[r][v]);
    }
    a += MR;
    b += NR;
  }
  const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
  __mmask16 m[NV];
#pragma GCC unroll 4
  for (int v = 0; v < NV; ++v) m[v] = tail_mask(nr - 16 * v);
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r) {
    if (r < mr) {
      float* cr = C + r * ldc;
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) {
        __m512 x = _mm512_mul_ps(va, c[r][v]);
        if (beta != 0.0f)
          x = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m[v], cr + 16 * v), x);
        _mm512_mask_storeu_ps(cr + 16 * v, m[v], x);
      }
    }
  }
}

struct Buffers {
  float* a = nullptr;
  float* b = nullptr;
  Buffers() {
    a = static_cast<float*>(std::aligned_alloc(64, sizeof(float) * MC * KC));
    b = static_cast<float*>(std::aligned_alloc(64, sizeof(float) * KC * NC));
  }
  ~Buffers() {
    std::free(a);
    std::free(b);
  }
};

// One thread's share: C[m0:m1, n0:n1].
void gemm_block(bool ta, bool tb, int64_t m0, int64_t m1, int64_t n0,
                int64_t n1, int64_t K, float alpha, const float* A,
                int64_t lda, const float* B, int64_t ldb, float beta, float* C,
                int64_t ldc) {
  static thread_local Buffers buf;  // reused across calls, one per thread
  for (int64_t jc = n0; jc < n1; jc += NC) {
    const int64_t nc = std::min(NC, n1 - jc);
    for (int64_t pc = 0; pc < K; pc += KC) {
      const int64_t kc = std::min(KC, K - pc);
      const float beta_eff = pc == 0 ? beta : 1.0f;
      pack_b(tb, B, ldb, pc, kc, jc, nc, buf.b);
      for (int64_t ic = m0; ic < m1; ic += MC) {
        const int64_t mc = std::min(MC, m1 - ic);
        pack_a(ta, A, lda, ic, mc, pc, kc, buf.a);
        for (int64_t jr = 0; jr < nc; jr += NR) {
          const int64_t nr = std::min(NR, nc - jr);
          for (int64_t ir = 0; ir < mc; ir += MR) {
            const int64_t mr = std::min(MR, mc - ir);
            micro_kernel(kc, buf.a + ir * kc, buf.b + jr * kc,
                         C + (ic + ir) * ldc + jc + jr, ldc, mr, nr, alpha,
                         beta_eff);
          }
        }
      }
    }
  }
}

// C = beta*C when K == 0 or alpha == 0 (BLAS semantics: beta==0 sets zero).
void scale_c(int64_t M, int64_t N, float beta, float* C, int64_t ldc) {
  for (int64_t i = 0; i < M; ++i) {
    float* c = C + i * ldc;
    if (beta == 0.0f)
      std::memset(c, 0, sizeof(float) * N);
    else if (beta != 1.0f)
      for (int64_t j = 0; j < N; ++j) c[j] *= beta;
  }
}

}  // namespace

void sgemm_avx512(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K,
                  float alpha, const float* A, int64_t lda, const float* B,
                  int64_t ldb, float beta, float* C, int64_t ldc,
                  int nthreads) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0 || alpha == 0.0f) {
    scale_c(M, N, beta, C, ldc);
    return;
  }
  // Split C into tm × tn blocks: N in NR multiples first, M if N is too thin.
  const int64_t n_slivers = (N + NR - 1) / NR, m_slivers = (M + MR - 1) / MR;
  int nt = std::max(1, nthreads);
  const double work = double(M) * N * K;
  if (work < 64.0 * 64 * 64) nt = 1;  // too small to pay for a team
  int tn = nt, tm = 1;
  while (tn > 1 && n_slivers < 2 * tn && m_slivers >= 2 * (tm * 2)) {
    tn /= 2;
    tm *= 2;
  }
  tn = int(std::min<int64_t>(tn, n_slivers));
  tm = int(std::min<int64_t>(tm, m_slivers));
  nt = tn * tm;
  auto run = [&](int t) {
    const int ti = t / tn, tj = t % tn;
    const int64_t ns0 = n_slivers * tj / tn, ns1 = n_slivers * (tj + 1) / tn;
    const int64_t ms0 = m_slivers * ti / tm, ms1 = m_slivers * (ti + 1) / tm;
    const int64_t n0 = ns0 * NR, n1 = std::min(N, ns1 * NR);
    const int64_t m0 = ms0 * MR, m1 = std::min(M, ms1 * MR);
    if (n0 < n1 && m0 < m1)
      gemm_block(trans_a, trans_b, m0, m1, n0, n1, K, alpha, A, lda, B, ldb,
                 beta, C, ldc);
  };
  if (nt == 1) {
    run(0);
    return;
  }
#pragma omp parallel num_threads(nt)
  run(omp_get_thread_num());
}

}  // namespace qkv::kernels::detail
