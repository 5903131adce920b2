// qkv_bench — qkv's side of the op benchmarks; bench/run_all.sh runs it next to
// the PyTorch peer (bench/peers/torch_ops.py) in the same command and prints
// ratios. Cases and output mirror the peer's so lines can be joined by "case":
//
//   qkv_bench --threads N [--json] [--reps R] CASE...
//   CASE: attention gemm softmax layernorm gelu add copy all
//
// Timing: warm-up, then R samples; each sample repeats the op until it lasts
// ≥ min_ms; per-call time = sample / repeats. ms_best is the minimum, ms_median
// the median. Bandwidth cases report GB/s = bytes read + written / time, next to
// a memcpy of the same byte count (the bandwidth limit of this machine).
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "bench_util.h"
#include "qkv/qkv.h"

using namespace qkv;
using Clock = std::chrono::steady_clock;

namespace {

bool g_json = false;
int g_threads = 1;
int g_reps = 7;
double g_min_ms = 150;

using bench::Timing;

Timing time_it(const std::function<void()>& fn) { return bench::time_it(fn, 2, g_reps, g_min_ms); }

void report(const std::string& c, const std::string& shape, Timing t, const std::string& extra_json,
            const std::string& extra_text) {
  bench::report(g_json, g_threads, c, shape, t, extra_json, extra_text);
}

void bench_attention() {
  Generator gen(0);
  const int64_t B = 4, NH = 12, T = 256, hs = 64;
  Tensor q = randn({B, NH, T, hs}, gen), k = randn({B, NH, T, hs}, gen), v = randn({B, NH, T, hs}, gen);
  Tensor qg = q.clone().requires_grad_(), kg = k.clone().requires_grad_(), vg = v.clone().requires_grad_();
  Tensor go = randn({B, NH, T, hs}, gen);
  const std::string shape = "B4 H12 T256 hs64";
  for (bool causal : {false, true}) {
    std::string prefix = causal ? "attention_causal" : "attention";
    AttentionOptions opt;
    opt.causal = causal;
    Timing f = time_it([&] {
      NoGradGuard ng;
      Tensor y = scaled_dot_product_attention(q, k, v, opt);
    });
    report(prefix + "_fwd", shape, f, "", "");
    Timing fb = time_it([&] {
      qg.zero_grad();
      kg.zero_grad();
      vg.zero_grad();
      Tensor y = scaled_dot_product_attention(qg, kg, vg, opt);
      y.backward(go);
    });
    report(prefix + "_fwd_bwd", shape, fb, "", "");
  }
}

void bench_gemm() {
  Generator gen(0);
  struct S { int64_t M, K, N; };
  for (S s : {S{64, 768, 768}, S{256, 768, 3072}, S{1024, 1024, 1024}}) {
    Tensor a = randn({s.M, s.K}, gen), b = randn({s.K, s.N}, gen);
    Tensor c0 = Tensor::empty({s.M, s.N});
    NoGradGuard ng;
    double flop = 2.0 * s.M * s.N * s.K;
    char shape[64];
    std::snprintf(shape, sizeof shape, "M%ld K%ld N%ld", (long)s.M, (long)s.K, (long)s.N);
    // qkv's matmul op, then the raw backend GEMM it calls (same run): the
    // ratio is the op's overhead over the best GEMM on the machine.
    Timing t = time_it([&] { Tensor c = matmul(a, b); });
    Timing raw = time_it([&] {
      kernels::sgemm(false, false, s.M, s.N, s.K, 1.0f, a.data<float>(), s.K, b.data<float>(), s.N, 0.0f,
                     c0.data<float>(), s.N);
    });
    for (auto [name, tt] : {std::pair{"gemm", t}, std::pair{"gemm_backend_raw", raw}}) {
      char ej[160], et[96];
      std::snprintf(ej, sizeof ej, ",\"gflops_best\":%.2f,\"gflops_median\":%.2f", flop / tt.best / 1e6,
                    flop / tt.median / 1e6);
      std::snprintf(et, sizeof et, "%.1f GFLOP/s", flop / tt.best / 1e6);
      report(name, shape, tt, ej, et);
    }
  }
}

// memcpy of `bytes` — the bandwidth reference, threaded like our kernels.
double copy_gbps(size_t bytes) {
  std::vector<char> src(bytes, 1), dst(bytes, 0);
  Timing t = time_it([&] {
#pragma omp parallel
    {
      int n = omp_get_num_threads(), i = omp_get_thread_num();
      size_t chunk = (bytes / n + 63) / 64 * 64, b = std::min(bytes, i * chunk), e = std::min(bytes, b + chunk);
      if (b < e) std::memcpy(dst.data() + b, src.data() + b, e - b);
    }
  });
  return 2.0 * bytes / t.best / 1e6;
}

void bench_bandwidth(const std::string& c) {
  Generator gen(0);
  const int64_t R = 4096, C = 4096;  // 64 MiB per tensor, far past L2/L3
  Tensor a = randn({R, C}, gen), b = randn({R, C}, gen);
  Tensor w = ones({C}), bias = zeros({C});
  size_t tensor_bytes = static_cast<size_t>(R * C) * 4;
  NoGradGuard ng;
  Timing t{};
  size_t bytes = 0;
  if (c == "add") {
    t = time_it([&] { Tensor y = add(a, b); });
    bytes = 3 * tensor_bytes;
  } else if (c == "gelu") {
    t = time_it([&] { Tensor y = gelu(a); });
    bytes = 2 * tensor_bytes;
  } else if (c == "softmax") {
    t = time_it([&] { Tensor y = softmax(a, -1); });
    bytes = 2 * tensor_bytes;
  } else if (c == "layernorm") {
    t = time_it([&] { Tensor y = layer_norm(a, {C}, w, bias); });
    bytes = 2 * tensor_bytes;
  } else if (c == "copy") {
    t = time_it([&] { Tensor y = a.clone(); });
    bytes = 2 * tensor_bytes;
  }
  double gbps = bytes / t.best / 1e6;
  double ref = copy_gbps(tensor_bytes);
  char ej[160], et[128];
  std::snprintf(ej, sizeof ej, ",\"gbps_best\":%.2f,\"gbps_median\":%.2f,\"bytes\":%zu,\"memcpy_gbps_best\":%.2f",
                gbps, bytes / t.median / 1e6, bytes, ref);
  std::snprintf(et, sizeof et, "%.1f GB/s (memcpy %.1f GB/s, %.0f%%)", gbps, ref, 100 * gbps / ref);
  report(c, "4096x4096", t, ej, et);
}

}  // namespace

