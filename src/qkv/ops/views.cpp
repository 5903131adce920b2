// Views (reshape, permute, slice, expand, …) share storage with their input;
// their backward rules put the gradient back into the input's geometry.
#include <algorithm>
#include <cstring>
#include <numeric>
#include <optional>

#include "op_util.h"

namespace qkv {
namespace {

Tensor make_view(const Tensor& base, Shape shape, Shape strides, int64_t offset) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = base.impl().storage;
  impl->shape = std::move(shape);
  impl->strides = std::move(strides);
  impl->offset = offset;
  impl->dtype = base.dtype();
  return Tensor(std::move(impl));
}

// Strides for viewing (old shape, old strides) as `shape` without a copy, or
// nullopt when the memory layout does not allow it (PyTorch's computeStride).
std::optional<Shape> view_strides(const Shape& os, const Shape& ost, const Shape& ns) {
  if (os.empty()) return contiguous_strides(ns);
  if (shape_numel(os) == 0) return contiguous_strides(ns);
  Shape nst(ns.size());
  int64_t view_d = static_cast<int64_t>(ns.size()) - 1;
  int64_t chunk_base = ost.back();
  int64_t tensor_numel = 1, view_numel = 1;
  for (int64_t td = static_cast<int64_t>(os.size()) - 1; td >= 0; --td) {
    tensor_numel *= os[td];
    if (td == 0 || (os[td - 1] != 1 && ost[td - 1] != tensor_numel * chunk_base)) {
      while (view_d >= 0 && (view_numel < tensor_numel || ns[view_d] == 1)) {
        nst[view_d] = view_numel * chunk_base;
        view_numel *= ns[view_d];
        --view_d;
      }
      if (view_numel != tensor_numel) return std::nullopt;
      if (td > 0) {
        chunk_base = ost[td - 1];
        tensor_numel = 1;
        view_numel = 1;
      }
    }
  }
  if (view_d != -1) return std::nullopt;
  return nst;
}

Shape infer_shape(const Shape& shape, int64_t numel, const char* op, const Shape& from) {
  Shape out = shape;
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == -1) {
      if (infer >= 0) throw ShapeError(std::string(op) + ": only one -1 allowed in " + shape_str(shape));
      infer = static_cast<int64_t>(i);
    } else if (out[i] < 0) {
      throw ShapeError(std::string(op) + ": invalid size in " + shape_str(shape));
    } else {
      known *= out[i];
    }
  }
  if (infer >= 0) {
    if (known == 0 || numel % known != 0)
      throw ShapeError(std::string(op) + ": cannot reshape " + shape_str(from) + " to " + shape_str(shape));
    out[infer] = numel / known;
  } else if (known != numel) {
    throw ShapeError(std::string(op) + ": cannot reshape " + shape_str(from) + " (" +
                     std::to_string(numel) + " elements) to " + shape_str(shape));
  }
  return out;
}

void record_reshape(const char* name, Tensor& out, const Tensor& in) {
  Shape s = in.shape();
  autograd::record(name, out, {in}, [s](const Tensor& g) { return std::vector<Tensor>{g.reshape(s)}; });
}

// Records a slicing view: the gradient is scattered into zeros of the input's
// shape by re-applying the same slicing to that zero tensor.
template <class F>
void record_slice(const char* name, Tensor& out, const Tensor& in, F reapply) {
  Shape s = in.shape();
  autograd::record(name, out, {in}, [s, reapply](const Tensor& g) {
    Tensor z = zeros(s);
    reapply(z).copy_(g);
    return std::vector<Tensor>{z};
  });
}

}  // namespace

Tensor Tensor::view(const Shape& shape_) const {
  Shape ns = infer_shape(shape_, numel(), "view", shape());
  auto st = view_strides(shape(), strides(), ns);
  if (!st)
    throw ShapeError("view: " + shape_str(shape()) + " with strides " + shape_str(strides()) +
                     " cannot be viewed as " + shape_str(ns) + "; use reshape()");
  Tensor out = make_view(*this, ns, *st, offset());
  record_reshape("view", out, *this);
  return out;
}

