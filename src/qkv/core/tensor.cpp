#include "qkv/core/tensor.h"

#include <cmath>
#include <cstring>

#include "qkv/core/allocator.h"
#include "qkv/core/rng.h"
#include "qkv/core/strided.h"

namespace qkv {

Storage::Storage(size_t n) : data(storage_alloc(n)), nbytes(n) {}
// External memory is never freed here: a caller that keeps it alive itself
// passes no owner, and a placeholder stands in so the destructor can tell.
Storage::Storage(void* external, size_t n, std::shared_ptr<void> keep)
    : data(external), nbytes(n), owner(keep ? std::move(keep) : std::make_shared<char>(0)) {}
Storage::~Storage() {
  if (!owner) storage_free(data, nbytes);
}

Tensor Tensor::empty(const Shape& shape, DType dtype) {
  for (int64_t d : shape)
    if (d < 0) throw ValueError("empty: negative dimension in shape " + shape_str(shape));
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(shape_numel(shape) * dtype_size(dtype));
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

Tensor Tensor::from_blob(void* data, const Shape& shape, const Shape& strides, DType dtype,
                         std::shared_ptr<void> owner) {
  const std::string what = "from_blob: " + shape_str(shape) + " " + dtype_name(dtype);
  if (strides.size() != shape.size())
    throw ValueError(what + ": " + std::to_string(strides.size()) + " strides for " + std::to_string(shape.size()) +
                     " dimensions");
  const size_t item = dtype_size(dtype);
  if (data == nullptr && shape_numel(shape) > 0) throw ValueError(what + ": null data pointer");
  if (reinterpret_cast<uintptr_t>(data) % item != 0)
    throw ValueError(what + ": data is not aligned to its " + std::to_string(item) + "-byte elements");
  int64_t last = 0;  // offset of the last element, in elements
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] < 0) throw ValueError(what + ": negative dimension");
    if (strides[d] < 0)
      throw ValueError(what + ": negative stride " + std::to_string(strides[d]) + " in dimension " +
                       std::to_string(d) + " (qkv views have non-negative strides; make a contiguous copy)");
    if (shape[d] > 0) last += (shape[d] - 1) * strides[d];
  }
  const size_t nbytes = shape_numel(shape) == 0 ? 0 : static_cast<size_t>(last + 1) * item;
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(data, nbytes, std::move(owner));
  impl->shape = shape;
  impl->strides = strides;
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

int64_t Tensor::size(int64_t d) const { return shape()[wrap_dim(d, dim(), "size")]; }
int64_t Tensor::stride(int64_t d) const { return strides()[wrap_dim(d, dim(), "stride")]; }

bool Tensor::is_contiguous() const {
  int64_t expect = 1;
  for (int64_t d = dim() - 1; d >= 0; --d) {
    if (shape()[d] == 1) continue;
    if (strides()[d] != expect) return false;
    expect *= shape()[d];
  }
  return true;
}

std::string Tensor::str() const {
  if (!defined()) return "Tensor(undefined)";
  return std::string("Tensor(") + dtype_name(dtype()) + ", " + shape_str(shape()) + ")";
}

void* Tensor::raw_data() const {
  return static_cast<char*>(impl().storage->data) + impl().offset * dtype_size(dtype());
}

void Tensor::check_dtype(DType want, const char* what) const {
  if (dtype() != want)
    throw ValueError(std::string(what) + ": tensor is " + dtype_name(dtype()) + ", expected " +
                     dtype_name(want));
}

namespace {

// Reads element `off` (in elements from storage start) of any dtype as double.
double load(const void* base, DType t, int64_t off) {
  switch (t) {
    case DType::Float32: return static_cast<const float*>(base)[off];
    case DType::BFloat16: {
      uint32_t bits = static_cast<uint32_t>(static_cast<const uint16_t*>(base)[off]) << 16;
      float f;
      std::memcpy(&f, &bits, 4);
      return f;
    }
    case DType::Int64: return static_cast<double>(static_cast<const int64_t*>(base)[off]);
    case DType::Int32: return static_cast<const int32_t*>(base)[off];
    case DType::Int8: return static_cast<const int8_t*>(base)[off];
    case DType::UInt8: return static_cast<const uint8_t*>(base)[off];
    case DType::Bool: return static_cast<const uint8_t*>(base)[off] ? 1 : 0;
  }
  return 0;
}

void store(void* base, DType t, int64_t off, double v) {
  switch (t) {
    case DType::Float32: static_cast<float*>(base)[off] = static_cast<float>(v); break;
    case DType::BFloat16: {  // round to nearest even
      float f = static_cast<float>(v);
      uint32_t bits;
      std::memcpy(&bits, &f, 4);
      bits += 0x7FFF + ((bits >> 16) & 1);
      static_cast<uint16_t*>(base)[off] = static_cast<uint16_t>(bits >> 16);
      break;
    }
    case DType::Int64: static_cast<int64_t*>(base)[off] = static_cast<int64_t>(v); break;
    case DType::Int32: static_cast<int32_t*>(base)[off] = static_cast<int32_t>(v); break;
    case DType::Int8: static_cast<int8_t*>(base)[off] = static_cast<int8_t>(v); break;
    case DType::UInt8: static_cast<uint8_t*>(base)[off] = static_cast<uint8_t>(v); break;
    case DType::Bool: static_cast<uint8_t*>(base)[off] = v != 0; break;
  }
}

Shape broadcast_strides_to(const Tensor& src, const Shape& shape, const char* op) {
  Shape bs = broadcast_shapes(src.shape(), shape, op);
  if (bs != shape)
    throw ShapeError(std::string(op) + ": cannot broadcast " + shape_str(src.shape()) + " to " +
                     shape_str(shape));
  Shape st(shape.size(), 0);
  size_t lead = shape.size() - src.shape().size();
  for (size_t i = 0; i < src.shape().size(); ++i)
    st[lead + i] = src.shape()[i] == 1 ? 0 : src.strides()[i];
  return st;
}

}  // namespace

