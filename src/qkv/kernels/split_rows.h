// Private: how the GEMV kernels (gemv.cpp, qgemv.cpp) split the N output rows
// of a product across one OpenMP team.
#pragma once
#include <omp.h>

#include <algorithm>
#include <cstdint>

namespace qkv::kernels::detail {

// A thread joins only for at least this much weight traffic. Waking a team
// costs ~57 µs with OMP_WAIT_POLICY=passive on this KVM guest (far less when
// spinning), about what one core streams in 1 MiB; measured on a quiet
// machine with passive waiting (bench/qkv_bench_gemv.cpp), 2 threads lost on
// the 0.7–2 MB int8 matrices of GPT-2 124M and won from ~3 MB.
inline constexpr int64_t kBytesPerThread = int64_t(1) << 20;

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
