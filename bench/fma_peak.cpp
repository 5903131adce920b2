// bench/fma_peak.cpp — measure the fp32 FMA peak of this machine, per core.
//
// Runs N_ACC independent FMA chains (acc[i] = acc[i]*a + b) on __m512 and on
// __m256 registers, so that FMA latency is hidden and only FMA throughput
// counts. If 512-bit and 256-bit reach the same FLOP/s, AVX-512 is executed
// as two 256-bit halves ("double-pumped", as on AMD Zen 4).
// Prints GFLOP/s for 1 and 2 threads (OpenMP), best of several repetitions.
//
// Build: g++ -O2 -mavx512f -mfma -fopenmp bench/fma_peak.cpp -o fma_peak
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

namespace {

// Independent chains: must exceed FMA latency (4) x FMA pipes (2). 512-bit
// code has 32 zmm registers; 256-bit code compiled with only -mavx512f has
// 16 ymm registers, so it gets 12 chains (more would spill to the stack).
constexpr int kAcc512 = 24;
constexpr int kAcc256 = 12;
constexpr long kIters = 20000000; // iterations of the inner block per run

double now() {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Returns a value depending on all accumulators so nothing is optimised away.
__attribute__((noinline)) float fma512(long iters) {
  constexpr int kAcc = kAcc512;
  __m512 acc[kAcc];
  for (int i = 0; i < kAcc; ++i) acc[i] = _mm512_set1_ps(0.001f * i);
  const __m512 a = _mm512_set1_ps(0.9999999f), b = _mm512_set1_ps(1e-7f);
  for (long it = 0; it < iters; ++it) {
#pragma GCC unroll 32
    for (int i = 0; i < kAcc; ++i) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
  }
  __m512 s = acc[0];
  for (int i = 1; i < kAcc; ++i) s = _mm512_add_ps(s, acc[i]);
  return _mm512_reduce_add_ps(s);
}

__attribute__((noinline)) float fma256(long iters) {
  constexpr int kAcc = kAcc256;
  __m256 acc[kAcc];
  for (int i = 0; i < kAcc; ++i) acc[i] = _mm256_set1_ps(0.001f * i);
  const __m256 a = _mm256_set1_ps(0.9999999f), b = _mm256_set1_ps(1e-7f);
  for (long it = 0; it < iters; ++it) {
#pragma GCC unroll 32
    for (int i = 0; i < kAcc; ++i) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
  }
  __m256 s = acc[0];
  for (int i = 1; i < kAcc; ++i) s = _mm256_add_ps(s, acc[i]);
  alignas(32) float t[8];
  _mm256_store_ps(t, s);
  float r = 0;
  for (float v : t) r += v;
  return r;
}

// Runs fn on `threads` threads at once; returns total GFLOP/s (best of reps).
template <class Fn>
double measure(Fn fn, int lanes, int chains, int threads, int reps, double* median) {
  std::vector<double> g;
  volatile float sink = 0;
  for (int r = 0; r < reps; ++r) {
    double t0 = 0, t1 = 0;
    float s = 0;
#pragma omp parallel num_threads(threads) reduction(+ : s)
    {
#pragma omp barrier
#pragma omp master
      t0 = now();
      s += fn(kIters);
#pragma omp barrier
#pragma omp master
      t1 = now();
    }
    sink = sink + s;
    double flops = 2.0 * lanes * chains * double(kIters) * threads;
    g.push_back(flops / (t1 - t0) * 1e-9);
  }
  std::sort(g.begin(), g.end());
  *median = g[g.size() / 2];
  return g.back();
}

}  // namespace

int main() {
  const int reps = 7;
  std::printf("fp32 FMA peak, %d (zmm) / %d (ymm) independent chains, "
              "best (median) of %d runs\n", kAcc512, kAcc256, reps);
  std::printf("%-8s %8s %12s %12s %14s\n", "width", "threads", "GFLOP/s",
              "median", "per-core");
  for (int threads : {1, 2}) {
    double med;
    double g = measure(fma512, 16, kAcc512, threads, reps, &med);
    std::printf("%-8s %8d %12.1f %12.1f %14.1f\n", "zmm-512", threads, g, med,
                g / threads);
    g = measure(fma256, 8, kAcc256, threads, reps, &med);
    std::printf("%-8s %8d %12.1f %12.1f %14.1f\n", "ymm-256", threads, g, med,
                g / threads);
  }
  return 0;
}
