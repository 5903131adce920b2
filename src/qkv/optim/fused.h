// Internal: split [0, n) into one contiguous piece per thread for elementwise
// optimizer updates. Each element is handled by one thread, so results do not
// depend on the thread count; small tensors stay on the calling thread.
#pragma once
#include <omp.h>

#include <algorithm>
#include <cstdint>

namespace qkv::optim::detail {

constexpr int64_t kParallelMin = 1 << 15;

template <class F> void parallel_pieces(int64_t n, F&& f) {
  if (n < 2 * kParallelMin || omp_get_max_threads() == 1 || omp_in_parallel()) {
    f(int64_t{0}, n);
    return;
  }
#pragma omp parallel
  {
    const int64_t nt = omp_get_num_threads(), t = omp_get_thread_num();
    const int64_t piece = ((n + nt - 1) / nt + 15) / 16 * 16;  // 64-byte aligned pieces
    const int64_t b = std::min(n, t * piece), e = std::min(n, b + piece);
    if (b < e) f(b, e);
  }
}

}  // namespace qkv::optim::detail
