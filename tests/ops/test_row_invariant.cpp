// Row invariance (kernels/row_invariant.h): under RowInvariantScope, every row
// of linear() and linear_quantized() is bit for bit the row computed alone
// (M = 1), for batches that take other kernels otherwise (M > 4, M·K·4 >
// 16 KiB, M > 32 for the quantized dot kernels, K > 4096 where one row uses
// the GEMM); and attention over a left-padded row (a boolean mask) equals the
// same row without its padding.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "qkv/autograd/autograd.h"
#include "qkv/kernels/row_invariant.h"
#include "qkv/ops/ops.h"
#include "qkv/ops/quantized.h"

using namespace qkv;

namespace {

bool same_bits(const Tensor& a, const Tensor& b) {
  const Tensor ca = a.contiguous(), cb = b.contiguous();
  return ca.numel() == cb.numel() && std::memcmp(ca.data<float>(), cb.data<float>(), ca.numel() * sizeof(float)) == 0;
}

// f(x) for the whole batch under the scope against f(row) alone, row by row.
template <class F>
void expect_rows_as_alone(const F& f, int64_t M, int64_t K, const std::string& what) {
  Generator gen(M * 7919 + K);
  const Tensor x = randn({M, K}, gen);
  Tensor batched;
  {
    kernels::RowInvariantScope scope;
    batched = f(x);
  }
  for (int64_t m = 0; m < M; ++m)
    EXPECT_TRUE(same_bits(batched.select(0, m), f(x.narrow(0, m, 1)).select(0, 0)))
        << what << " M=" << M << " K=" << K << ": row " << m << " differs from the row alone";
}

}  // namespace

TEST(RowInvariance, LinearRowsEqualTheRowAlone) {
  NoGradGuard ng;
  for (int64_t K : {128, 1000, 3072, 5000})
    for (int64_t M : {2, 5, 9, 40}) {
      Generator gen(K);
      const Tensor w = randn({37, K}, gen), b = randn({37}, gen);
      expect_rows_as_alone([&](const Tensor& x) { return linear(x, w, b); }, M, K, "f32");
      expect_rows_as_alone([&](const Tensor& x) { return linear(x, w); }, M, K, "f32 no bias");
    }
}

TEST(RowInvariance, QuantizedRowsEqualTheRowAlone) {
  NoGradGuard ng;
  for (WeightFormat f : {WeightFormat::BF16, WeightFormat::Int8})
    for (int64_t K : {768, 3072, 5000})
      for (int64_t M : {3, 9, 40}) {
        Generator gen(K);
        const Tensor w = randn({37, K}, gen).contiguous(), b = randn({37}, gen);
        const QuantizedMatrix q = QuantizedMatrix::quantize(w.data<float>(), 37, K, K, f);
        expect_rows_as_alone([&](const Tensor& x) { return linear_quantized(x, q, b); }, M, K,
                             kernels::weight_format_name(f));
      }
}

// A row left-padded by p masked keys attends exactly as the row without them.
TEST(RowInvariance, AttentionSkipsLeftPadding) {
  NoGradGuard ng;
  Generator gen(3);
  const int64_t H = 2, hs = 64, n = 37;
  const Tensor q = randn({1, H, 1, hs}, gen), k = randn({1, H, n, hs}, gen), v = randn({1, H, n, hs}, gen);
  const Tensor alone = scaled_dot_product_attention(q, k, v);
  for (int64_t pad : {1, 5, 16, 27}) {
    const Tensor junk = randn({1, H, pad, hs}, gen);
    std::vector<bool> mask(static_cast<size_t>(pad + n), true);
    for (int64_t s = 0; s < pad; ++s) mask[static_cast<size_t>(s)] = false;
    AttentionOptions o;
    o.mask = tensor_bool(mask, {1, 1, 1, pad + n});
    const Tensor padded = scaled_dot_product_attention(q, cat({junk, k}, 2), cat({junk, v}, 2), o);
    EXPECT_TRUE(same_bits(padded, alone)) << "pad " << pad;
  }
}
