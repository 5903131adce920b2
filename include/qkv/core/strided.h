// qkv/core/strided.h — walking N operands that share a shape but not strides.
//
// strided_apply calls inner(offsets, n, inner_strides) for each run of the
// innermost (coalesced) dimension: offsets[i] is the element offset of operand
// i at the start of the run, inner_strides[i] its stride along the run.
// Dimensions that are contiguous for every operand are merged first, so a
// fully contiguous case is a single call with n = numel. Broadcast operands
// simply have stride 0. With `parallel`, runs are split across OpenMP threads
// (each run is handled by exactly one thread; results do not depend on the
// thread count).
#pragma once
#include <omp.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include "qkv/core/shape.h"

namespace qkv {

template <size_t N, class F>
void strided_apply(const Shape& shape, const std::array<Shape, N>& strides, F&& inner,
                   bool parallel = false) {
  // Coalesce: drop size-1 dims, merge dim d into d+1 when stride[d] == stride[d+1]*size[d+1].
  std::vector<int64_t> sz;
  std::array<std::vector<int64_t>, N> st;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 0) return;
    if (shape[d] == 1) continue;
    sz.push_back(shape[d]);
    for (size_t i = 0; i < N; ++i) st[i].push_back(strides[i][d]);
  }
  for (size_t d = sz.size(); d-- > 1;) {
    bool mergeable = true;
    for (size_t i = 0; i < N; ++i)
      if (st[i][d - 1] != st[i][d] * sz[d]) mergeable = false;
    if (mergeable) {
      sz[d - 1] *= sz[d];
      for (size_t i = 0; i < N; ++i) st[i][d - 1] = st[i][d];
      sz.erase(sz.begin() + d);
      for (size_t i = 0; i < N; ++i) st[i].erase(st[i].begin() + d);
    }
  }
  std::array<int64_t, N> istr{};
  if (sz.empty()) {  // a single element
    std::array<int64_t, N> off{};
    inner(off, int64_t{1}, istr);
    return;
  }
  const int64_t nd = static_cast<int64_t>(sz.size());
  const int64_t n_inner = sz[nd - 1];
  for (size_t i = 0; i < N; ++i) istr[i] = st[i][nd - 1];
  int64_t n_outer = 1;
  for (int64_t d = 0; d < nd - 1; ++d) n_outer *= sz[d];

  auto run_range = [&](int64_t begin, int64_t end) {
    if (begin >= end) return;
    std::vector<int64_t> idx(nd > 1 ? nd - 1 : 1, 0);
    std::array<int64_t, N> off{};
    int64_t rem = begin;
    for (int64_t d = nd - 2; d >= 0; --d) {
      idx[d] = rem % sz[d];
      rem /= sz[d];
      for (size_t i = 0; i < N; ++i) off[i] += idx[d] * st[i][d];
    }
    for (int64_t r = begin; r < end; ++r) {
      inner(off, n_inner, istr);
      for (int64_t d = nd - 2; d >= 0; --d) {  // odometer increment
        ++idx[d];
        for (size_t i = 0; i < N; ++i) off[i] += st[i][d];
        if (idx[d] < sz[d]) break;
        for (size_t i = 0; i < N; ++i) off[i] -= sz[d] * st[i][d];
        idx[d] = 0;
      }
    }
  };
  const int64_t total = n_outer * n_inner;
  if (parallel && n_outer == 1 && total >= (1 << 16) && omp_get_max_threads() > 1 && !omp_in_parallel()) {
#pragma omp parallel
    {  // one long run: split it into per-thread pieces (64-element aligned)
      int nt = omp_get_num_threads(), t = omp_get_thread_num();
      int64_t chunk = ((n_inner + nt - 1) / nt + 63) / 64 * 64;
      int64_t b = t * chunk, e = std::min(n_inner, b + chunk);
      if (b < e) {
        std::array<int64_t, N> off{};
        for (size_t i = 0; i < N; ++i) off[i] = b * istr[i];
        inner(off, e - b, istr);
      }
    }
    return;
  }
  if (parallel && total >= (1 << 15) && n_outer > 1 && omp_get_max_threads() > 1 && !omp_in_parallel()) {
#pragma omp parallel
    {
      int nt = omp_get_num_threads(), t = omp_get_thread_num();
      int64_t chunk = (n_outer + nt - 1) / nt;
      run_range(t * chunk, std::min(n_outer, (t + 1) * chunk));
    }
  } else {
    run_range(0, n_outer);
  }
}

}  // namespace qkv
