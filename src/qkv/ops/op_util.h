// Internal helpers shared by the op files.
#pragma once
#include <string>

#include "qkv/autograd/autograd.h"
#include "qkv/core/tensor.h"
#include "qkv/ops/ops.h"

namespace qkv::ops {

inline void check_defined(const Tensor& t, const char* op, const char* what) {
  if (!t.defined()) throw ValueError(std::string(op) + ": " + what + " is undefined");
}

inline void check_float(const Tensor& t, const char* op, const char* what = "input") {
  check_defined(t, op, what);
  if (t.dtype() != DType::Float32)
    throw ValueError(std::string(op) + ": " + what + " must be float32, got " +
                     dtype_name(t.dtype()) + " " + shape_str(t.shape()));
}

// Strides of `t` broadcast to `shape` (0 on broadcast dims).
inline Shape broadcast_strides(const Tensor& t, const Shape& shape) {
  Shape st(shape.size(), 0);
  size_t lead = shape.size() - t.shape().size();
  for (size_t i = 0; i < t.shape().size(); ++i)
    st[lead + i] = t.shape()[i] == 1 ? 0 : t.strides()[i];
  return st;
}

// Sorted, wrapped, de-duplicated reduction dims; empty `dims` means all.
std::vector<int64_t> normalize_dims(const Shape& dims, int64_t ndim, const char* op);

}  // namespace qkv::ops
