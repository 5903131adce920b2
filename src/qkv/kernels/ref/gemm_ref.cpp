// qkv/kernels/ref/gemm_ref.cpp — reference GEMM: three loops, no tricks.
#include "qkv/kernels/ref/gemm_ref.h"

namespace qkv::kernels {

void sgemm_ref(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K,
               float alpha, const float* A, int64_t lda, const float* B,
               int64_t ldb, float beta, float* C, int64_t ldc) {
  // op(A) is (M,K), op(B) is (K,N), C is (M,N)
  for (int64_t i = 0; i < M; ++i) {
    for (int64_t j = 0; j < N; ++j) {
      double acc = 0.0;
      if (alpha != 0.0f) {
        for (int64_t k = 0; k < K; ++k) {
          const float a = trans_a ? A[k * lda + i] : A[i * lda + k];
          const float b = trans_b ? B[j * ldb + k] : B[k * ldb + j];
          acc += double(a) * double(b);
        }
      }
      float& c = C[i * ldc + j];
      const double prev = beta == 0.0f ? 0.0 : double(beta) * double(c);
      c = float(double(alpha) * acc + prev);
    }
  }
}

}  // namespace qkv::kernels
