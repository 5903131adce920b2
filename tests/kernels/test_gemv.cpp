// tests/kernels/test_gemv.cpp — kernels::gemv_f32 against the triple-loop
// sgemm_ref: M = 1…9, N and K not multiples of 16 (SIMD tails), with and
// without bias, padded strides, both loop orders (row by row / 4 rows), the
// AVX-512 and the AVX2 paths, 1 and 2 threads (bitwise equal), and calls from
// inside a parallel region.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "qkv/kernels/isa.h"  // private (src/): force_avx2
#include "qkv/core/threading.h"
#include "qkv/kernels/bandwidth.h"
#include "qkv/kernels/gemv.h"
#include "qkv/kernels/ref/gemm_ref.h"

namespace {

using qkv::kernels::gemv_f32;

std::vector<float> uniform(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> U(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = U(rng);
  return v;
}

struct Case {
  int64_t M, N, K, pad;
  bool bias;
  std::string name() const {
    return "M=" + std::to_string(M) + " N=" + std::to_string(N) + " K=" + std::to_string(K) +
           " pad=" + std::to_string(pad) + (bias ? " bias" : "");
  }
};

// Runs gemv_f32 and returns y (M rows of ldy = N + pad; padding must stay NaN).
std::vector<float> run(const Case& c, const std::vector<float>& x, const std::vector<float>& W,
                       const std::vector<float>& b) {
  const int64_t ldx = c.K + c.pad, ldw = c.K + c.pad, ldy = c.N + c.pad;
  std::vector<float> y(c.M * ldy, std::nanf(""));
  gemv_f32(c.M, c.N, c.K, x.data(), ldx, W.data(), ldw, c.bias ? b.data() : nullptr, y.data(), ldy);
  return y;
}

void check(const Case& c) {
  const int64_t ldx = c.K + c.pad, ldw = c.K + c.pad, ldy = c.N + c.pad;
  std::vector<float> x = uniform(c.M * ldx, 1), W = uniform(c.N * ldw, 2), b = uniform(c.N, 3);
  // reference: y = bias (or 0), then y += x Wᵀ
  std::vector<float> want(c.M * ldy, 0.0f);
  for (int64_t m = 0; m < c.M; ++m)
    for (int64_t n = 0; n < c.N; ++n) want[m * ldy + n] = c.bias ? b[n] : 0.0f;
  qkv::kernels::sgemm_ref(false, true, c.M, c.N, c.K, 1.0f, x.data(), ldx, W.data(), ldw, 1.0f, want.data(), ldy);
  qkv::set_num_threads(1);
  std::vector<float> one = run(c, x, W, b);
  qkv::set_num_threads(2);
  std::vector<float> two = run(c, x, W, b);
  const double tol = 1e-5 * double(std::max<int64_t>(c.K, 1));  // entries in [-1, 1]
  for (int64_t m = 0; m < c.M; ++m)
    for (int64_t j = 0; j < ldy; ++j) {
      const float g = one[m * ldy + j];
      if (j >= c.N) {
        ASSERT_TRUE(std::isnan(g)) << c.name() << ": wrote padding at (" << m << "," << j << ")";
        continue;
      }
      ASSERT_NEAR(g, want[m * ldy + j], tol) << c.name() << " at (" << m << "," << j << ")";
      ASSERT_EQ(g, two[m * ldy + j]) << c.name() << ": 1 and 2 threads differ at (" << m << "," << j << ")";
    }
}

void check_all() {
  for (int64_t M = 1; M <= 9; ++M)
    // 700×800 is 2.2 MB of weights: large enough for a team of 2 (split_rows.h)
    for (auto [N, K] : {std::pair<int64_t, int64_t>{1, 1}, {5, 3}, {17, 31}, {33, 100}, {70, 257}, {9, 1500}, {701, 800}})
      for (bool bias : {false, true}) check({M, N, K, M == 3 ? 5 : 0, bias});
}

}  // namespace

TEST(Gemv, MatchesReferenceAvx512OrBest) {
  check_all();
  qkv::set_num_threads(qkv::physical_cores());
}

TEST(Gemv, MatchesReferenceAvx2Fallback) {
  qkv::kernels::detail::force_avx2(true);
  check_all();
  qkv::kernels::detail::force_avx2(false);
  qkv::set_num_threads(qkv::physical_cores());
}

TEST(Gemv, EmptyAndZeroK) {
  std::vector<float> y(6, 7.0f), b{1, 2, 3};
  gemv_f32(0, 3, 4, nullptr, 4, nullptr, 4, nullptr, y.data(), 3);  // M = 0: nothing
  EXPECT_EQ(y[0], 7.0f);
  gemv_f32(2, 3, 0, nullptr, 0, nullptr, 0, b.data(), y.data(), 3);  // K = 0: y = bias
  EXPECT_EQ(y, (std::vector<float>{1, 2, 3, 1, 2, 3}));
  gemv_f32(2, 3, 0, nullptr, 0, nullptr, 0, nullptr, y.data(), 3);
  EXPECT_EQ(y, std::vector<float>(6, 0.0f));
}

TEST(Gemv, InsideAParallelRegion) {
  const int64_t M = 2, N = 37, K = 45;
  std::vector<float> x = uniform(M * K, 4), W = uniform(N * K, 5);
  std::vector<float> want(M * N, 0.0f);
  qkv::kernels::sgemm_ref(false, true, M, N, K, 1.0f, x.data(), K, W.data(), K, 0.0f, want.data(), N);
  std::vector<std::vector<float>> got(4, std::vector<float>(M * N));
#pragma omp parallel for num_threads(2)
  for (int i = 0; i < 4; ++i) gemv_f32(M, N, K, x.data(), K, W.data(), K, nullptr, got[i].data(), N);
  for (const auto& g : got)
    for (int64_t i = 0; i < M * N; ++i) ASSERT_NEAR(g[i], want[i], 1e-4);
}

// The bandwidth probe behind `qkv bench --bandwidth`: one positive figure per
// timed sweep, on both vector paths (a small buffer: this checks the loop, not
// the machine).
TEST(Gemv, ReadBandwidthProbeReturnsOneFigurePerSweep) {
  for (bool avx2 : {false, true}) {
    qkv::kernels::detail::force_avx2(avx2);
    const std::vector<double> g = qkv::kernels::read_bandwidth_gbps(2, 3, size_t(4) << 20);
    ASSERT_EQ(g.size(), 3u);
    for (double v : g) EXPECT_GT(v, 0.0);
  }
  qkv::kernels::detail::force_avx2(false);
}
