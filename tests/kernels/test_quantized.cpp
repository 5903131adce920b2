// tests/kernels/test_quantized.cpp — QuantizedMatrix (bf16, int8 blocks of 32)
// and qgemv: the round-trip error bound of each format, qgemv against a
// reference computed in double from exactly what the kernel multiplies (tight),
// and against the f32 product (a bound derived from the quantization errors);
// M = 1…9 (groups of 4 rows of x), 33 and 100 (> kQgemvMaxRows: the GEMM
// kernels of qgemm_avx512.cpp, or dequantize + sgemm on AVX2), K and N not
// multiples of 16/32/64 (both loop orders, partial tiles), bias or not, the
// AVX-512 and AVX2 paths, 1 and 2 threads.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "qkv/kernels/isa.h"  // private (src/): force_avx2
#include "qkv/core/error.h"
#include "qkv/core/threading.h"
#include "qkv/kernels/quantized.h"

namespace {

using namespace qkv::kernels;

// Values in [-1, 1] scaled per row by 10^(−2…1), so blocks have different scales.
std::vector<float> weights(int64_t N, int64_t K, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> U(-1.0f, 1.0f);
  std::vector<float> w(N * K);
  for (int64_t n = 0; n < N; ++n) {
    const float s = std::pow(10.0f, float(n % 4) - 2.0f);
    for (int64_t k = 0; k < K; ++k) w[n * K + k] = s * U(rng);
  }
  return w;
}

float bits_to_float(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

TEST(Quantized, Bf16RoundsToNearestEven) {
  EXPECT_EQ(float_to_bf16(1.0f), 0x3F80);
  EXPECT_EQ(float_to_bf16(bits_to_float(0x3F808000)), 0x3F80);  // halfway, even below
  EXPECT_EQ(float_to_bf16(bits_to_float(0x3F818000)), 0x3F82);  // halfway, even above
  EXPECT_EQ(float_to_bf16(bits_to_float(0x3F808001)), 0x3F81);  // above halfway
  EXPECT_TRUE(std::isnan(bf16_to_float(float_to_bf16(std::nanf("")))));
  EXPECT_EQ(bf16_to_float(float_to_bf16(-2.5f)), -2.5f);
}

TEST(Quantized, Int8RoundTripWithinHalfAScale) {
  const int64_t N = 7, K = 75;  // 3 blocks, the last one 11 wide
  std::vector<float> w = weights(N, K, 1);
  QuantizedMatrix q = QuantizedMatrix::quantize(w.data(), N, K, K, WeightFormat::Int8);
  EXPECT_EQ(q.padded_cols(), 128);
  EXPECT_EQ(q.bytes(), N * 192);  // 128 values, then 4 scales in a 64-byte slot
  std::vector<float> d(N * K);
  q.dequantize_rows(0, N, d.data(), K);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t b = 0; b * 32 < K; ++b) {
      float amax = 0;
      for (int64_t k = b * 32; k < std::min(K, b * 32 + 32); ++k) amax = std::max(amax, std::fabs(w[n * K + k]));
      const float scale = q.q8_scale(n, b);
      EXPECT_FLOAT_EQ(scale, amax / 127.0f) << "row " << n << " block " << b;
      for (int64_t k = b * 32; k < std::min(K, b * 32 + 32); ++k) {
        EXPECT_LE(std::fabs(w[n * K + k] - d[n * K + k]), scale / 2 * (1 + 1e-6f))
            << "w(" << n << "," << k << ") = " << w[n * K + k] << " scale " << scale;
        EXPECT_LE(std::abs(int(q.q8_value(n, k))), 127);
      }
    }
  // Padding: zero weights, zero scales.
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t k = K; k < q.padded_cols(); ++k) EXPECT_EQ(q.q8_value(n, k), 0);
    EXPECT_EQ(q.q8_scale(n, 3), 0.0f);
  }
}

TEST(Quantized, Bf16RoundTripWithinHalfAnUlp) {
  const int64_t N = 5, K = 70;
  std::vector<float> w = weights(N, K, 2);
  QuantizedMatrix q = QuantizedMatrix::quantize(w.data(), N, K, K, WeightFormat::BF16);
  EXPECT_EQ(q.bytes(), N * 128 * 2);
  std::vector<float> d(N * K);
  q.dequantize_rows(0, N, d.data(), K);
  // 8 significant bits: half an ulp is 2^(e−8) for |w| in [2^e, 2^(e+1)).
  for (int64_t i = 0; i < N * K; ++i)
    EXPECT_LE(std::fabs(w[i] - d[i]), std::ldexp(1.0f, std::ilogb(w[i]) - 8)) << i;
}

