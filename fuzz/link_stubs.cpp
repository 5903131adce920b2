// The fuzz tree compiles only the library sources its targets reach
// (fuzz/CMakeLists.txt). io/safetensors.cpp's save path can copy a
// non-contiguous tensor (Tensor::detach/contiguous, implemented in ops/ and
// autograd/, which this tree leaves out); nothing here saves one, so these
// stand-ins only have to link — and say so loudly if that ever changes.
#include <cstdio>
#include <cstdlib>

#include "qkv/core/tensor.h"

namespace qkv {

namespace {
[[noreturn]] void not_in_fuzz_tree(const char* what) {
  std::fprintf(stderr, "qkv fuzz: %s is not linked into the fuzz tree (fuzz/link_stubs.cpp)\n", what);
  std::abort();
}
}  // namespace

Tensor Tensor::detach() const { not_in_fuzz_tree("Tensor::detach"); }
Tensor Tensor::contiguous() const { not_in_fuzz_tree("Tensor::contiguous"); }

}  // namespace qkv
