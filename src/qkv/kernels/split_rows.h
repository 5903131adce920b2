// Private: how the GEMV kernels (gemv.cpp, qgemv.cpp) split the N output rows
// of a product across one OpenMP team.
#pragma once
#include <omp.h>

#include <algorithm>
#include <cstdint>

namespace qkv::kernels::detail {

// A thread joins only for at least this much weight traffic. Waking a
// sleeping team costs ~57 µs with OMP_WAIT_POLICY=passive on this KVM guest,
// about what one core streams in 1 MiB — the first setting. qkv's programs
// spin for a bounded time (ensure_wait_policy), so during decoding the team
// is awake between products and a second thread pays from far less: GPT-2
// 124M decoding at 2 threads, 1 MiB → 256 KiB took int8 from 170–208 to
// 199–245 tokens/s and bf16 from 110–130 to 117–150 (three interleaved
// rounds, qkv bench tg128); the 0.7–2 MB int8 and bf16 products were the ones
// left on one thread.
inline constexpr int64_t kBytesPerThread = int64_t(1) << 18;

// Calls fn(n0, n1) on disjoint ranges covering [0, N), one per thread, each a
// multiple of `align` rows except the last. `bytes` is the weight traffic of
// the call (kBytesPerThread). Inside a parallel region: one call, this thread.
template <class Fn>
void split_rows(int64_t N, int64_t align, int64_t bytes, Fn&& fn) {
  int T = omp_in_parallel() ? 1 : omp_get_max_threads();
  const int64_t blocks = (N + align - 1) / align;
  T = static_cast<int>(std::min<int64_t>({T, blocks, std::max<int64_t>(1, bytes / kBytesPerThread)}));
  if (T <= 1) {
    fn(int64_t{0}, N);
    return;
  }
#pragma omp parallel num_threads(T)
  {
    const int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
    const int64_t n0 = std::min(N, blocks * t / nt * align), n1 = std::min(N, blocks * (t + 1) / nt * align);
    if (n0 < n1) fn(n0, n1);
  }
}

}  // namespace qkv::kernels::detail