TEST(Quantized, BadInputIsRejected) {
  std::vector<float> w{1, 2, std::nanf(""), 4};
  EXPECT_THROW(QuantizedMatrix::quantize(w.data(), 2, 2, 2, WeightFormat::Int8), qkv::ValueError);
  w[2] = 3;
  EXPECT_THROW(QuantizedMatrix::quantize(w.data(), 2, 2, 2, WeightFormat::F32), qkv::ValueError);
  EXPECT_THROW(QuantizedMatrix::quantize(w.data(), 2, 3, 2, WeightFormat::BF16), qkv::ValueError);  // ldw < K
  EXPECT_EQ(parse_weight_format("int8"), WeightFormat::Int8);
  EXPECT_EQ(parse_weight_format("bf16"), WeightFormat::BF16);
  EXPECT_EQ(parse_weight_format("f32"), WeightFormat::F32);
  try {
    parse_weight_format("int4");
    FAIL() << "int4 accepted";
  } catch (const qkv::ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("f32, bf16 or int8, got 'int4'"), std::string::npos) << e.what();
  }
}

// ------------------------------------------------------------------- qgemv

struct Problem {
  int64_t M, N, K;
  bool bias;
  WeightFormat format;
  std::string name() const {
    return std::string(weight_format_name(format)) + " M=" + std::to_string(M) + " N=" + std::to_string(N) +
           " K=" + std::to_string(K) + (bias ? " bias" : "");
  }
};

// What qgemv computes, in double, and a bound on its distance from the f32
// product x·wᵀ. int8 with M ≤ kQgemvMaxRows or VNNI: Σ_b d_x d_w Σ q_x q_w (x
// quantized as the kernel does); bf16 with AVX512_BF16:
// bf16(x)·ŵ; otherwise x·deq(W)ᵀ. The f32 bound:
// x·w − x̂·ŵ = x·(w − ŵ) + (x − x̂)·ŵ, |w − ŵ| ≤ d_w/2, |x − x̂| ≤ d_x/2 (int8),
// or |w − ŵ| ≤ 2⁻⁸|w| and |x − x̂| ≤ 2⁻⁸|x| (bf16).
struct Reference {
  std::vector<double> exact, f32, bound, scale;  // scale = Σ|x||w| + |bias|
};

Reference reference(const Problem& p, const std::vector<float>& x, const std::vector<float>& w,
                    const std::vector<float>& b, const QuantizedMatrix& q) {
  Reference r;
  const int64_t K = p.K, Kp = q.padded_cols();
  std::vector<float> deq(p.N * K);
  q.dequantize_rows(0, p.N, deq.data(), K);
  const detail::Isa isa = detail::isa();
  const bool gemm = p.M > kQgemvMaxRows;
  const bool quantized_x = p.format == WeightFormat::Int8 && (!gemm || isa.vnni);
  const bool rounded_x = p.format == WeightFormat::BF16 && isa.bf16;
  for (int64_t m = 0; m < p.M; ++m) {
    std::vector<int8_t> qx(Kp);
    std::vector<float> dx(Kp / 32);
    quantize_row_q8(x.data() + m * K, K, Kp, qx.data(), dx.data());
    for (int64_t n = 0; n < p.N; ++n) {
      double e = p.bias ? b[n] : 0.0, f = e, bound = 0, scale = std::fabs(e);
      for (int64_t k = 0; k < K; ++k) {
        const double xv = x[m * K + k], wv = w[n * K + k];
        f += xv * wv;
        scale += std::fabs(xv * wv);
        if (!quantized_x) e += (rounded_x ? bf16_to_float(float_to_bf16(x[m * K + k])) : xv) * deq[n * K + k];
        if (p.format == WeightFormat::Int8)
          bound += std::fabs(xv) * q.q8_scale(n, k / 32) / 2 + dx[k / 32] / 2 * std::fabs(deq[n * K + k]);
        else
          bound += std::fabs(xv * wv) * std::ldexp(1.0, -8) * (rounded_x ? 2.01 : 1.0);
      }
      if (quantized_x)
        for (int64_t blk = 0; blk < Kp / 32; ++blk) {
          int64_t dot = 0;
          for (int64_t k = blk * 32; k < blk * 32 + 32; ++k) dot += int64_t(qx[k]) * q.q8_value(n, k);
          e += double(dx[blk]) * q.q8_scale(n, blk) * double(dot);
        }
      r.exact.push_back(e);
      r.f32.push_back(f);
      r.bound.push_back(bound);
      r.scale.push_back(scale);
    }
  }
  return r;
}