Tensor Tensor::reshape(const Shape& shape_) const {
  Shape ns = infer_shape(shape_, numel(), "reshape", shape());
  if (auto st = view_strides(shape(), strides(), ns)) {
    Tensor out = make_view(*this, ns, *st, offset());
    record_reshape("view", out, *this);
    return out;
  }
  return contiguous().view(ns);
}

Tensor Tensor::flatten(int64_t start, int64_t end) const {
  if (dim() == 0) return reshape({1});
  start = wrap_dim(start, dim(), "flatten");
  end = wrap_dim(end, dim(), "flatten");
  if (start > end) throw ValueError("flatten: start dim after end dim");
  Shape ns(shape().begin(), shape().begin() + start);
  int64_t m = 1;
  for (int64_t d = start; d <= end; ++d) m *= shape()[d];
  ns.push_back(m);
  ns.insert(ns.end(), shape().begin() + end + 1, shape().end());
  return reshape(ns);
}

Tensor Tensor::permute(const Shape& dims) const {
  if (static_cast<int64_t>(dims.size()) != dim())
    throw ShapeError("permute: " + std::to_string(dims.size()) + " dims given for a " +
                     std::to_string(dim()) + "-d tensor " + shape_str(shape()));
  Shape ns(dims.size()), nst(dims.size()), inv(dims.size());
  std::vector<bool> used(dims.size(), false);
  for (size_t i = 0; i < dims.size(); ++i) {
    int64_t d = wrap_dim(dims[i], dim(), "permute");
    if (used[d]) throw ValueError("permute: dim " + std::to_string(d) + " repeated in " + shape_str(dims));
    used[d] = true;
    ns[i] = shape()[d];
    nst[i] = strides()[d];
    inv[d] = static_cast<int64_t>(i);
  }
  Tensor out = make_view(*this, ns, nst, offset());
  autograd::record("permute", out, {*this}, [inv](const Tensor& g) { return std::vector<Tensor>{g.permute(inv)}; });
  return out;
}

Tensor Tensor::transpose(int64_t d0, int64_t d1) const {
  Shape p(dim());
  std::iota(p.begin(), p.end(), 0);
  if (dim() == 0) return *this;
  std::swap(p[wrap_dim(d0, dim(), "transpose")], p[wrap_dim(d1, dim(), "transpose")]);
  return permute(p);
}

Tensor Tensor::t() const {
  if (dim() > 2) throw ShapeError("t: expects a tensor of at most 2 dims, got " + shape_str(shape()));
  return dim() < 2 ? *this : transpose(0, 1);
}

Tensor Tensor::slice(int64_t d, int64_t start, int64_t end, int64_t step) const {
  if (dim() == 0) throw ShapeError("slice: cannot slice a 0-d tensor");
  d = wrap_dim(d, dim(), "slice");
  if (step < 1) throw ValueError("slice: step must be positive, got " + std::to_string(step));
  int64_t n = shape()[d];
  if (start < 0) start += n;
  if (end < 0) end += n;
  start = std::clamp<int64_t>(start, 0, n);
  end = std::clamp<int64_t>(end, start, n);
  Shape ns = shape(), nst = strides();
  ns[d] = (end - start + step - 1) / step;
  nst[d] = strides()[d] * step;
  Tensor out = make_view(*this, ns, nst, offset() + start * strides()[d]);
  record_slice("slice", out, *this, [d, start, end, step](const Tensor& z) { return z.slice(d, start, end, step); });
  return out;
}

Tensor Tensor::narrow(int64_t d, int64_t start, int64_t length) const {
  if (dim() == 0) throw ShapeError("narrow: cannot narrow a 0-d tensor");
  d = wrap_dim(d, dim(), "narrow");
  int64_t n = shape()[d];
  if (start < 0) start += n;
  if (start < 0 || length < 0 || start + length > n)
    throw ValueError("narrow: range [" + std::to_string(start) + ", " + std::to_string(start + length) +
                     ") out of bounds for dim " + std::to_string(d) + " of size " + std::to_string(n));
  return slice(d, start, start + length);
}

