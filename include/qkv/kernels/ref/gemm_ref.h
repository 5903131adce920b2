// qkv/kernels/ref/gemm_ref.h — the plain triple-loop GEMM every fast backend
// is tested against.
//
// Same contract as qkv::kernels::sgemm (see qkv/kernels/gemm.h):
//   C(M,N) = alpha * op(A)(M,K) @ op(B)(K,N) + beta * C, row-major,
//   op(A) = A (M,K; lda) or, with trans_a, the transpose of a stored (K,M);
//   op(B) = B (K,N; ldb) or, with trans_b, the transpose of a stored (N,K).
// BLAS semantics: beta == 0 overwrites C without reading it (NaNs in C do not
// propagate); K == 0 or alpha == 0 gives C = beta * C; M or N == 0 is a no-op.
// Sums are accumulated in double, so this is also more accurate than any
// backend. Single-threaded and slow: for tests and as a last-resort fallback.
#pragma once
#include <cstdint>

namespace qkv::kernels {

void sgemm_ref(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K,
               float alpha, const float* A, int64_t lda, const float* B,
               int64_t ldb, float beta, float* C, int64_t ldc);

}  // namespace qkv::kernels
