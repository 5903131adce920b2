// tests/ops/gradcheck.h — the op-case table and the checks run on every entry.
//
// tests/ops/op_cases.cpp holds one OpCase per op of qkv/ops/op_list.h (keyed
// by the op-list name: "compare" covers eq/ne/lt/le/gt/ge, "view" covers
// reshape/view/flatten/squeeze/unsqueeze, "slice" covers narrow/slice/select/
// split/chunk, "max"/"min" cover both max(dim) and amax/amin). Each OpCase has
// variants — contiguous, transposed/permuted and sliced (non-contiguous)
// inputs, broadcasting, size-1 dims, 0-d tensors, odd widths (17, 33) for the
// SIMD tails, masks for attention — and tests/ops/test_op_runner.cpp turns
// every variant into these checks:
//
//  kGrad     analytic gradient vs central finite differences. The objective is
//            L(x) = Σ_j w_j · f(x)_j with fixed random weights w (so every
//            output element and every input element is exercised at once);
//            backward(w) gives ∂L/∂x analytically, and for (up to
//            kMaxProbes per input, deterministically chosen) elements
//            ∂L/∂x_i ≈ (L(x + ε e_i) − L(x − ε e_i)) / 2ε.
//            Be honest about the precision: the op itself computes in
//            float32 (qkv has no float64 path), and only the weighted sum L
//            and the differencing are done in double. With ε ≈ 1e-3 the
//            float32 rounding of f (≈ 6e-8·|f| per element) divided by 2ε
//            gives errors around 1e-4·√n, so we compare with
//            |analytic − numeric| ≤ atol + rtol·|numeric|, atol = rtol ≈ 1e-2
//            by default. Inputs are drawn away from kinks (relu/abs at 0,
//            clamp bounds, ties in max/min) so ±ε never crosses one.
//            QKV_GRADCHECK_REPORT=1 prints, per variant and input, the worst
//            |analytic − numeric| and how much of the tolerance it used.
//  kRef      fast-vs-reference: the op against a second implementation —
//            a composed path built from other ops (fused attention vs
//            matmul/softmax/matmul, softmax vs exp/sum, layer_norm vs
//            mean/var, cross_entropy vs −log_softmax·one-hot, …) or plain
//            double-precision loops. Forward values are compared with
//            ref_atol/ref_rtol; when the reference is differentiable, the
//            gradients of Σ w ⊙ f are compared too (ref_grad_tol).
//  kThreads  forward + backward under qkv::set_num_threads(1) and (2) must
//            agree to 1e-6 (relative, ~bitwise for everything but GEMM
//            backends). Variants tagged with it are sized to take the
//            parallel paths (> 65536 elements for elementwise ops, ≥ 64×256
//            rows for the row kernels, BH > 1 for attention).
//  kNoGraph  ops without a gradient (comparisons, argmax, max's indices):
//            even with inputs that require grad, nothing is recorded, and the
//            output must equal the reference exactly.
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "qkv/qkv.h"

namespace qkv::test {

using Inputs = std::vector<Tensor>;
// Makes the leaf tensors of a variant (contiguous, fresh). Float leaves get
// requires_grad (unless listed in Variant::no_grad).
using MakeFn = std::function<Inputs(Generator&)>;
// Maps leaves to the op's inputs: views such as transpose/slice/expand that
// produce the non-contiguous layouts under test (they are differentiable, so
// gradients flow back to the leaves). Identity when empty.
using LayoutFn = std::function<Inputs(const Inputs&)>;
// Calls the op (or its reference) on the op inputs.
using CallFn = std::function<Tensor(const Inputs&)>;

enum Check : unsigned { kGrad = 1, kRef = 2, kThreads = 4, kNoGraph = 8 };

struct Tol {
  double eps = 1e-3;   // finite-difference step
  double atol = 1e-2;  // gradcheck tolerances
  double rtol = 1e-2;
  double ref_atol = 1e-5;  // forward vs reference
  double ref_rtol = 1e-5;
  double ref_grad_tol = 1e-4;  // gradient vs reference (abs + rel)
};

struct Variant {
  std::string name;
  MakeFn make;
  LayoutFn layout;           // optional
  CallFn call;               // optional: overrides OpCase::call
  CallFn reference;          // optional: overrides OpCase::reference
  unsigned checks = kGrad | kRef;
  std::optional<Tol> tol;    // optional: overrides OpCase::tol
  std::vector<int> no_grad;  // leaf indices that must not require grad
};

struct OpCase {
  std::string op;     // name from QKV_OP_LIST
  CallFn call;
  CallFn reference;   // may be empty
  std::vector<Variant> variants;
  Tol tol;
};

// The table (tests/ops/op_cases.cpp).
const std::vector<OpCase>& op_cases();

// Maximum number of elements of one input probed by finite differences.
constexpr int kMaxProbes = 48;

}  // namespace qkv::test