int main(int argc, char** argv) {
  ensure_wait_policy(argv);
  std::vector<std::string> cases;
  for (int i = 1; i < argc; ++i) {
    std::string s = argv[i];
    if (s == "--json") g_json = true;
    else if (s == "--threads" && i + 1 < argc) g_threads = std::atoi(argv[++i]);
    else if (s == "--reps" && i + 1 < argc) g_reps = std::atoi(argv[++i]);
    else if (s == "--min-ms" && i + 1 < argc) g_min_ms = std::atof(argv[++i]);
    else if (s == "-h" || s == "--help") {
      std::printf("usage: qkv_bench --threads N [--json] [--reps R] [--min-ms MS] CASE...\n"
                  "CASE: attention gemm softmax layernorm gelu add copy all\n");
      return 0;
    } else cases.push_back(s);
  }
  if (g_threads < 1 || g_reps < 1) {
    std::fprintf(stderr, "qkv_bench: --threads and --reps must be >= 1\n");
    return 1;
  }
  set_num_threads(g_threads);
  if (cases.empty() || (cases.size() == 1 && cases[0] == "all"))
    cases = {"attention", "gemm", "softmax", "layernorm", "gelu", "add", "copy"};
  for (const auto& c : cases) {
    if (c == "attention") bench_attention();
    else if (c == "gemm") bench_gemm();
    else if (c == "softmax" || c == "layernorm" || c == "gelu" || c == "add" || c == "copy") bench_bandwidth(c);
    else {
      std::fprintf(stderr, "qkv_bench: unknown case '%s'\n", c.c_str());
      return 1;
    }
  }
  return 0;
}
