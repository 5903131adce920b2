// The text fixture format written by tests/fixtures/make_op_fixtures.py and
// tests/fixtures/nn/make_nn_fixtures.py, one tensor per line:
//   name kind ndim d0 d1 … : v0 v1 …      (kind f32, i64 or bool; '#' comments)
#pragma once
#include <map>
#include <string>

#include "qkv/core/tensor.h"

namespace qkv::testing {

// name → tensor; IOError naming the file and line for malformed input.
std::map<std::string, Tensor> load_text_fixtures(const std::string& path);

}  // namespace qkv::testing
