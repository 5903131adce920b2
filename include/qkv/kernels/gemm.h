// qkv/kernels/gemm.h — the one GEMM interface every matmul goes through.
//
// Row-major single-precision GEMM:  C = alpha * op(A) @ op(B) + beta * C
//   op(A) is (M,K): A itself (M,K) with leading dimension lda, or, with
//   trans_a, the transpose of a stored (K,M) matrix (no copy is ever made).
//   op(B) is (K,N): B (K,N) or, with trans_b, the transpose of a stored (N,K).
//   C is (M,N) with leading dimension ldc.
// The backend (OpenBLAS, BLIS, oneDNN or our own kernel) is chosen at build
// time by measurement; see bench/RESULTS.md and docs/ARCHITECTURE.md.
// Threads: the call uses the library-wide thread count (qkv::num_threads()),
// unless it runs inside a parallel region, where it runs single-threaded.
#pragma once
#include <cstdint>

namespace qkv::kernels {

void sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K,
           float alpha, const float* A, int64_t lda, const float* B,
           int64_t ldb, float beta, float* C, int64_t ldc);

// Name of the backend compiled in, e.g. "OpenBLAS 0.3.21 (openmp)".
const char* gemm_backend_name();

// Tell the backend how many threads to use. qkv::set_num_threads calls it (gemm.cpp
// registers it with qkv::on_num_threads_change).
void gemm_set_num_threads(int n);

}  // namespace qkv::kernels
