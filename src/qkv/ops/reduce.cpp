// Reductions over any set of dims: the input is laid out as rows (M, R) with
// the reduced dims last, then each row is reduced. Sums over leading dims of a
// contiguous input (bias gradients) take a column-accumulating fast path.
#include <algorithm>
#include <cmath>
#include <limits>
#include <omp.h>

#include "op_util.h"

namespace qkv {
namespace ops {

std::vector<int64_t> normalize_dims(const Shape& dims, int64_t ndim, const char* op) {
  std::vector<int64_t> out;
  if (dims.empty()) {
    for (int64_t d = 0; d < ndim; ++d) out.push_back(d);
    return out;
  }
  for (int64_t d : dims) {
    int64_t w = wrap_dim(d, ndim, op);
    if (ndim == 0) continue;  // dim 0/-1 of a scalar reduces nothing
    if (std::find(out.begin(), out.end(), w) != out.end())
      throw ValueError(std::string(op) + ": dim " + std::to_string(d) + " repeated in " + shape_str(dims));
    out.push_back(w);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace ops

namespace {

struct Rows {
  Tensor rows;      // (M, R) contiguous
  Shape keep_shape; // output shape with keepdim
  Shape out_shape;  // output shape as requested
  int64_t M = 1, R = 1;
};

Rows to_rows(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  Rows r;
  Shape perm;
  std::vector<bool> red(x.dim(), false);
  for (int64_t d : dims) red[d] = true;
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (!red[d]) {
      perm.push_back(d);
      r.M *= x.shape()[d];
      r.out_shape.push_back(x.shape()[d]);
      r.keep_shape.push_back(x.shape()[d]);
    } else {
      r.keep_shape.push_back(1);
      if (keepdim) r.out_shape.push_back(1);
    }
  }
  for (int64_t d : dims) {
    perm.push_back(d);
    r.R *= x.shape()[d];
  }
  Tensor xd = x.detach();
  r.rows = (x.dim() ? xd.permute(perm) : xd).contiguous().reshape({r.M, r.R});
  return r;
}

// Broadcasts a reduced gradient back to the input's shape.
Tensor expand_back(const Tensor& g, const Shape& keep_shape, const Shape& in_shape) {
  return g.reshape(keep_shape).expand(in_shape);
}

enum class RowOp { Sum, Max, Min, LogSumExp };

Tensor reduce_rows(const Rows& r, RowOp op) {
  Tensor out = Tensor::empty({r.M});
  const float* x = r.rows.data<float>();
  float* o = out.data<float>();
  const int64_t M = r.M, R = r.R;
#pragma omp parallel for if (M * R > (1 << 15) && M > 1 && !omp_in_parallel())
  for (int64_t m = 0; m < M; ++m) {
    const float* row = x + m * R;
    switch (op) {
      case RowOp::Sum: {
        double acc = 0;  // double accumulator: sums of many floats stay exact-ish
#pragma omp simd reduction(+ : acc)
        for (int64_t j = 0; j < R; ++j) acc += row[j];
        o[m] = static_cast<float>(acc);
        break;
      }
      case RowOp::Max: {
        float v = -std::numeric_limits<float>::infinity();
        for (int64_t j = 0; j < R; ++j) v = (row[j] > v || std::isnan(row[j])) ? row[j] : v;
        o[m] = v;
        break;
      }
      case RowOp::Min: {
        float v = std::numeric_limits<float>::infinity();
        for (int64_t j = 0; j < R; ++j) v = (row[j] < v || std::isnan(row[j])) ? row[j] : v;
        o[m] = v;
        break;
      }
      case RowOp::LogSumExp: {
        float mx = -std::numeric_limits<float>::infinity();
        for (int64_t j = 0; j < R; ++j) mx = std::max(mx, row[j]);
        if (std::isinf(mx)) {
          o[m] = mx;
          break;
        }
        double acc = 0;
        for (int64_t j = 0; j < R; ++j) acc += std::exp(static_cast<double>(row[j] - mx));
        o[m] = mx + static_cast<float>(std::log(acc));
        break;
      }
    }
  }
  return out;
}

void check_reduce_input(const Tensor& a, const char* op) { ops::check_float(a, op); }

}  // namespace

Tensor sum(const Tensor& a, const Shape& dims_, bool keepdim) {
  check_reduce_input(a, "sum");
  auto dims = ops::normalize_dims(dims_, a.dim(), "sum");
  Tensor out;
  Shape keep_shape;
  // Fast path: contiguous input, reducing a prefix of dims → column sums.
  bool prefix = !dims.empty() && a.is_contiguous();
  for (size_t i = 0; i < dims.size(); ++i) prefix = prefix && dims[i] == static_cast<int64_t>(i);
  if (prefix && static_cast<int64_t>(dims.size()) < a.dim()) {
    int64_t R = 1;
    Shape out_shape;
    for (int64_t d = 0; d < a.dim(); ++d) {
      if (d < static_cast<int64_t>(dims.size())) {
        R *= a.shape()[d];
        keep_shape.push_back(1);
        if (keepdim) out_shape.push_back(1);
      } else {
        out_shape.push_back(a.shape()[d]);
        keep_shape.push_back(a.shape()[d]);
      }
    }
    int64_t M = a.numel() / std::max<int64_t>(R, 1);
    out = zeros(out_shape);
    const float* x = a.data<float>();
    float* o = out.data<float>();
#pragma omp parallel for if (M * R > (1 << 15) && M >= 64 && !omp_in_parallel())
    for (int64_t c0 = 0; c0 < M; c0 += 64) {
      int64_t c1 = std::min(M, c0 + 64);
      for (int64_t r = 0; r < R; ++r) {
        const float* row = x + r * M;
#pragma omp simd
        for (int64_t c = c0; c < c1; ++c) o[c] += row[c];
      }
    }
  } else {
    Rows r = to_rows(a, dims, keepdim);
    out = reduce_rows(r, RowOp::Sum).reshape(r.out_shape);
    keep_shape = r.keep_shape;
  }
  Shape in_shape = a.shape();
  autograd::record("sum", out, {a}, [keep_shape, in_shape](const Tensor& g) {
    return std::vector<Tensor>{expand_back(g, keep_shape, in_shape)};
  });
  return out;
}

Tensor mean(const Tensor& a, const Shape& dims_, bool keepdim) {
  check_reduce_input(a, "mean");
  auto dims = ops::normalize_dims(dims_, a.dim(), "mean");
  int64_t R = 1;
  for (int64_t d : dims) R *= a.shape()[d];
  return mul(sum(a, dims_, keepdim), 1.0f / static_cast<float>(R));
}

Tensor var(const Tensor& a, const Shape& dims_, int64_t correction, bool keepdim) {
  check_reduce_input(a, "var");
  auto dims = ops::normalize_dims(dims_, a.dim(), "var");
  int64_t R = 1;
  for (int64_t d : dims) R *= a.shape()[d];
  // var = Σ(x − μ)² / (R − correction), written with ops so autograd follows.
  Tensor mu = mean(a, dims_, true);
  Tensor d = sub(a, mu);
  return mul(sum(mul(d, d), dims_, keepdim), 1.0f / static_cast<float>(std::max<int64_t>(R - correction, 0)));
}

namespace {

std::pair<Tensor, Tensor> extreme_along(const Tensor& a, int64_t dim, bool keepdim, bool is_max,
                                        const char* name) {
  check_reduce_input(a, name);
  int64_t d = wrap_dim(dim, a.dim(), name);
  if (a.dim() > 0 && a.shape()[d] == 0)
    throw ValueError(std::string(name) + ": cannot reduce over an empty dim of " + shape_str(a.shape()));
  Rows r = to_rows(a, a.dim() ? std::vector<int64_t>{d} : std::vector<int64_t>{}, keepdim);
  Tensor vals = Tensor::empty({r.M});
  Tensor idx = Tensor::empty({r.M}, DType::Int64);
  const float* x = r.rows.data<float>();
  float* v = vals.data<float>();
  int64_t* ix = idx.data<int64_t>();
  for (int64_t m = 0; m < r.M; ++m) {
    const float* row = x + m * r.R;
    int64_t best = 0;
    for (int64_t j = 1; j < r.R; ++j) {
      if (std::isnan(row[best])) break;
      if (std::isnan(row[j]) || (is_max ? row[j] > row[best] : row[j] < row[best])) best = j;
    }
    v[m] = row[best];
    ix[m] = best;
  }
  Tensor out = vals.reshape(r.out_shape);
  Tensor idx_out = idx.reshape(r.out_shape);
  Shape in_shape = a.shape(), keep_shape = r.keep_shape;
  int64_t M = r.M, R = r.R;
  autograd::record(name, out, {a}, [idx, in_shape, keep_shape, d, M, R](const Tensor& g) {
    // Scatter g to the chosen index of each row, in the (…, dim-last) layout.
    Tensor gc = g.contiguous();
    Tensor rows = zeros({M, R});
    const float* gp = gc.data<float>();
    const int64_t* ip = idx.data<int64_t>();
    float* rp = rows.data<float>();
    for (int64_t m = 0; m < M; ++m) rp[m * R + ip[m]] = gp[m];
    if (in_shape.empty()) return std::vector<Tensor>{rows.reshape({})};
    Shape perm_shape;
    for (int64_t k = 0; k < static_cast<int64_t>(in_shape.size()); ++k)
      if (k != d) perm_shape.push_back(in_shape[k]);
    perm_shape.push_back(in_shape[d]);
    // inverse of the permutation (others…, d)
    Shape inv(in_shape.size());
    int64_t pos = 0;
    for (int64_t k = 0; k < static_cast<int64_t>(in_shape.size()); ++k)
      if (k != d) inv[k] = pos++;
    inv[d] = pos;
    return std::vector<Tensor>{rows.reshape(perm_shape).permute(inv)};
  });
  return {out, idx_out};
}

Tensor extreme_dims(const Tensor& a, const Shape& dims_, bool keepdim, bool is_max, const char* name) {
  check_reduce_input(a, name);
  auto dims = ops::normalize_dims(dims_, a.dim(), name);
  for (int64_t d : dims)
    if (a.shape()[d] == 0)
      throw ValueError(std::string(name) + ": cannot reduce over an empty dim of " + shape_str(a.shape()));
  Rows r = to_rows(a, dims, keepdim);
  Tensor out = reduce_rows(r, is_max ? RowOp::Max : RowOp::Min).reshape(r.out_shape);
  Tensor ad = a.detach(), od = out.detach();
  Shape keep_shape = r.keep_shape;
  autograd::record(name, out, {a}, [ad, od, keep_shape](const Tensor& g) {
    // Ties share the gradient evenly (PyTorch's amax/amin rule).
    Tensor hit = eq(ad, od.reshape(keep_shape)).to(DType::Float32);
    Shape red;
    for (size_t i = 0; i < keep_shape.size(); ++i)
      if (keep_shape[i] == 1 && ad.shape()[i] != 1) red.push_back(static_cast<int64_t>(i));
    Tensor cnt = red.empty() ? ones(keep_shape) : sum(hit, red, true);
    return std::vector<Tensor>{mul(hit, div(g.reshape(keep_shape), cnt))};
  });
  return out;
}

}  // namespace

std::pair<Tensor, Tensor> max(const Tensor& a, int64_t dim, bool keepdim) {
  return extreme_along(a, dim, keepdim, true, "max");
}
std::pair<Tensor, Tensor> min(const Tensor& a, int64_t dim, bool keepdim) {
  return extreme_along(a, dim, keepdim, false, "min");
}
Tensor amax(const Tensor& a, const Shape& dims, bool keepdim) { return extreme_dims(a, dims, keepdim, true, "max"); }
Tensor amin(const Tensor& a, const Shape& dims, bool keepdim) { return extreme_dims(a, dims, keepdim, false, "min"); }

Tensor argmax(const Tensor& a, int64_t dim, bool keepdim) {
  NoGradGuard ng;
  return extreme_along(a, dim, keepdim, true, "argmax").second;
}

Tensor logsumexp(const Tensor& a, const Shape& dims_, bool keepdim) {
  check_reduce_input(a, "logsumexp");
  auto dims = ops::normalize_dims(dims_, a.dim(), "logsumexp");
  Rows r = to_rows(a, dims, keepdim);
  Tensor out = reduce_rows(r, RowOp::LogSumExp).reshape(r.out_shape);
  Tensor ad = a.detach(), od = out.detach();
  Shape keep_shape = r.keep_shape;
  autograd::record("logsumexp", out, {a}, [ad, od, keep_shape](const Tensor& g) {
    // ∂ lse / ∂x = softmax(x) = exp(x − lse)
    return std::vector<Tensor>{mul(g.reshape(keep_shape), exp(sub(ad, od.reshape(keep_shape))))};
  });
  return out;
}

Tensor sum_to(const Tensor& g, const Shape& shape) {
  if (g.shape() == shape) return g;
  Shape dims;
  size_t lead = g.shape().size() - shape.size();
  if (g.shape().size() < shape.size())
    throw ShapeError("sum_to: cannot reduce " + shape_str(g.shape()) + " to " + shape_str(shape));
  for (size_t i = 0; i < g.shape().size(); ++i)
    if (i < lead || (shape[i - lead] == 1 && g.shape()[i] != 1)) dims.push_back(static_cast<int64_t>(i));
  if (dims.empty()) return g.reshape(shape);
  return sum(g, dims, true).reshape(shape);
}

}  // namespace qkv
