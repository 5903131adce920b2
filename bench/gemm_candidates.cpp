// bench/gemm_candidates.cpp — time row-major fp32 GEMM C = A @ B (or A @ B^T)
// for each backend.
//
// One source, one executable per candidate (OpenBLAS and BLIS export the same
// BLAS symbols, so they cannot share a process). Pick the candidate with one of
//   -DCAND_OPENBLAS  cblas_sgemm from the OpenMP build of OpenBLAS
//   -DCAND_BLIS      bli_sgemm (typed API, row/col strides) from BLIS-openmp
//   -DCAND_DNNL      dnnl_sgemm from oneDNN (OpenMP runtime)
//   -DCAND_QKV       our AVX-512 kernel, src/qkv/kernels/gemm_avx512.cpp
// No dependency on the qkv library. bench/run_gemm_candidates.sh builds and
// runs all of them and prints one table.
//
// Usage: gemm_<cand> THREADS PEAK_GFLOPS_PER_CORE [LABEL [nt]]
// With "nt", B is stored (N,K) and used transposed (x @ W^T, as in Linear).
// Prints one line per shape:  label threads M N K best_GFLOPs median_GFLOPs
// %peak(best) maxrelerr. Shapes are (M,N,K): (64,768,768), (256,3072,768),
// (1024,1024,1024), plus small ones (1,768,768), (64,64,64), (17,33,65). Timing: 2 warm-up calls, then repetitions until ~0.4 s
// (at least 10); best and median of those.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#if defined(CAND_OPENBLAS)
#include <cblas.h>
#elif defined(CAND_BLIS)
#include <blis.h>
#elif defined(CAND_DNNL)
#include <oneapi/dnnl/dnnl.h>
#elif defined(CAND_QKV)
#include "../src/qkv/kernels/gemm_avx512.h"
#else
#error "define one of CAND_OPENBLAS, CAND_BLIS, CAND_DNNL, CAND_QKV"
#endif

namespace {

int g_threads = 1;
bool g_trans_b = false;  // op(B) = transpose of a stored (N,K) matrix

void set_threads(int n) {
  g_threads = n;
  omp_set_num_threads(n);
#if defined(CAND_OPENBLAS)
  openblas_set_num_threads(n);
#elif defined(CAND_BLIS)
  bli_thread_set_num_threads(n);
#endif
}

std::string backend_info() {
#if defined(CAND_OPENBLAS)
  return std::string("OpenBLAS core=") + openblas_get_corename() +
         " config=" + openblas_get_config();
#elif defined(CAND_BLIS)
  return std::string("BLIS ") + bli_info_get_version_str() +
         " arch=" + bli_arch_string(bli_arch_query_id());
#elif defined(CAND_DNNL)
  const dnnl_version_t* v = dnnl_version();
  return "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) +
         "." + std::to_string(v->patch) + " cpu_runtime=" +
         std::to_string(v->cpu_runtime);
#else
  return "qkv own AVX-512 kernel (6x64 micro-tile)";
#endif
}

// C(M,N) = A(M,K) @ B(K,N), row-major, minimal leading dimensions.
void gemm(int M, int N, int K, const float* A, const float* B, float* C) {
#if defined(CAND_OPENBLAS)
  cblas_sgemm(CblasRowMajor, CblasNoTrans, g_trans_b ? CblasTrans : CblasNoTrans,
              M, N, K, 1.0f, A, K, B, g_trans_b ? K : N, 0.0f, C, N);
#elif defined(CAND_BLIS)
  float one = 1.0f, zero = 0.0f;
  bli_sgemm(BLIS_NO_TRANSPOSE, g_trans_b ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE,
            M, N, K, &one, const_cast<float*>(A), K, 1, const_cast<float*>(B),
            g_trans_b ? K : N, 1, &zero, C, N, 1);
#elif defined(CAND_DNNL)
  dnnl_sgemm('N', g_trans_b ? 'T' : 'N', M, N, K, 1.0f, A, K, B,
             g_trans_b ? K : N, 0.0f, C, N);
#else
  qkv::kernels::detail::sgemm_avx512(false, g_trans_b, M, N, K, 1.0f, A, K, B,
                                     g_trans_b ? K : N, 0.0f, C, N, g_threads);
#endif
}

double now() {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s THREADS PEAK_GFLOPS_PER_CORE [LABEL]\n",
                 argv[0]);
    return 2;
  }
  const int threads = std::atoi(argv[1]);
  const double peak = std::atof(argv[2]) * threads;
  const std::string label = argc > 3 ? argv[3] : "cand";
  g_trans_b = argc > 4 && std::string(argv[4]) == "nt";
  set_threads(threads);
  std::fprintf(stderr, "# %s: %s\n", label.c_str(), backend_info().c_str());

  // The three sizes of the brief, then small ones where per-call overhead
  // (threading, packing) dominates: a decode-step GEMV, a per-head attention
  // product, an odd tiny case.
  const int shapes[][3] = {{64, 768, 768},   {256, 3072, 768}, {1024, 1024, 1024},
                           {1, 768, 768},    {64, 64, 64},     {17, 33, 65}};
  std::mt19937 rng(42);
  std::uniform_real_distribution<float> U(-1.0f, 1.0f);
  for (const auto& s : shapes) {
    const int M = s[0], N = s[1], K = s[2];
    std::vector<float> A(size_t(M) * K), B(size_t(K) * N), C(size_t(M) * N);
    for (float& x : A) x = U(rng);
    for (float& x : B) x = U(rng);
    for (int w = 0; w < 2; ++w) gemm(M, N, K, A.data(), B.data(), C.data());
    // Sanity: 64 sampled entries against a double-precision dot product.
    double maxrel = 0;
    for (int t = 0; t < 64; ++t) {
      const int i = rng() % M, j = rng() % N;
      double ref = 0, mag = 0;
      for (int k = 0; k < K; ++k) {
        const float b = g_trans_b ? B[size_t(j) * K + k] : B[size_t(k) * N + j];
        ref += double(A[size_t(i) * K + k]) * b;
        mag += std::fabs(double(A[size_t(i) * K + k]) * b);
      }
      maxrel = std::max(maxrel, std::fabs(ref - C[size_t(i) * N + j]) / mag);
    }
    std::vector<double> g;
    const double flop = 2.0 * M * N * K, t_start = now();
    while (g.size() < 10 || (now() - t_start < 0.4 && g.size() < 20000)) {
      const double t0 = now();
      gemm(M, N, K, A.data(), B.data(), C.data());
      g.push_back(flop / (now() - t0) * 1e-9);
    }
    std::sort(g.begin(), g.end());
    std::printf("%s %d %d %d %d %.1f %.1f %.1f %.1e\n", label.c_str(), threads,
                M, N, K, g.back(), g[g.size() / 2], 100.0 * g.back() / peak,
                maxrel);
  }
  return 0;
}
