// tests/kernels/test_gemm.cpp — qkv::kernels::sgemm (whatever backend is
// compiled in) against the triple-loop sgemm_ref: all four transpose cases,
// odd sizes, padded leading dimensions, alpha/beta, zero sizes, calls from
// inside an OpenMP parallel region, and 1 vs 2 threads.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "qkv/kernels/gemm.h"
#include "qkv/kernels/ref/gemm_ref.h"

namespace {

using qkv::kernels::sgemm;
using qkv::kernels::sgemm_ref;

// One GEMM problem with its own buffers. Leading dimensions are the minimal
// ones plus `pad`; padding is filled with a sentinel that must survive.
struct Problem {
  bool ta, tb;
  int64_t M, N, K, lda, ldb, ldc;
  std::vector<float> A, B, C;
  static constexpr float kSentinel = 12345.0f;

  Problem(bool ta_, bool tb_, int64_t M_, int64_t N_, int64_t K_, int64_t pad,
          uint32_t seed)
      : ta(ta_), tb(tb_), M(M_), N(N_), K(K_) {
    // stored A: (M,K) or, transposed, (K,M); stored B: (K,N) or (N,K)
    const int64_t a_rows = ta ? K : M, a_cols = ta ? M : K;
    const int64_t b_rows = tb ? N : K, b_cols = tb ? K : N;
    lda = a_cols + pad;
    ldb = b_cols + pad;
    ldc = N + pad;
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> U(-1.0f, 1.0f);
    A.assign(size_t(std::max<int64_t>(a_rows * lda, 1)), kSentinel);
    B.assign(size_t(std::max<int64_t>(b_rows * ldb, 1)), kSentinel);
    C.assign(size_t(std::max<int64_t>(M * ldc, 1)), kSentinel);
    for (int64_t r = 0; r < a_rows; ++r)
      for (int64_t c = 0; c < a_cols; ++c) A[r * lda + c] = U(rng);
    for (int64_t r = 0; r < b_rows; ++r)
      for (int64_t c = 0; c < b_cols; ++c) B[r * ldb + c] = U(rng);
    for (int64_t r = 0; r < M; ++r)
      for (int64_t c = 0; c < N; ++c) C[r * ldc + c] = U(rng);
  }

