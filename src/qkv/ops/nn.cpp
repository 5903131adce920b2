// softmax, log_softmax, layer_norm, rms_norm, dropout, embedding.
#include <cstring>

#include "op_util.h"
#include "qkv/kernels/softmax.h"

namespace qkv {
namespace {

// Moves `dim` last and makes the tensor contiguous: rows of length size(dim).
Tensor dim_last(const Tensor& x, int64_t dim) {
  return dim == x.dim() - 1 || x.dim() == 0 ? x.contiguous() : x.transpose(dim, -1).contiguous();
}
Tensor dim_back(const Tensor& y, int64_t dim, int64_t ndim) {
  return dim == ndim - 1 || ndim == 0 ? y : y.transpose(dim, -1).contiguous();
}

template <class Fwd, class Bwd>
Tensor softmax_like(const char* name, const Tensor& a, int64_t dim, Fwd fwd, Bwd bwd) {
  ops::check_float(a, name);
  int64_t d = wrap_dim(dim, a.dim(), name);
  Tensor x = dim_last(a.detach(), d);
  int64_t N = a.dim() ? a.shape()[d] : 1;
  int64_t M = N ? x.numel() / N : 0;
  Tensor y = Tensor::empty(x.shape());
  if (x.numel()) fwd(x.data<float>(), y.data<float>(), M, N);
  Tensor out = dim_back(y, d, a.dim());
  int64_t nd = a.dim();
  // y.detach(): when dim is last, `out` is `y` itself, and a closure holding
  // its own output is a reference cycle (the graph would never be freed).
  autograd::record(name, out, {a}, [y = y.detach(), d, M, N, nd, bwd](const Tensor& g) {
    Tensor gl = dim_last(g, d);
    Tensor dx = Tensor::empty(gl.shape());
    if (dx.numel()) bwd(y.data<float>(), gl.data<float>(), dx.data<float>(), M, N);
    return std::vector<Tensor>{dim_back(dx, d, nd)};
  });
  return out;
}

}  // namespace

Tensor softmax(const Tensor& a, int64_t dim) {
  return softmax_like("softmax", a, dim, kernels::softmax_forward, kernels::softmax_backward);
}

Tensor log_softmax(const Tensor& a, int64_t dim) {
  return softmax_like("log_softmax", a, dim, kernels::log_softmax_forward, kernels::log_softmax_backward);
}

Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight,
                  const Tensor& bias, float eps) {
  ops::check_float(x, "layer_norm");
  size_t k = normalized_shape.size();
  bool ok = k >= 1 && k <= x.shape().size();
  for (size_t i = 0; ok && i < k; ++i) ok = x.shape()[x.shape().size() - k + i] == normalized_shape[i];
  if (!ok)
    throw ShapeError("layer_norm: input " + shape_str(x.shape()) + " does not end with normalized_shape " +
                     shape_str(normalized_shape));
  for (const Tensor* p : {&weight, &bias}) {
    if (!p->defined()) continue;
    ops::check_float(*p, "layer_norm", p == &weight ? "weight" : "bias");
    if (p->shape() != normalized_shape)
      throw ShapeError(std::string("layer_norm: ") + (p == &weight ? "weight " : "bias ") +
                       shape_str(p->shape()) + " must have shape " + shape_str(normalized_shape));
  }
  if (!(eps >= 0)) throw ValueError("layer_norm: eps must be >= 0");
  const int64_t N = shape_numel(normalized_shape);
  const int64_t M = N ? x.numel() / N : 0;
  Tensor xc = x.detach().contiguous();
  Tensor w = weight.defined() ? weight.detach().contiguous() : Tensor();
  Tensor b = bias.defined() ? bias.detach().contiguous() : Tensor();
  Tensor y = Tensor::empty(x.shape());
  Tensor mean = Tensor::empty({M}), rstd = Tensor::empty({M});
  if (M * N > 0)
    kernels::layernorm_forward(xc.data<float>(), w.defined() ? w.data<float>() : nullptr,
                               b.defined() ? b.data<float>() : nullptr, y.data<float>(), mean.data<float>(),
                               rstd.data<float>(), M, N, eps);
  if (!autograd::any_requires_grad({&x, &weight, &bias})) return y;
  bool gw = weight.defined() && weight.requires_grad(), gb = bias.defined() && bias.requires_grad();
  Shape ns = normalized_shape;
  autograd::record("layer_norm", y, {x, weight, bias}, [xc, w, mean, rstd, M, N, gw, gb, ns](const Tensor& g) {
    Tensor gc = g.contiguous();
    Tensor dx = Tensor::empty(xc.shape());
    Tensor dw = gw ? Tensor::empty(ns) : Tensor();
    Tensor db = gb ? Tensor::empty(ns) : Tensor();
    if (M * N > 0) {
      kernels::layernorm_backward(xc.data<float>(), w.defined() ? w.data<float>() : nullptr, mean.data<float>(),
                                  rstd.data<float>(), gc.data<float>(), dx.data<float>(),
                                  gw ? dw.data<float>() : nullptr, gb ? db.data<float>() : nullptr, M, N);
    } else {
      if (gw) dw.fill_(0);
      if (gb) db.fill_(0);
    }
    return std::vector<Tensor>{dx, dw, db};
  });
  return y;
}

