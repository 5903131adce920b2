// Indexing ops that copy (unlike the views in views.cpp): index_select, the
// gather beam search uses to reorder KV caches and scores by beam origin.
#include <algorithm>
#include <cstring>

#include "op_util.h"

namespace qkv {
namespace {

// A tensor seen as (outer, n, inner) around one dim, the layout both the
// gather and its scatter-add walk.
struct Around {
  int64_t outer = 1, n = 1, inner = 1;
};
Around around(const Shape& s, int64_t d) {
  Around r;
  for (int64_t i = 0; i < d; ++i) r.outer *= s[i];
  r.n = s[d];
  for (size_t i = d + 1; i < s.size(); ++i) r.inner *= s[i];
  return r;
}

// Validated ids: every one in [0, n) before any memory is read.
std::vector<int64_t> checked_ids(const Tensor& a, int64_t d, const Tensor& index) {
  ops::check_defined(index, "index_select", "index");
  if (index.dtype() != DType::Int64 && index.dtype() != DType::Int32)
    throw ValueError(std::string("index_select: index must be int64 or int32, got ") + dtype_name(index.dtype()));
  if (index.dim() > 1)
    throw ShapeError("index_select: index must be 1-D, got " + shape_str(index.shape()) + " (input " +
                     shape_str(a.shape()) + ")");
  std::vector<int64_t> ids = index.to_int_vector();
  const int64_t n = a.shape()[d];
  for (size_t k = 0; k < ids.size(); ++k)
    if (ids[k] < 0 || ids[k] >= n)
      throw ValueError("index_select: id " + std::to_string(ids[k]) + " at position " + std::to_string(k) +
                       " is out of range for dim " + std::to_string(d) + " of size " + std::to_string(n) +
                       " in " + shape_str(a.shape()));
  return ids;
}

// dz (outer, n, inner) += g (outer, K, inner) scattered by ids. Each thread
// owns whole (outer row, column block) pieces and adds the K rows in index
// order, so repeated ids sum the same way for any thread count.
Tensor scatter_add_rows(const Tensor& g, const Shape& shape, int64_t d, const std::vector<int64_t>& ids) {
  const Around A = around(shape, d);
  const int64_t K = static_cast<int64_t>(ids.size());
  Tensor gc = g.contiguous();
  Tensor dz = zeros(shape);
  const float* gp = gc.data<float>();
  float* zp = dz.data<float>();
  constexpr int64_t kBlock = 1024;
  const int64_t blocks = (A.inner + kBlock - 1) / kBlock, pieces = A.outer * blocks;
#pragma omp parallel for if (A.outer * K * A.inner > (1 << 16))
  for (int64_t p = 0; p < pieces; ++p) {
    const int64_t o = p / blocks, j0 = (p % blocks) * kBlock, j1 = std::min(A.inner, j0 + kBlock);
    for (int64_t k = 0; k < K; ++k) {
      float* dst = zp + (o * A.n + ids[k]) * A.inner;
      const float* src = gp + (o * K + k) * A.inner;
#pragma omp simd
      for (int64_t j = j0; j < j1; ++j) dst[j] += src[j];
    }
  }
  return dz;
}

}  // namespace

Tensor index_select(const Tensor& a, int64_t dim, const Tensor& index) {
  ops::check_defined(a, "index_select", "input");
  if (a.dim() == 0) throw ShapeError("index_select: cannot index a 0-d tensor " + shape_str(a.shape()));
  const int64_t d = wrap_dim(dim, a.dim(), "index_select");
  std::vector<int64_t> ids = checked_ids(a, d, index);
  const int64_t K = static_cast<int64_t>(ids.size());
  Shape out_shape = a.shape();
  out_shape[d] = K;
  Tensor out = Tensor::empty(out_shape, a.dtype());
  const Around A = around(a.shape(), d);
  if (out.numel() > 0) {
    // Byte copies of whole inner rows: one gather for every dtype.
    Tensor ac = a.detach().contiguous();
    const size_t row = static_cast<size_t>(A.inner) * dtype_size(a.dtype());
    const char* src = static_cast<const char*>(ac.raw_data());
    char* dst = static_cast<char*>(out.raw_data());
    const int64_t rows = A.outer * K;
#pragma omp parallel for if (out.numel() > (1 << 16))
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t o = r / K, k = r % K;
      std::memcpy(dst + r * row, src + (o * A.n + ids[k]) * row, row);
    }
  }
  if (a.dtype() == DType::Float32)
    autograd::record("index_select", out, {a, index}, [ids = std::move(ids), shape = a.shape(), d](const Tensor& g) {
      return std::vector<Tensor>{scatter_add_rows(g, shape, d, ids), Tensor()};
    });
  return out;
}

}  // namespace qkv
