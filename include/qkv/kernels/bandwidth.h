// qkv/kernels/bandwidth.h — this machine's memory read bandwidth, the bound
// decoding is measured against (qkv bench --bandwidth, bench/qkv_bench_gemv).
#pragma once
#include <cstddef>
#include <vector>

namespace qkv::kernels {

// Sweeps of a `bytes` buffer (default 1 GiB, far past the caches) summed by
// `threads` threads, each its own contiguous part (8 independent vector
// accumulators: AVX-512 where the CPU has it, else AVX2). The first sweep
// warms up; returns the GB/s (1e9 bytes) of each of the `sweeps` timed ones.
std::vector<double> read_bandwidth_gbps(int threads, int sweeps = 3, std::size_t bytes = std::size_t(1) << 30);

}  // namespace qkv::kernels
