// qkv/kernels/row_invariant.h — batch-invariant products for decoding.
//
// A GEMM's rounding depends on its shape: oneDNN and the GEMV kernels pick
// loop orders, blockings and reduction trees by the number of rows M, so a
// row of x multiplied alone (M = 1) and the same row inside a batch can
// differ in the last bit — and a sampled token near a probability boundary
// then differs too. While a RowInvariantScope is alive on a thread, the
// linear products started from that thread (linear(), linear_quantized())
// compute every row exactly as they would for that row alone, bit for bit:
// the GEMV kernels take the loop order M = 1 would take for any M, and rows
// the GEMV does not serve go through the GEMM one at a time. Continuous
// batching (generate/continuous.h) decodes under it, so a request's tokens do
// not depend on what shares its batch (issue #13's soak found 9 of 692
// sampled completions differing before).
#pragma once

namespace qkv::kernels {

namespace detail {
inline thread_local int row_invariant_depth = 0;
}

// Whether products started on this thread must be row-invariant.
inline bool row_invariant() { return detail::row_invariant_depth > 0; }

class RowInvariantScope {
 public:
  RowInvariantScope() { ++detail::row_invariant_depth; }
  ~RowInvariantScope() { --detail::row_invariant_depth; }
  RowInvariantScope(const RowInvariantScope&) = delete;
  RowInvariantScope& operator=(const RowInvariantScope&) = delete;
};

}  // namespace qkv::kernels
