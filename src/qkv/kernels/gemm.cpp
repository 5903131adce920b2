// qkv/kernels/gemm.cpp — qkv::kernels::sgemm on the backend chosen at build
// time (cmake/Gemm.cmake sets exactly one of these definitions):
//   QKV_GEMM_OPENBLAS  cblas_sgemm, OpenMP build of OpenBLAS
//   QKV_GEMM_BLIS      bli_sgemm_ex (typed API, per-call thread count)
//   QKV_GEMM_DNNL      dnnl_sgemm (oneDNN, OpenMP runtime)
//   QKV_GEMM_OWN       our AVX-512 kernel (gemm_avx512.cpp), sgemm_ref if the
//                      CPU lacks AVX-512F
//   QKV_GEMM_REF       sgemm_ref only (slow; for debugging)
// Why the default won: bench/RESULTS.md, "## GEMM (fp32)".
//
// Shared rules, whatever the backend:
//   * transposes are passed through as flags — nothing is ever copied here;
//   * M == 0 or N == 0 returns at once; K == 0 (or alpha == 0) scales C by
//     beta here (beta == 0 writes zeros without reading C), so no backend sees
//     degenerate sizes or leading dimensions;
//   * inside an OpenMP parallel region (omp_in_parallel()) the call runs on
//     the calling thread only.
#include "qkv/kernels/gemm.h"

#include "qkv/core/error.h"
#include "qkv/core/threading.h"

#include <omp.h>

#include <atomic>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "qkv/kernels/ref/gemm_ref.h"

#if defined(QKV_GEMM_OPENBLAS)
#include <cblas.h>
#elif defined(QKV_GEMM_BLIS)
#include <blis.h>
#elif defined(QKV_GEMM_DNNL)
#include <oneapi/dnnl/dnnl.h>
#elif defined(QKV_GEMM_OWN)
#include "gemm_avx512.h"
#elif defined(QKV_GEMM_REF)
#else
#error "define one of QKV_GEMM_OPENBLAS/BLIS/DNNL/OWN/REF (see cmake/Gemm.cmake)"
#endif

namespace qkv::kernels {
namespace {

// Library-wide thread count for GEMM; 0 = not set yet (use OpenMP's default).
std::atomic<int> g_threads{0};

[[maybe_unused]] int threads_for_this_call() {
  if (omp_in_parallel()) return 1;
  const int n = g_threads.load(std::memory_order_relaxed);
  return n > 0 ? n : omp_get_max_threads();
}

// C = beta * C (beta == 0: zeros, C not read).
void scale_c(int64_t M, int64_t N, float beta, float* C, int64_t ldc) {
  if (beta == 1.0f) return;
  for (int64_t i = 0; i < M; ++i) {
    float* c = C + i * ldc;
    if (beta == 0.0f)
      std::memset(c, 0, sizeof(float) * size_t(N));
    else
      for (int64_t j = 0; j < N; ++j) c[j] *= beta;
  }
}

[[maybe_unused]] bool fits_int(int64_t M, int64_t N, int64_t K, int64_t lda,
                               int64_t ldb, int64_t ldc) {
  for (int64_t v : {M, N, K, lda, ldb, ldc})
    if (v > INT_MAX) return false;
  return true;
}

}  // namespace

void sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K,
           float alpha, const float* A, int64_t lda, const float* B,
           int64_t ldb, float beta, float* C, int64_t ldc) {
  // op(A) is (M,K), op(B) is (K,N), C is (M,N)
  if (M <= 0 || N <= 0) return;
  if (K <= 0 || alpha == 0.0f) {
    scale_c(M, N, beta, C, ldc);
    return;
  }
#if defined(QKV_GEMM_OPENBLAS)
  // OpenBLAS (OpenMP build) itself runs single-threaded when omp_in_parallel()
  // and otherwise uses omp_get_max_threads(); gemm_set_num_threads sets both.
  if (!fits_int(M, N, K, lda, ldb, ldc)) {  // cblas takes 32-bit int sizes
    sgemm_ref(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
              trans_b ? CblasTrans : CblasNoTrans, int(M), int(N), int(K),
              alpha, A, int(lda), B, int(ldb), beta, C, int(ldc));
#elif defined(QKV_GEMM_BLIS)
  // Strides describe the stored matrices; BLIS applies the transposes.
  rntm_t rntm = BLIS_RNTM_INITIALIZER;
  bli_rntm_set_num_threads(threads_for_this_call(), &rntm);
  bli_sgemm_ex(trans_a ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE,
               trans_b ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE, M, N, K, &alpha,
               const_cast<float*>(A), lda, 1, const_cast<float*>(B), ldb, 1,
               &beta, C, ldc, 1, nullptr, &rntm);
#elif defined(QKV_GEMM_DNNL)
  // oneDNN uses omp_get_max_threads(), and 1 thread inside a parallel region.
  const dnnl_status_t st =
      dnnl_sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', M, N, K, alpha, A,
                 lda, B, ldb, beta, C, ldc);
  if (st != dnnl_success)
    throw qkv::Error("sgemm: dnnl_sgemm failed (status " + std::to_string(int(st)) + ") for M=" +
                     std::to_string(M) + " N=" + std::to_string(N) + " K=" + std::to_string(K) +
                     " lda=" + std::to_string(lda) + " ldb=" + std::to_string(ldb) + " ldc=" +
                     std::to_string(ldc));
#elif defined(QKV_GEMM_OWN)
  static const bool has_avx512 = __builtin_cpu_supports("avx512f");
  if (has_avx512)
    detail::sgemm_avx512(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb,
                         beta, C, ldc, threads_for_this_call());
  else
    sgemm_ref(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
#else
  sgemm_ref(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
#endif
}

const char* gemm_backend_name() {
  static const std::string name = [] {
#if defined(QKV_GEMM_OPENBLAS)
    // e.g. "OpenBLAS 0.3.21 ... USE_OPENMP Cooperlake MAX_THREADS=64"
    return std::string(openblas_get_config()) + " (core " +
           openblas_get_corename() + ")";
#elif defined(QKV_GEMM_BLIS)
    return std::string("BLIS ") + bli_info_get_version_str() + " (" +
           bli_arch_string(bli_arch_query_id()) + ", openmp)";
#elif defined(QKV_GEMM_DNNL)
    const dnnl_version_t* v = dnnl_version();
    return "oneDNN " + std::to_string(v->major) + "." +
           std::to_string(v->minor) + "." + std::to_string(v->patch) +
           " (dnnl_sgemm)";
#elif defined(QKV_GEMM_OWN)
    return std::string(__builtin_cpu_supports("avx512f")
                           ? "qkv AVX-512 (6x64 micro-kernel, openmp)"
                           : "qkv reference (no AVX-512 on this CPU)");
#else
    return std::string("qkv reference (triple loop)");
#endif
  }();
  return name.c_str();
}

void gemm_set_num_threads(int n) {
  if (n < 1) n = 1;
  g_threads.store(n, std::memory_order_relaxed);
#if defined(QKV_GEMM_OPENBLAS)
  openblas_set_num_threads(n);  // OpenMP build: also omp_set_num_threads(n)
#elif defined(QKV_GEMM_DNNL)
  omp_set_num_threads(n);  // oneDNN reads omp_get_max_threads()
#endif
  // BLIS and OWN take the count per call from g_threads.
}

namespace {
// qkv::set_num_threads (core) reaches the backend through this listener.
[[maybe_unused]] const bool g_follows_thread_count = (on_num_threads_change(&gemm_set_num_threads), true);
}  // namespace

}  // namespace qkv::kernels