std::vector<float> Tensor::to_vector() const {
  std::vector<float> out(numel());
  if (out.empty()) return out;
  const void* base = impl().storage->data;
  DType t = dtype();
  int64_t k = 0;
  Shape dst = contiguous_strides(shape());
  strided_apply<1>(shape(), {strides()}, [&](const std::array<int64_t, 1>& off, int64_t n,
                                             const std::array<int64_t, 1>& is) {
    for (int64_t j = 0; j < n; ++j) out[k++] = static_cast<float>(load(base, t, offset() + off[0] + j * is[0]));
  });
  return out;
}

std::vector<int64_t> Tensor::to_int_vector() const {
  std::vector<int64_t> out(numel());
  if (out.empty()) return out;
  const void* base = impl().storage->data;
  DType t = dtype();
  int64_t k = 0;
  strided_apply<1>(shape(), {strides()}, [&](const std::array<int64_t, 1>& off, int64_t n,
                                             const std::array<int64_t, 1>& is) {
    for (int64_t j = 0; j < n; ++j) {
      int64_t o = offset() + off[0] + j * is[0];
      out[k++] = t == DType::Int64 ? static_cast<const int64_t*>(base)[o]
                                   : static_cast<int64_t>(load(base, t, o));
    }
  });
  return out;
}

float Tensor::item() const {
  if (numel() != 1)
    throw ValueError("item: tensor of shape " + shape_str(shape()) + " has " +
                     std::to_string(numel()) + " elements, expected 1");
  return static_cast<float>(load(impl().storage->data, dtype(), offset()));
}

Tensor& Tensor::fill_(float value) {
  void* base = impl().storage->data;
  DType t = dtype();
  int64_t o0 = offset();
  if (t == DType::Float32) {
    float* p = static_cast<float*>(base);
    strided_apply<1>(shape(), {strides()}, [&](const std::array<int64_t, 1>& off, int64_t n,
                                               const std::array<int64_t, 1>& is) {
      float* q = p + o0 + off[0];
      if (is[0] == 1) {
#pragma omp simd
        for (int64_t j = 0; j < n; ++j) q[j] = value;
      } else {
        for (int64_t j = 0; j < n; ++j) q[j * is[0]] = value;
      }
    }, true);
    return *this;
  }
  strided_apply<1>(shape(), {strides()}, [&](const std::array<int64_t, 1>& off, int64_t n,
                                             const std::array<int64_t, 1>& is) {
    for (int64_t j = 0; j < n; ++j) store(base, t, o0 + off[0] + j * is[0], value);
  });
  return *this;
}

Tensor& Tensor::copy_(const Tensor& src) {
  Shape sst = broadcast_strides_to(src, shape(), "copy_");
  void* dbase = impl().storage->data;
  const void* sbase = src.impl().storage->data;
  DType dt = dtype(), st = src.dtype();
  int64_t doff = offset(), soff = src.offset();
  if (dt == st && dt == DType::Float32) {
    float* d = static_cast<float*>(dbase);
    const float* s = static_cast<const float*>(sbase);
    strided_apply<2>(shape(), {strides(), sst}, [&](const std::array<int64_t, 2>& off, int64_t n,
                                                    const std::array<int64_t, 2>& is) {
      float* q = d + doff + off[0];
      const float* r = s + soff + off[1];
      if (is[0] == 1 && is[1] == 1) {
        std::memcpy(q, r, n * sizeof(float));
      } else {
        for (int64_t j = 0; j < n; ++j) q[j * is[0]] = r[j * is[1]];
      }
    }, true);
    return *this;
  }
  if (dt == st) {  // same dtype: raw element copy
    size_t es = dtype_size(dt);
    strided_apply<2>(shape(), {strides(), sst}, [&](const std::array<int64_t, 2>& off, int64_t n,
                                                    const std::array<int64_t, 2>& is) {
      for (int64_t j = 0; j < n; ++j)
        std::memcpy(static_cast<char*>(dbase) + (doff + off[0] + j * is[0]) * es,
                    static_cast<const char*>(sbase) + (soff + off[1] + j * is[1]) * es, es);
    });
    return *this;
  }
  strided_apply<2>(shape(), {strides(), sst}, [&](const std::array<int64_t, 2>& off, int64_t n,
                                                  const std::array<int64_t, 2>& is) {
    for (int64_t j = 0; j < n; ++j)
      store(dbase, dt, doff + off[0] + j * is[0], load(sbase, st, soff + off[1] + j * is[1]));
  });
  return *this;
}

