// qkv/kernels/gemm_avx512.h — private: our own AVX-512 fp32 GEMM.
//
// Same contract as qkv::kernels::sgemm (row-major, C = alpha*op(A)@op(B) +
// beta*C, transposes handled by packing, any M/N/K incl. 0, any ld >= min),
// plus an explicit thread count. Only call it when the CPU has AVX-512F
// (gemm.cpp checks __builtin_cpu_supports("avx512f")). Its .cpp is compiled
// with per-file -mavx512f/-mfma flags; nothing else in the library needs them.
#pragma once
#include <cstdint>

namespace qkv::kernels::detail {

// nthreads <= 1 runs on the calling thread; otherwise an OpenMP team of
// nthreads splits C into disjoint blocks (no atomics, deterministic result
// for a given thread count).
void sgemm_avx512(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K,
                  float alpha, const float* A, int64_t lda, const float* B,
                  int64_t ldb, float beta, float* C, int64_t ldc,
                  int nthreads);

}  // namespace qkv::kernels::detail
