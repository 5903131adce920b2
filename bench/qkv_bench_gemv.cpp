// qkv_bench_gemv — the decoding products in isolation: how fast weights stream
// through a matrix-vector product, against the machine's read bandwidth.
//
//   qkv_bench_gemv [--threads 1,2] [--reps R] [--rows 1,2,3,4,6,8] [--formats f32,bf16,int8] CASE...
//   CASE: bandwidth gemv qgemv invariant
//
//   bandwidth  sum of a 1 GiB float buffer (AVX-512, 8 accumulators), each
//              thread over its own slice: GB/s read. The bound for GEMV.
//   gemv       y(M,N) = x(M,K)·Wᵀ on the GPT-2 124M shapes K→N: 768→2304
//              (c_attn), 768→768 (attn c_proj), 768→3072 (c_fc), 3072→768
//              (mlp c_proj), 768→50257 (lm_head); kernels::gemv_f32 against
//              kernels::sgemm(trans_b) — the backend linear() used before.
//   qgemv      the same shapes through kernels::qgemv with weights in bf16 and
//              int8 (Q8_0 blocks), and f32 gemv_f32 for reference.
//   invariant  linear() / linear_quantized() on the same shapes as continuous
//              batching decodes M rows: the default kernels against
//              kernels::RowInvariantScope (every row in the order of a row
//              alone, kernels/row_invariant.h) — what bit-exact batching costs.
//
// Each call reads W from memory, not cache: the benchmark cycles through
// enough copies of W to fill 256 MiB (8× the L3). GB/s = weight bytes / time
// per call (for int8 the bytes include the scales). Best and median of R
// sweeps over the copies.
// GCC 12 false positive: _mm512 reductions/casts are built on _mm512_undefined_*(),
// which -W(maybe-)uninitialized flags once inlined (as in gemm_avx512.cpp).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "bench_util.h"
#include "qkv/autograd/autograd.h"
#include "qkv/core/threading.h"
#include "qkv/kernels/bandwidth.h"
#include "qkv/kernels/gemm.h"
#include "qkv/kernels/gemv.h"
#include "qkv/kernels/quantized.h"
#include "qkv/kernels/row_invariant.h"
#include "qkv/ops/ops.h"
#include "qkv/ops/quantized.h"

using namespace qkv;
using Clock = std::chrono::steady_clock;