Tensor Tensor::select(int64_t d, int64_t index) const {
  if (dim() == 0) throw ShapeError("select: cannot select from a 0-d tensor");
  d = wrap_dim(d, dim(), "select");
  int64_t n = shape()[d];
  if (index < -n || index >= n)
    throw ValueError("select: index " + std::to_string(index) + " out of range for dim " +
                     std::to_string(d) + " of size " + std::to_string(n) + " in " + shape_str(shape()));
  if (index < 0) index += n;
  Shape ns = shape(), nst = strides();
  ns.erase(ns.begin() + d);
  nst.erase(nst.begin() + d);
  Tensor out = make_view(*this, ns, nst, offset() + index * strides()[d]);
  record_slice("select", out, *this, [d, index](const Tensor& z) { return z.select(d, index); });
  return out;
}

Tensor Tensor::expand(const Shape& shape_) const {
  if (shape_.size() < shape().size())
    throw ShapeError("expand: target " + shape_str(shape_) + " has fewer dims than " + shape_str(shape()));
  size_t lead = shape_.size() - shape().size();
  Shape ns(shape_.size()), nst(shape_.size(), 0);
  for (size_t i = 0; i < shape_.size(); ++i) {
    if (i < lead) {
      if (shape_[i] < 0) throw ShapeError("expand: -1 not allowed for new leading dims in " + shape_str(shape_));
      ns[i] = shape_[i];
      continue;
    }
    int64_t cur = shape()[i - lead], want = shape_[i] == -1 ? cur : shape_[i];
    if (cur != want && cur != 1)
      throw ShapeError("expand: cannot expand " + shape_str(shape()) + " to " + shape_str(shape_));
    ns[i] = want;
    nst[i] = cur == want ? strides()[i - lead] : 0;
  }
  Tensor out = make_view(*this, ns, nst, offset());
  Shape s = shape();
  autograd::record("expand", out, {*this}, [s](const Tensor& g) { return std::vector<Tensor>{sum_to(g, s)}; });
  return out;
}

Tensor Tensor::unsqueeze(int64_t d) const {
  d = wrap_dim(d, dim() + 1, "unsqueeze");
  Shape ns = shape();
  ns.insert(ns.begin() + d, 1);
  return view_strides(shape(), strides(), ns) ? view(ns) : reshape(ns);
}

Tensor Tensor::squeeze(int64_t d) const {
  if (dim() == 0) return *this;
  d = wrap_dim(d, dim(), "squeeze");
  if (shape()[d] != 1) return *this;
  Shape ns = shape();
  ns.erase(ns.begin() + d);
  return reshape(ns);
}

Tensor Tensor::squeeze() const {
  Shape ns;
  for (int64_t s : shape())
    if (s != 1) ns.push_back(s);
  return ns.size() == shape().size() ? *this : reshape(ns);
}

Tensor Tensor::clone() const {
  Tensor out = Tensor::empty(shape(), dtype());
  out.copy_(*this);
  if (dtype() == DType::Float32)
    autograd::record("contiguous", out, {*this}, [](const Tensor& g) { return std::vector<Tensor>{g}; });
  return out;
}

Tensor Tensor::contiguous() const { return is_contiguous() ? *this : clone(); }

Tensor Tensor::to(DType t) const {
  if (t == dtype()) return *this;
  Tensor out = Tensor::empty(shape(), t);
  out.copy_(*this);
  return out;  // not differentiable: only float32 carries gradients
}

std::vector<Tensor> Tensor::split(int64_t size, int64_t d) const {
  d = wrap_dim(d, dim(), "split");
  if (size <= 0) throw ValueError("split: size must be positive, got " + std::to_string(size));
  std::vector<Tensor> out;
  for (int64_t s = 0; s < shape()[d]; s += size) out.push_back(narrow(d, s, std::min(size, shape()[d] - s)));
  return out;
}

std::vector<Tensor> Tensor::chunk(int64_t chunks, int64_t d) const {
  if (chunks <= 0) throw ValueError("chunk: chunks must be positive, got " + std::to_string(chunks));
  d = wrap_dim(d, dim(), "chunk");
  int64_t size = (shape()[d] + chunks - 1) / chunks;
  return split(std::max<int64_t>(size, 1), d);
}

