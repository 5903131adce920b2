// Shared by the C++ benchmarks (qkv_bench, qkv_bench_gpt): timing with
// best/median over samples, and one report line (JSON for bench/compare.py,
// or a human-readable row).
#pragma once
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace qkv::bench {

struct Timing {
  double best, median;  // ms per call
};

inline Timing summarize(std::vector<double> samples) {
  std::sort(samples.begin(), samples.end());
  return {samples.front(), samples[samples.size() / 2]};
}

// `warmup` untimed calls, then `reps` samples; a sample repeats fn until it
// lasts ≥ min_ms and counts the mean time per call.
inline Timing time_it(const std::function<void()>& fn, int warmup, int reps, double min_ms) {
  using Clock = std::chrono::steady_clock;
  for (int i = 0; i < warmup; ++i) fn();
  std::vector<double> samples;
  for (int r = 0; r < reps; ++r) {
    int inner = 0;
    auto t0 = Clock::now();
    double ms = 0;
    do {
      fn();
      ++inner;
      ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    } while (ms < min_ms);
    samples.push_back(ms / inner);
  }
  return summarize(samples);
}

// {"peer":"qkv","case":…,"shape":…,"threads":…,"ms_best":…,"ms_median":…<extra_json>}
// or, without json, a row padded to the given column widths.
inline void report(bool json, int threads, const std::string& c, const std::string& shape, Timing t,
                   const std::string& extra_json, const std::string& extra_text, int case_width = 22,
                   int shape_width = 22) {
  if (json)
    std::printf("{\"peer\":\"qkv\",\"case\":\"%s\",\"shape\":\"%s\",\"threads\":%d,\"ms_best\":%.4f,"
                "\"ms_median\":%.4f%s}\n",
                c.c_str(), shape.c_str(), threads, t.best, t.median, extra_json.c_str());
  else
    std::printf("%-*s %-*s threads %d  best %9.3f ms  median %9.3f ms  %s\n", case_width, c.c_str(), shape_width,
                shape.c_str(), threads, t.best, t.median, extra_text.c_str());
  std::fflush(stdout);
}

}  // namespace qkv::bench