  std::string name() const {
    return std::string(ta ? "T" : "N") + (tb ? "T" : "N") + " M=" +
           std::to_string(M) + " N=" + std::to_string(N) +
           " K=" + std::to_string(K) + " lda=" + std::to_string(lda) +
           " ldb=" + std::to_string(ldb) + " ldc=" + std::to_string(ldc);
  }
};

// Runs sgemm and sgemm_ref on copies of p.C and compares them.
void check(const Problem& p, float alpha, float beta) {
  std::vector<float> got = p.C, want = p.C;
  sgemm(p.ta, p.tb, p.M, p.N, p.K, alpha, p.A.data(), p.lda, p.B.data(), p.ldb,
        beta, got.data(), p.ldc);
  sgemm_ref(p.ta, p.tb, p.M, p.N, p.K, alpha, p.A.data(), p.lda, p.B.data(),
            p.ldb, beta, want.data(), p.ldc);
  // |error| <= 1e-5 * K * scale; entries of A, B, C are in [-1, 1].
  const double tol =
      1e-5 * double(std::max<int64_t>(p.K, 1)) *
      (std::fabs(alpha) + std::fabs(beta) + 1e-3);
  int reported = 0;
  for (int64_t i = 0; i < p.M; ++i) {
    for (int64_t j = 0; j < p.ldc; ++j) {
      const float g = got[i * p.ldc + j], w = want[i * p.ldc + j];
      if (j >= p.N) {  // padding: never written
        ASSERT_EQ(g, Problem::kSentinel) << p.name() << " wrote padding at ("
                                         << i << "," << j << ")";
        continue;
      }
      if (!(std::fabs(double(g) - double(w)) <= tol) && reported++ < 5)
        ADD_FAILURE() << p.name() << " alpha=" << alpha << " beta=" << beta
                      << " at (" << i << "," << j << "): got " << g
                      << " want " << w << " tol " << tol;
    }
  }
  ASSERT_EQ(reported, 0) << "mismatches in " << p.name();
}

const int64_t kOdd[] = {1, 3, 17, 33, 65, 129};

TEST(Gemm, BackendName) {
  const char* name = qkv::kernels::gemm_backend_name();
  ASSERT_NE(name, nullptr);
  EXPECT_GT(std::string(name).size(), 0u);
  std::printf("gemm backend: %s\n", name);
}

TEST(Gemm, AllTransposesOddSizes) {
  uint32_t seed = 1;
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (int64_t M : kOdd)
        for (int64_t N : kOdd)
          for (int64_t K : kOdd) check(Problem(ta, tb, M, N, K, 0, seed++), 1.0f, 0.0f);
}

TEST(Gemm, PaddedLeadingDimensions) {
  uint32_t seed = 100;
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (int64_t pad : {1, 7, 64})
        for (auto [M, N, K] : {std::tuple<int64_t, int64_t, int64_t>{17, 33, 65},
                               {65, 129, 3}, {3, 1, 129}, {129, 65, 33}})
          check(Problem(ta, tb, M, N, K, pad, seed++), 1.0f, 0.0f);
}

TEST(Gemm, AlphaBeta) {
  uint32_t seed = 200;
  const float ab[][2] = {{1, 0}, {0.5f, 0}, {1, 1}, {-2, 0.25f}, {0.75f, -1},
                         {0, 0.5f}, {0, 0}, {0, 1}};
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (const auto& v : ab)
        check(Problem(ta, tb, 33, 65, 17, 3, seed++), v[0], v[1]);
}

TEST(Gemm, BetaZeroIgnoresNaNInC) {
  Problem p(false, false, 17, 33, 9, 2, 7);
  for (int64_t i = 0; i < p.M; ++i)
    for (int64_t j = 0; j < p.N; ++j)
      p.C[i * p.ldc + j] = std::numeric_limits<float>::quiet_NaN();
  check(p, 1.0f, 0.0f);
}

TEST(Gemm, ZeroSizes) {
  // M == 0 or N == 0: nothing is touched (C may even be null).
  sgemm(false, false, 0, 5, 5, 1.0f, nullptr, 5, nullptr, 5, 0.0f, nullptr, 5);
  sgemm(true, true, 5, 0, 5, 1.0f, nullptr, 5, nullptr, 5, 0.0f, nullptr, 1);
  // K == 0: C = beta * C, A and B never read.
  for (float beta : {0.0f, 1.0f, 0.5f}) {
    Problem p(false, true, 9, 17, 0, 3, 11);
    check(p, 1.0f, beta);
    std::vector<float> c = p.C;
    sgemm(false, true, p.M, p.N, 0, 1.0f, nullptr, 1, nullptr, 1, beta,
          c.data(), p.ldc);
    for (int64_t i = 0; i < p.M; ++i)
      for (int64_t j = 0; j < p.N; ++j)
        EXPECT_EQ(c[i * p.ldc + j], beta == 0.0f ? 0.0f : beta * p.C[i * p.ldc + j]);
  }
}

TEST(Gemm, LargerThanOneCacheBlock) {
  // Bigger than the backends' K/M/N blocks, so multi-block paths run.
  uint32_t seed = 300;
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      check(Problem(ta, tb, 101, 3100, 517, 5, seed++), 1.0f, 0.5f);
}

TEST(Gemm, OneAndTwoThreadsAgree) {
  for (int n : {1, 2}) {
    qkv::kernels::gemm_set_num_threads(n);
    for (bool tb : {false, true})
      check(Problem(false, tb, 64, 768, 768, 0, 400 + n), 1.0f, 0.0f);
    check(Problem(true, false, 256, 96, 200, 1, 410 + n), 1.0f, 1.0f);
  }
  qkv::kernels::gemm_set_num_threads(omp_get_num_procs());
}

TEST(Gemm, InsideParallelRegion) {
  // Each thread of an outer team does its own GEMM; the backend must run
  // single-threaded there and still be right.
  const int T = 4;
  std::vector<Problem> ps;
  for (int t = 0; t < T; ++t)
    ps.emplace_back(t % 2 == 1, t / 2 == 1, 70 + t, 130 + t, 90 + t, t, 500 + t);
  std::vector<std::vector<float>> got(T), want(T);
  for (int t = 0; t < T; ++t) got[t] = want[t] = ps[t].C;
  int in_parallel = 0;
#pragma omp parallel for num_threads(T) schedule(static, 1) reduction(+ : in_parallel)
  for (int t = 0; t < T; ++t) {
    const Problem& p = ps[t];
    in_parallel += omp_in_parallel() ? 1 : 0;
    sgemm(p.ta, p.tb, p.M, p.N, p.K, 1.0f, p.A.data(), p.lda, p.B.data(), p.ldb,
          0.0f, got[t].data(), p.ldc);
  }
  EXPECT_EQ(in_parallel, T);
  for (int t = 0; t < T; ++t) {
    const Problem& p = ps[t];
    sgemm_ref(p.ta, p.tb, p.M, p.N, p.K, 1.0f, p.A.data(), p.lda, p.B.data(),
              p.ldb, 0.0f, want[t].data(), p.ldc);
    for (int64_t i = 0; i < p.M; ++i)
      for (int64_t j = 0; j < p.N; ++j)
        ASSERT_NEAR(got[t][i * p.ldc + j], want[t][i * p.ldc + j], 1e-5 * p.K)
            << p.name();
  }
}

}  // namespace
