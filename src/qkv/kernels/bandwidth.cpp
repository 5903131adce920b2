// Memory read bandwidth (see qkv/kernels/bandwidth.h).
#include "qkv/kernels/bandwidth.h"

#include <immintrin.h>
#include <omp.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>

#include "isa.h"

namespace qkv::kernels {
namespace {

// 8 accumulators so the adds never wait on each other: memory is the limit.
QKV_TARGET_AVX512 float sum_avx512(const float* p, int64_t n) {
  __m512 a[8];
  for (auto& v : a) v = _mm512_setzero_ps();
  for (int64_t i = 0; i + 128 <= n; i += 128)
    for (int j = 0; j < 8; ++j) a[j] = _mm512_add_ps(a[j], _mm512_load_ps(p + i + 16 * j));
  for (int j = 1; j < 8; ++j) a[0] = _mm512_add_ps(a[0], a[j]);
  return _mm512_reduce_add_ps(a[0]);
}

float sum_avx2(const float* p, int64_t n) {
  __m256 a[8];
  for (auto& v : a) v = _mm256_setzero_ps();
  for (int64_t i = 0; i + 64 <= n; i += 64)
    for (int j = 0; j < 8; ++j) a[j] = _mm256_add_ps(a[j], _mm256_load_ps(p + i + 8 * j));
  for (int j = 1; j < 8; ++j) a[0] = _mm256_add_ps(a[0], a[j]);
  alignas(32) float s[8];
  _mm256_store_ps(s, a[0]);
  return s[0] + s[1] + s[2] + s[3] + s[4] + s[5] + s[6] + s[7];
}

}  // namespace

std::vector<double> read_bandwidth_gbps(int threads, int sweeps, std::size_t bytes) {
  const int64_t n = static_cast<int64_t>(bytes / sizeof(float)) / 128 * 128;
  std::unique_ptr<float, decltype(&std::free)> buf(static_cast<float*>(std::aligned_alloc(64, n * sizeof(float))),
                                                   &std::free);
  float* p = buf.get();
  const bool avx512 = detail::isa().avx512;
  // First touch by the threads that will read it.
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t i = 0; i < n; i += 1024)
    for (int64_t j = i; j < i + 1024 && j < n; ++j) p[j] = 1.0f;
  std::vector<double> gbps;
  volatile float sink = 0;
  for (int r = 0; r <= sweeps; ++r) {
    float total = 0;
    const auto t0 = std::chrono::steady_clock::now();
#pragma omp parallel num_threads(threads) reduction(+ : total)
    {
      const int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
      const int64_t chunk = n / nt / 128 * 128;
      total += avx512 ? sum_avx512(p + t * chunk, chunk) : sum_avx2(p + t * chunk, chunk);
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    sink = sink + total;
    if (r > 0) gbps.push_back(static_cast<double>(n / threads / 128 * 128 * threads) * sizeof(float) / s / 1e9);
  }
  return gbps;
}

}  // namespace qkv::kernels
