// Comparing tensors in tests.
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "qkv/core/tensor.h"

namespace qkv::testing {

// max |a − b| over the elements (after an EXPECT that the shapes agree).
inline float max_abs_diff(const Tensor& a, const Tensor& b) {
  EXPECT_EQ(a.shape(), b.shape());
  const auto x = a.to_vector(), y = b.to_vector();
  float m = 0;
  for (size_t i = 0; i < x.size() && i < y.size(); ++i) m = std::max(m, std::fabs(x[i] - y[i]));
  return m;
}

}  // namespace qkv::testing
