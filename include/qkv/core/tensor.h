// qkv/core/tensor.h — the n-dimensional array everything in qkv is made of.
//
// A Tensor is a cheap handle (shared pointer) to a TensorImpl: a Storage (a
// 64-byte aligned block from the caching allocator), a shape, strides and an
// offset in elements, a dtype, and autograd metadata (requires_grad, .grad,
// and the graph node that produced it). Views (reshape, permute, narrow,
// select, expand, ...) share storage with their base; copying a Tensor copies
// the handle, never the data (use clone() for that).
//
//   Tensor x = qkv::randn({2, 3}, gen).requires_grad_();
//   Tensor y = (x * x).sum();          // ops record a graph node
//   y.backward();                      // x.grad() == 2x
//
// Member functions that compute (views, arithmetic, reductions) are ops: they
// are declared here for convenience and implemented in src/qkv/ops/, where
// each records its backward rule (see docs/ARCHITECTURE.md).
#pragma once
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "qkv/core/dtype.h"
#include "qkv/core/error.h"
#include "qkv/core/shape.h"

namespace qkv {

namespace autograd {
struct Node;
}

// An aligned byte buffer from the caching allocator, returned to it on
// release — or memory owned elsewhere (a NumPy array), which `owner` keeps
// alive for as long as the storage lives and which is never freed here.
struct Storage {
  explicit Storage(size_t nbytes);
  Storage(void* external, size_t nbytes, std::shared_ptr<void> owner);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  void* data = nullptr;
  size_t nbytes = 0;
  std::shared_ptr<void> owner;  // set for external memory only
};

class Tensor;

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  Shape shape;
  Shape strides;       // in elements
  int64_t offset = 0;  // in elements
  DType dtype = DType::Float32;
  // autograd
  bool requires_grad = false;
  std::shared_ptr<TensorImpl> grad;            // accumulated gradient (leaves)
  std::shared_ptr<autograd::Node> grad_fn;     // producer node (non-leaves)
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}
  // A new contiguous tensor with uninitialised contents.
  static Tensor empty(const Shape& shape, DType dtype = DType::Float32);
  // A tensor over memory qkv does not own (no copy): element (i, j, …) is at
  // data + (i·strides[0] + j·strides[1] + …)·dtype_size. `owner` keeps the
  // memory alive until the last view of it goes. ValueError for a negative
  // dimension or stride, a null or misaligned pointer (it must be aligned to
  // the element size; qkv's own storage is 64-byte aligned, and no kernel
  // needs more than element alignment of its inputs).
  static Tensor from_blob(void* data, const Shape& shape, const Shape& strides, DType dtype,
                          std::shared_ptr<void> owner);

  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return impl().shape; }
  const Shape& strides() const { return impl().strides; }
  int64_t offset() const { return impl().offset; }
  int64_t dim() const { return static_cast<int64_t>(impl().shape.size()); }
  int64_t size(int64_t d) const;  // negative d counts from the end
  int64_t stride(int64_t d) const;
  int64_t numel() const { return shape_numel(impl().shape); }
  DType dtype() const { return impl().dtype; }
  bool is_contiguous() const;
  std::string str() const;  // "Tensor(float32, [2,3])"

  // Typed pointer to element 0 (storage + offset). Throws ValueError if T does
  // not match dtype(). Indexing must follow strides() unless is_contiguous().
  template <class T> T* data() const {
    check_dtype(dtype_of<T>::value, "data");
    return static_cast<T*>(impl().storage->data) + impl().offset;
  }
  void* raw_data() const;

  // Contents, converted to float / int64, in row-major order (any layout).
  std::vector<float> to_vector() const;
  std::vector<int64_t> to_int_vector() const;
  float item() const;  // requires numel() == 1

  // --- autograd (src/qkv/autograd/) ---
  bool requires_grad() const { return impl().requires_grad; }
  // Marks a leaf as needing .grad; throws for non-float dtypes.
  Tensor& requires_grad_(bool on = true);
  Tensor grad() const;  // undefined Tensor if none accumulated yet
  void set_grad(const Tensor& g);
  void zero_grad();     // drops .grad (the next backward starts from zero)
  // Backpropagates from this tensor: a scalar gets seed 1, otherwise pass
  // `gradient` of the same shape. Frees the graph afterwards.
  void backward(const Tensor& gradient = Tensor()) const;
  const std::shared_ptr<autograd::Node>& grad_fn() const { return impl().grad_fn; }
  bool is_leaf() const { return impl().grad_fn == nullptr; }
  // Same storage, no history, requires_grad false.
  Tensor detach() const;

  // --- views (share storage; differentiable) — src/qkv/ops/views.cpp ---
  Tensor view(const Shape& shape) const;     // requires compatible strides
  Tensor reshape(const Shape& shape) const;  // view if possible, else copy; one -1 allowed
  Tensor permute(const Shape& dims) const;
  Tensor transpose(int64_t d0, int64_t d1) const;
  Tensor t() const;  // 2-D transpose
  Tensor narrow(int64_t dim, int64_t start, int64_t length) const;
  Tensor slice(int64_t dim, int64_t start, int64_t end, int64_t step = 1) const;
  Tensor select(int64_t dim, int64_t index) const;
  Tensor expand(const Shape& shape) const;  // -1 keeps a dim
  Tensor unsqueeze(int64_t dim) const;
  Tensor squeeze(int64_t dim) const;
  Tensor squeeze() const;                   // all size-1 dims
  Tensor flatten(int64_t start = 0, int64_t end = -1) const;
  Tensor contiguous() const;                // self if already contiguous
  Tensor clone() const;                     // always a fresh contiguous copy
  std::vector<Tensor> split(int64_t size, int64_t dim = 0) const;
  std::vector<Tensor> chunk(int64_t chunks, int64_t dim = 0) const;
  Tensor to(DType dtype) const;             // conversion (differentiable f32→f32 only)

  // --- in-place, no autograd (for optimizers and init) ---
  Tensor& fill_(float value);
  Tensor& copy_(const Tensor& src);  // src broadcast to this shape; dtype converted

  // --- common ops as methods (src/qkv/ops/) ---
  Tensor sum() const;
  Tensor mean() const;
  Tensor sum(const Shape& dims, bool keepdim = false) const;
  Tensor mean(const Shape& dims, bool keepdim = false) const;
  Tensor exp() const;
  Tensor log() const;
  Tensor matmul(const Tensor& other) const;

  TensorImpl& impl() const {
    if (!impl_) throw ValueError("use of an undefined Tensor");
    return *impl_;
  }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  bool same(const Tensor& o) const { return impl_ == o.impl_; }

 private:
  void check_dtype(DType want, const char* what) const;
  std::shared_ptr<TensorImpl> impl_;
};

// --- creation (src/qkv/core/factory.cpp) ---
class Generator;
Tensor zeros(const Shape& shape, DType dtype = DType::Float32);
Tensor ones(const Shape& shape, DType dtype = DType::Float32);
Tensor full(const Shape& shape, float value, DType dtype = DType::Float32);
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);
Tensor arange(double start, double end, double step = 1, DType dtype = DType::Int64);
Tensor arange(int64_t end, DType dtype = DType::Int64);
Tensor eye(int64_t n, DType dtype = DType::Float32);
Tensor tensor(const std::vector<float>& values, const Shape& shape);
Tensor tensor(const std::vector<float>& values);  // 1-D
Tensor tensor_i64(const std::vector<int64_t>& values, const Shape& shape);
Tensor tensor_bool(const std::vector<bool>& values, const Shape& shape);
Tensor scalar_tensor(float v);  // 0-d
Tensor randn(const Shape& shape, Generator& gen);           // N(0,1)
Tensor rand(const Shape& shape, Generator& gen);            // U[0,1)
Tensor randint(int64_t low, int64_t high, const Shape& shape, Generator& gen);

}  // namespace qkv
