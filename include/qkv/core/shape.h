// qkv/core/shape.h — shapes, strides and the broadcasting rule.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace qkv {

using Shape = std::vector<int64_t>;

// "[2,3,4]" — the form every error message uses.
std::string shape_str(const Shape& s);
int64_t shape_numel(const Shape& s);
// Row-major (C-order) strides, in elements.
Shape contiguous_strides(const Shape& s);
// NumPy broadcasting of two shapes; throws ShapeError naming `op` and both.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);
// Wraps a possibly negative dim into [0, ndim); throws ValueError naming `op`.
int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op);

}  // namespace qkv