namespace {

int g_reps = 5;
std::vector<int> g_threads{1, 2};
std::vector<int64_t> g_rows{1, 2, 3, 4, 6, 8};
std::string g_formats = "f32,bf16,int8";

std::vector<int64_t> parse_list(const std::string& s) {
  std::vector<int64_t> v;
  size_t p = 0;
  while (p < s.size()) {
    size_t q = s.find(',', p);
    if (q == std::string::npos) q = s.size();
    v.push_back(std::atoll(s.substr(p, q - p).c_str()));
    p = q + 1;
  }
  return v;
}

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// ---------------------------------------------------------------- bandwidth

void bench_bandwidth() {
  for (int T : g_threads) {
    const std::vector<double> s = kernels::read_bandwidth_gbps(T, g_reps);
    std::printf("bandwidth  1 GiB read  threads %d  best %6.2f GB/s  median %6.2f GB/s\n", T,
                *std::max_element(s.begin(), s.end()), bench::summarize(s).median);
  }
}

// ---------------------------------------------------------------- products

struct Shape2 {
  const char* name;
  int64_t K, N;
};
const Shape2 kShapes[] = {{"c_attn", 768, 2304},
                          {"attn.c_proj", 768, 768},
                          {"c_fc", 768, 3072},
                          {"mlp.c_proj", 3072, 768},
                          {"lm_head", 768, 50257}};

int64_t copies_for(int64_t bytes) { return std::max<int64_t>(1, ((int64_t(256) << 20) + bytes - 1) / bytes); }

// Seconds per call of fn(copy) over `copies` copies: best and median of sweeps.
bench::Timing time_calls(int64_t copies, const std::function<void(int64_t)>& fn) {
  for (int64_t c = 0; c < copies; ++c) fn(c);  // warm-up sweep
  std::vector<double> s;
  for (int r = 0; r < g_reps; ++r) {
    auto t0 = Clock::now();
    for (int64_t c = 0; c < copies; ++c) fn(c);
    s.push_back(seconds_since(t0) / copies);
  }
  return bench::summarize(s);
}

// 64-byte aligned, as Tensor storage is (a misaligned zmm load costs two).
template <class T>
struct Aligned64 {
  using value_type = T;
  Aligned64() = default;
  template <class U>
  Aligned64(const Aligned64<U>&) {}
  T* allocate(size_t n) { return static_cast<T*>(std::aligned_alloc(64, (n * sizeof(T) + 63) / 64 * 64)); }
  void deallocate(T* p, size_t) { std::free(p); }
  bool operator==(const Aligned64&) const { return true; }
};
using Floats = std::vector<float, Aligned64<float>>;

Floats random_floats(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> U(-1.0f, 1.0f);
  Floats v(n);
  for (auto& x : v) x = U(rng);
  return v;
}

void bench_gemv() {
  for (const Shape2& s : kShapes) {
    const int64_t bytes = s.N * s.K * 4, copies = copies_for(bytes);
    std::vector<Floats> W(copies);
    for (int64_t c = 0; c < copies; ++c) W[c] = random_floats(s.N * s.K, uint32_t(c));
    Floats bias = random_floats(s.N, 99);
    for (int T : g_threads) {
      set_num_threads(T);
      for (int64_t M : g_rows) {
        Floats x = random_floats(M * s.K, 7), y(M * s.N);
        bench::Timing g = time_calls(copies, [&](int64_t c) {
          kernels::gemv_f32(M, s.N, s.K, x.data(), s.K, W[c].data(), s.K, bias.data(), y.data(), s.N);
        });
        bench::Timing b = time_calls(copies, [&](int64_t c) {
          // linear()'s old path: C = bias, then C += x Wᵀ
          for (int64_t m = 0; m < M; ++m) std::memcpy(y.data() + m * s.N, bias.data(), s.N * 4);
          kernels::sgemm(false, true, M, s.N, s.K, 1.0f, x.data(), s.K, W[c].data(), s.K, 1.0f, y.data(), s.N);
        });
        std::printf("gemv  %-11s K%-4ld N%-5ld M%ld  threads %d  gemv %7.1f us %6.1f GB/s (median %6.1f)  "
                    "sgemm %7.1f us %6.1f GB/s (median %6.1f)  sgemm/gemv %.2f\n",
                    s.name, (long)s.K, (long)s.N, (long)M, T, g.best * 1e6, bytes / g.best / 1e9,
                    bytes / g.median / 1e9, b.best * 1e6, bytes / b.best / 1e9, bytes / b.median / 1e9,
                    b.best / g.best);
        std::fflush(stdout);
      }
    }
  }
}

void bench_qgemv() {
  std::vector<kernels::WeightFormat> formats;
  for (const char* f : {"f32", "bf16", "int8"})
    if (g_formats.find(f) != std::string::npos) formats.push_back(kernels::parse_weight_format(f));
  for (const Shape2& s : kShapes) {
    Floats bias = random_floats(s.N, 99);
    for (kernels::WeightFormat fmt : formats) {
      // One quantized copy per slot; f32 uses the plain matrix.
      const int64_t probe_bytes =
          fmt == kernels::WeightFormat::F32
              ? s.N * s.K * 4
              : kernels::QuantizedMatrix::quantize(random_floats(s.K, 1).data(), 1, s.K, s.K, fmt).bytes() * s.N;
      const int64_t copies = copies_for(probe_bytes);
      std::vector<Floats> Wf;
      std::vector<kernels::QuantizedMatrix> Wq;
      int64_t bytes = 0;
      for (int64_t c = 0; c < copies; ++c) {
        Floats w = random_floats(s.N * s.K, uint32_t(c));
        if (fmt == kernels::WeightFormat::F32) {
          Wf.push_back(std::move(w));
          bytes = s.N * s.K * 4;
        } else {
          Wq.push_back(kernels::QuantizedMatrix::quantize(w.data(), s.N, s.K, s.K, fmt));
          bytes = Wq.back().bytes();
        }
      }
      for (int T : g_threads) {
        set_num_threads(T);
        for (int64_t M : g_rows) {
          Floats x = random_floats(M * s.K, 7), y(M * s.N);
          bench::Timing t = time_calls(copies, [&](int64_t c) {
            if (fmt == kernels::WeightFormat::F32)
              kernels::gemv_f32(M, s.N, s.K, x.data(), s.K, Wf[c].data(), s.K, bias.data(), y.data(), s.N);
            else
              kernels::qgemv(M, x.data(), s.K, Wq[c], bias.data(), y.data(), s.N);
          });
          std::printf("qgemv %-11s K%-4ld N%-5ld M%ld  threads %d  %-4s %7.1f us  %6.1f GB/s (median %6.1f)  "
                      "%.2f MB\n",
                      s.name, (long)s.K, (long)s.N, (long)M, T, kernels::weight_format_name(fmt), t.best * 1e6,
                      bytes / t.best / 1e9, bytes / t.median / 1e9, bytes / 1e6);
          std::fflush(stdout);
        }
      }
    }
  }
}

// linear() (f32) or linear_quantized() over M rows, default kernels against
// RowInvariantScope, on weights cycled from memory as above.
void bench_invariant() {
  std::vector<kernels::WeightFormat> formats;
  for (const char* f : {"f32", "bf16", "int8"})
    if (g_formats.find(f) != std::string::npos) formats.push_back(kernels::parse_weight_format(f));
  NoGradGuard ng;
  for (const Shape2& s : kShapes)
    for (kernels::WeightFormat fmt : formats) {
      const bool f32 = fmt == kernels::WeightFormat::F32;
      const int64_t copies = copies_for(f32 ? s.N * s.K * 4 : s.N * s.K * 9 / 8);
      std::vector<Tensor> Wf;
      std::vector<kernels::QuantizedMatrix> Wq;
      Generator gen(1);
      for (int64_t c = 0; c < copies; ++c) {
        Tensor w = randn({s.N, s.K}, gen);
        if (f32) Wf.push_back(w);
        else Wq.push_back(kernels::QuantizedMatrix::quantize(w.data<float>(), s.N, s.K, s.K, fmt));
      }
      const Tensor bias = randn({s.N}, gen);
      for (int T : g_threads) {
        set_num_threads(T);
        for (int64_t M : g_rows) {
          const Tensor x = randn({M, s.K}, gen);
          auto call = [&](int64_t c) { return f32 ? linear(x, Wf[c], bias) : linear_quantized(x, Wq[c], bias); };
          bench::Timing d = time_calls(copies, [&](int64_t c) { call(c); });
          bench::Timing r = time_calls(copies, [&](int64_t c) {
            kernels::RowInvariantScope scope;
            call(c);
          });
          std::printf("invariant %-11s K%-4ld N%-5ld M%-3ld threads %d  %-4s default %8.1f us  row-invariant %8.1f us"
                      "  (medians %8.1f / %8.1f)  invariant/default %.2f\n",
                      s.name, (long)s.K, (long)s.N, (long)M, T, kernels::weight_format_name(fmt), d.best * 1e6,
                      r.best * 1e6, d.median * 1e6, r.median * 1e6, r.median / d.median);
          std::fflush(stdout);
        }
      }
    }
}

}  // namespace