void check(const Problem& p) {
  std::vector<float> x = weights(p.M, p.K, 10), w = weights(p.N, p.K, 11), b = weights(1, p.N, 12);
  for (auto& v : x) v *= 100;  // activations of order 1 … 100
  QuantizedMatrix q = QuantizedMatrix::quantize(w.data(), p.N, p.K, p.K, p.format);
  Reference r = reference(p, x, w, b, q);
  std::vector<float> y1(p.M * p.N), y2(p.M * p.N);
  qkv::set_num_threads(1);
  qgemv(p.M, x.data(), p.K, q, p.bias ? b.data() : nullptr, y1.data(), p.N);
  qkv::set_num_threads(2);
  qgemv(p.M, x.data(), p.K, q, p.bias ? b.data() : nullptr, y2.data(), p.N);
  for (int64_t i = 0; i < p.M * p.N; ++i) {
    // f32 sums of K products (or K/32 block sums): relative 1e-5 of Σ|terms|;
    // bf16 with x = hi + lo: x is exact to ~2⁻¹⁶.
    const double tight = 1e-5 * r.scale[i] + 1e-6;
    ASSERT_NEAR(y1[i], r.exact[i], tight) << p.name() << " element " << i;
    ASSERT_NEAR(y1[i], r.f32[i], r.bound[i] * 1.001 + tight) << p.name() << " element " << i << " vs f32";
    ASSERT_EQ(y1[i], y2[i]) << p.name() << ": 1 and 2 threads differ at " << i;
  }
}

void check_all() {
  for (WeightFormat f : {WeightFormat::Int8, WeightFormat::BF16}) {
    for (int64_t M : {1, 2, 3, 4, 5, 6, 7, 8, 9, 33, 100})
      for (auto [N, K] : {std::pair<int64_t, int64_t>{1, 1}, {5, 33}, {17, 70}, {9, 200}, {6, 1500}, {5, 3000}})
        for (bool bias : {false, true}) check({M, N, K, bias, f});
    // > 2 MB of weights: a team of 2 splits the rows (split_rows.h)
    for (int64_t M : {1, 6, 33, 64}) check({M, 1001, 2000, true, f});
  }
}

}  // namespace

TEST(Qgemv, MatchesReferencesAvx512OrBest) {
  check_all();
  qkv::set_num_threads(qkv::physical_cores());
}

TEST(Qgemv, MatchesReferencesAvx2Fallback) {
  qkv::kernels::detail::force_avx2(true);
  check_all();
  qkv::kernels::detail::force_avx2(false);
  qkv::set_num_threads(qkv::physical_cores());
}

TEST(Qgemv, NonFiniteActivationsPropagate) {
  const int64_t N = 4, K = 40;
  for (int64_t M : {int64_t{1}, kQgemvMaxRows + 8}) {  // the GEMV and the GEMM paths
    std::vector<float> w = weights(N, K, 3), x(M * K, 1.0f);
    for (int64_t m = 0; m < M; ++m) x[m * K + 35] = m % 2 ? std::numeric_limits<float>::infinity() : std::nanf("");
    for (WeightFormat f : {WeightFormat::Int8, WeightFormat::BF16}) {
      QuantizedMatrix q = QuantizedMatrix::quantize(w.data(), N, K, K, f);
      std::vector<float> y(M * N);
      qgemv(M, x.data(), K, q, nullptr, y.data(), N);
      for (int64_t m = 0; m < M; ++m)
        for (int64_t n = 0; n < N; ++n)
          EXPECT_FALSE(std::isfinite(y[m * N + n])) << weight_format_name(f) << " M=" << M << " row " << m;
    }
  }
}