Tensor Tensor::sum() const { return qkv::sum(*this); }
Tensor Tensor::mean() const { return qkv::mean(*this); }
Tensor Tensor::sum(const Shape& dims, bool keepdim) const { return qkv::sum(*this, dims, keepdim); }
Tensor Tensor::mean(const Shape& dims, bool keepdim) const { return qkv::mean(*this, dims, keepdim); }
Tensor Tensor::exp() const { return qkv::exp(*this); }
Tensor Tensor::log() const { return qkv::log(*this); }
Tensor Tensor::matmul(const Tensor& other) const { return qkv::matmul(*this, other); }

// ---- joining

Tensor cat(const std::vector<Tensor>& ts, int64_t dim) {
  if (ts.empty()) throw ValueError("cat: expects at least one tensor");
  const Tensor& first = ts[0];
  int64_t d = wrap_dim(dim, first.dim(), "cat");
  Shape out_shape = first.shape();
  int64_t total = 0;
  for (size_t i = 0; i < ts.size(); ++i) {
    const Tensor& t = ts[i];
    ops::check_defined(t, "cat", "a tensor");
    if (t.dtype() != first.dtype())
      throw ValueError(std::string("cat: tensor ") + std::to_string(i) + " is " + dtype_name(t.dtype()) +
                       ", tensor 0 is " + dtype_name(first.dtype()));
    bool ok = t.dim() == first.dim();
    for (int64_t k = 0; ok && k < t.dim(); ++k)
      if (k != d && t.shape()[k] != first.shape()[k]) ok = false;
    if (!ok)
      throw ShapeError("cat: tensor " + std::to_string(i) + " has shape " + shape_str(t.shape()) +
                       ", incompatible with " + shape_str(first.shape()) + " along dim " + std::to_string(d));
    total += t.shape()[d];
  }
  out_shape[d] = total;
  Tensor out = Tensor::empty(out_shape, first.dtype());
  std::vector<int64_t> sizes;
  {
    NoGradGuard ng;
    int64_t at = 0;
    for (const Tensor& t : ts) {
      out.narrow(d, at, t.shape()[d]).copy_(t);
      sizes.push_back(t.shape()[d]);
      at += t.shape()[d];
    }
  }
  if (first.dtype() == DType::Float32)
    autograd::record("cat", out, ts, [sizes, d](const Tensor& g) {
      std::vector<Tensor> gs;
      int64_t at = 0;
      for (int64_t s : sizes) {
        gs.push_back(g.narrow(d, at, s));
        at += s;
      }
      return gs;
    });
  return out;
}

Tensor stack(const std::vector<Tensor>& ts, int64_t dim) {
  if (ts.empty()) throw ValueError("stack: expects at least one tensor");
  std::vector<Tensor> us;
  for (size_t i = 0; i < ts.size(); ++i) {
    if (ts[i].shape() != ts[0].shape())
      throw ShapeError("stack: tensor " + std::to_string(i) + " has shape " + shape_str(ts[i].shape()) +
                       ", tensor 0 has " + shape_str(ts[0].shape()));
    us.push_back(ts[i].unsqueeze(dim));
  }
  return cat(us, dim);
}

namespace {
// Keeps entries (i, j) of the last two dims with j - i <= k (lower) or >= k
// (upper); works for every dtype (masks are often built with tril(ones)).
Tensor triangle(const Tensor& t, int64_t k, bool lower, const char* name) {
  ops::check_defined(t, name, "input");
  if (t.dim() < 2) throw ShapeError(std::string(name) + ": expects at least 2 dims, got " + shape_str(t.shape()));
  Tensor out = t.clone().detach();
  int64_t R = t.size(-2), C = t.size(-1), batch = out.numel() / std::max<int64_t>(R * C, 1);
  size_t es = dtype_size(t.dtype());
  char* p = static_cast<char*>(out.raw_data());
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t i = 0; i < R; ++i)
      for (int64_t j = 0; j < C; ++j)
        if (lower ? (j - i > k) : (j - i < k)) std::memset(p + ((b * R + i) * C + j) * es, 0, es);
  autograd::record(name, out, {t}, [k, lower, name](const Tensor& g) {
    return std::vector<Tensor>{triangle(g, k, lower, name)};
  });
  return out;
}
}  // namespace

Tensor tril(const Tensor& t, int64_t k) { return triangle(t, k, true, "tril"); }
Tensor triu(const Tensor& t, int64_t k) { return triangle(t, k, false, "triu"); }

}  // namespace qkv