int main(int argc, char** argv) {
  ensure_wait_policy(argv);
  std::vector<std::string> cases;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--threads" && i + 1 < argc) {
      g_threads.clear();
      for (int64_t t : parse_list(argv[++i])) g_threads.push_back(int(t));
    } else if (a == "--reps" && i + 1 < argc) g_reps = std::atoi(argv[++i]);
    else if (a == "--rows" && i + 1 < argc) g_rows = parse_list(argv[++i]);
    else if (a == "--formats" && i + 1 < argc) g_formats = argv[++i];
    else if (a == "-h" || a == "--help") {
      std::printf("usage: qkv_bench_gemv [--threads 1,2] [--reps R] [--rows 1,2,4,8] [--formats f32,bf16,int8] "
                  "CASE...\nCASE: bandwidth gemv qgemv invariant\n");
      return 0;
    } else cases.push_back(a);
  }
  if (g_reps < 1 || g_threads.empty() || g_rows.empty()) {
    std::fprintf(stderr, "qkv_bench_gemv: --reps >= 1, non-empty --threads and --rows\n");
    return 1;
  }
  if (cases.empty()) cases = {"bandwidth", "gemv", "qgemv"};
  std::printf("# load %s", [] {
    static char b[64] = "?\n";
    if (FILE* f = std::fopen("/proc/loadavg", "r")) {
      if (!std::fgets(b, sizeof b, f)) b[0] = 0;
      std::fclose(f);
    }
    return b;
  }());
  for (const auto& c : cases) {
    if (c == "bandwidth") bench_bandwidth();
    else if (c == "gemv") bench_gemv();
    else if (c == "qgemv") bench_qgemv();
    else if (c == "invariant") bench_invariant();
    else {
      std::fprintf(stderr, "qkv_bench_gemv: unknown case '%s'\n", c.c_str());
      return 1;
    }
  }
  return 0;
}