// ---------------------------------------------------------------- factories

Tensor zeros(const Shape& shape, DType dtype) {
  Tensor t = Tensor::empty(shape, dtype);
  std::memset(t.raw_data(), 0, t.numel() * dtype_size(dtype));
  return t;
}
Tensor ones(const Shape& shape, DType dtype) { return full(shape, 1.0f, dtype); }
Tensor full(const Shape& shape, float value, DType dtype) {
  Tensor t = Tensor::empty(shape, dtype);
  t.fill_(value);
  return t;
}
Tensor zeros_like(const Tensor& t) { return zeros(t.shape(), t.dtype()); }
Tensor ones_like(const Tensor& t) { return ones(t.shape(), t.dtype()); }

Tensor arange(double start, double end, double step, DType dtype) {
  if (step == 0) throw ValueError("arange: step must be non-zero");
  double n = std::ceil((end - start) / step);
  int64_t len = n > 0 ? static_cast<int64_t>(n) : 0;
  Tensor t = Tensor::empty({len}, dtype);
  void* b = t.raw_data();
  for (int64_t i = 0; i < len; ++i) store(b, dtype, i, start + i * step);
  return t;
}
Tensor arange(int64_t end, DType dtype) { return arange(0, static_cast<double>(end), 1, dtype); }

Tensor eye(int64_t n, DType dtype) {
  Tensor t = zeros({n, n}, dtype);
  for (int64_t i = 0; i < n; ++i) store(t.raw_data(), dtype, i * n + i, 1);
  return t;
}

Tensor tensor(const std::vector<float>& values, const Shape& shape) {
  if (shape_numel(shape) != static_cast<int64_t>(values.size()))
    throw ShapeError("tensor: " + std::to_string(values.size()) + " values do not fill shape " +
                     shape_str(shape));
  Tensor t = Tensor::empty(shape);
  if (!values.empty()) std::memcpy(t.data<float>(), values.data(), values.size() * sizeof(float));
  return t;
}
Tensor tensor(const std::vector<float>& values) {
  return tensor(values, {static_cast<int64_t>(values.size())});
}
Tensor tensor_i64(const std::vector<int64_t>& values, const Shape& shape) {
  if (shape_numel(shape) != static_cast<int64_t>(values.size()))
    throw ShapeError("tensor_i64: " + std::to_string(values.size()) +
                     " values do not fill shape " + shape_str(shape));
  Tensor t = Tensor::empty(shape, DType::Int64);
  if (!values.empty()) std::memcpy(t.data<int64_t>(), values.data(), values.size() * 8);
  return t;
}
Tensor tensor_bool(const std::vector<bool>& values, const Shape& shape) {
  if (shape_numel(shape) != static_cast<int64_t>(values.size()))
    throw ShapeError("tensor_bool: " + std::to_string(values.size()) +
                     " values do not fill shape " + shape_str(shape));
  Tensor t = Tensor::empty(shape, DType::Bool);
  uint8_t* p = static_cast<uint8_t*>(t.raw_data());
  for (size_t i = 0; i < values.size(); ++i) p[i] = values[i];
  return t;
}
Tensor scalar_tensor(float v) { return full({}, v); }

Tensor randn(const Shape& shape, Generator& gen) {
  Tensor t = Tensor::empty(shape);
  float* p = t.data<float>();
  for (int64_t i = 0, n = t.numel(); i < n; ++i) p[i] = gen.normal();
  return t;
}
Tensor rand(const Shape& shape, Generator& gen) {
  Tensor t = Tensor::empty(shape);
  float* p = t.data<float>();
  for (int64_t i = 0, n = t.numel(); i < n; ++i) p[i] = gen.uniform();
  return t;
}
Tensor randint(int64_t low, int64_t high, const Shape& shape, Generator& gen) {
  if (high <= low) throw ValueError("randint: empty range [" + std::to_string(low) + ", " +
                                    std::to_string(high) + ")");
  Tensor t = Tensor::empty(shape, DType::Int64);
  int64_t* p = t.data<int64_t>();
  uint64_t span = static_cast<uint64_t>(high - low);
  for (int64_t i = 0, n = t.numel(); i < n; ++i)
    p[i] = low + static_cast<int64_t>(gen.next_u64() % span);
  return t;
}

}  // namespace qkv