Tensor rms_norm(const Tensor& x, const Tensor& weight, float eps) {
  ops::check_float(x, "rms_norm");
  if (x.dim() < 1) throw ShapeError("rms_norm: input must have at least 1 dim, got " + shape_str(x.shape()));
  const int64_t N = x.size(-1);
  if (weight.defined()) {
    ops::check_float(weight, "rms_norm", "weight");
    if (weight.shape() != Shape{N})
      throw ShapeError("rms_norm: weight " + shape_str(weight.shape()) + " must be (" + std::to_string(N) +
                       ") for input " + shape_str(x.shape()));
  }
  if (!(eps >= 0)) throw ValueError("rms_norm: eps must be >= 0, got " + std::to_string(eps));
  const int64_t M = N ? x.numel() / N : 0;
  Tensor xc = x.detach().contiguous();
  Tensor w = weight.defined() ? weight.detach().contiguous() : Tensor();
  Tensor y = Tensor::empty(x.shape()), rstd = Tensor::empty({M});
  if (M * N > 0)
    kernels::rmsnorm_forward(xc.data<float>(), w.defined() ? w.data<float>() : nullptr, y.data<float>(),
                             rstd.data<float>(), M, N, eps);
  if (!autograd::any_requires_grad({&x, &weight})) return y;
  const bool gw = weight.defined() && weight.requires_grad();
  autograd::record("rms_norm", y, {x, weight}, [xc, w, rstd, M, N, gw](const Tensor& g) {
    Tensor gc = g.contiguous();
    Tensor dx = Tensor::empty(xc.shape());
    Tensor dw = gw ? Tensor::empty({N}) : Tensor();
    if (M * N > 0)
      kernels::rmsnorm_backward(xc.data<float>(), w.defined() ? w.data<float>() : nullptr, rstd.data<float>(),
                                gc.data<float>(), dx.data<float>(), gw ? dw.data<float>() : nullptr, M, N);
    else if (gw)
      dw.fill_(0);
    return std::vector<Tensor>{dx, dw};
  });
  return y;
}

Tensor dropout(const Tensor& a, float p, bool training, Generator& gen) {
  ops::check_float(a, "dropout");
  if (!(p >= 0.0f && p <= 1.0f)) throw ValueError("dropout: p must be in [0, 1], got " + std::to_string(p));
  if (!training || p == 0.0f) return a;
  // mask holds 0 or 1/(1−p) (inverted dropout, Srivastava et al. 2014).
  Tensor mask = Tensor::empty(a.shape());
  float* m = mask.data<float>();
  const float scale = p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;
  gen.fill_dropout_mask(m, mask.numel(), p, scale);
  Tensor out;
  {
    NoGradGuard ng;
    out = mul(a, mask);
  }
  autograd::record("dropout", out, {a}, [mask](const Tensor& g) { return std::vector<Tensor>{mul(g, mask)}; });
  return out;
}

Tensor embedding(const Tensor& weight, const Tensor& ids) {
  ops::check_float(weight, "embedding", "weight");
  ops::check_defined(ids, "embedding", "ids");
  if (weight.dim() != 2) throw ShapeError("embedding: weight must be 2-D (V, C), got " + shape_str(weight.shape()));
  if (ids.dtype() != DType::Int64 && ids.dtype() != DType::Int32)
    throw ValueError(std::string("embedding: ids must be int64 or int32, got ") + dtype_name(ids.dtype()));
  const int64_t V = weight.size(0), C = weight.size(1);
  std::vector<int64_t> idx = ids.to_int_vector();
  for (size_t i = 0; i < idx.size(); ++i)
    if (idx[i] < 0 || idx[i] >= V)
      throw ValueError("embedding: id " + std::to_string(idx[i]) + " at position " + std::to_string(i) +
                       " is out of range for a table of " + std::to_string(V) + " rows");
  Tensor w = weight.detach().contiguous();
  Shape out_shape = ids.shape();
  out_shape.push_back(C);
  Tensor out = Tensor::empty(out_shape);
  const float* wp = w.data<float>();
  float* op = out.data<float>();
  const int64_t n = static_cast<int64_t>(idx.size());
#pragma omp parallel for if (n * C > (1 << 16))
  for (int64_t i = 0; i < n; ++i) std::memcpy(op + i * C, wp + idx[i] * C, C * sizeof(float));
  autograd::record("embedding", out, {weight, ids}, [idx, V, C](const Tensor& g) {
    // Scatter-add: rows hit by several ids accumulate, in id order (deterministic).
    Tensor gc = g.contiguous();
    Tensor dw = zeros({V, C});
    float* d = dw.data<float>();
    const float* gp = gc.data<float>();
    for (size_t i = 0; i < idx.size(); ++i) {
      float* row = d + idx[i] * C;
      const float* gr = gp + static_cast<int64_t>(i) * C;
#pragma omp simd
      for (int64_t j = 0; j < C; ++j) row[j] += gr[j];
    }
    return std::vector<Tensor>{dw, Tensor()};
  });
  return out;
}

}  // namespace qkv
