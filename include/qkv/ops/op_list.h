// qkv/ops/op_list.h — the op table: one line per op (name, arity, doc).
//
// X(name, arity, doc). It yields the OpId enum, printable names for errors and
// profiling, and the coverage list the op-case meta-test checks: every op
// listed here must have an entry in tests/ops/op_cases.cpp.
#pragma once
#include <cstddef>

#define QKV_OP_LIST(X)                                                              \
  /* elementwise, broadcasting */                                                   \
  X(add, 2, "a + b")                                                                \
  X(sub, 2, "a - b")                                                                \
  X(mul, 2, "a * b")                                                                \
  X(div, 2, "a / b")                                                                \
  X(pow, 2, "a ^ b (tensor exponent) or a ^ s (scalar exponent)")                   \
  X(add_scalar, 1, "a + s")                                                         \
  X(mul_scalar, 1, "a * s")                                                         \
  X(rsub_scalar, 1, "s - a")                                                        \
  X(rdiv_scalar, 1, "s / a")                                                        \
  X(neg, 1, "-a")                                                                   \
  X(exp, 1, "e^a")                                                                  \
  X(log, 1, "natural log")                                                          \
  X(sqrt, 1, "square root")                                                         \
  X(rsqrt, 1, "1 / sqrt(a)")                                                        \
  X(abs, 1, "|a| (gradient 0 at 0)")                                                \
  X(tanh, 1, "hyperbolic tangent")                                                  \
  X(sigmoid, 1, "1 / (1 + e^-a)")                                                   \
  X(relu, 1, "max(a, 0)")                                                           \
  X(gelu, 1, "x Φ(x), exact erf form or tanh approximation")                        \
  X(silu, 1, "x sigmoid(x)")                                                        \
  X(clamp, 1, "min(max(a, lo), hi)")                                                \
  X(compare, 2, "eq/ne/lt/le/gt/ge → bool mask (no gradient)")                      \
  X(where, 3, "cond ? a : b")                                                       \
  X(masked_fill, 2, "a with value where mask is true")                              \
  /* reductions */                                                                  \
  X(sum, 1, "sum over dims")                                                        \
  X(mean, 1, "mean over dims")                                                      \
  X(var, 1, "variance over dims (correction 1 = unbiased)")                         \
  X(max, 1, "max over a dim with indices, or over dims")                            \
  X(min, 1, "min over a dim with indices, or over dims")                            \
  X(argmax, 1, "index of the max along a dim (no gradient)")                        \
  X(logsumexp, 1, "log sum exp over dims, stable")                                  \
  /* linear algebra */                                                              \
  X(matmul, 2, "matrix product with broadcast batch dims")                          \
  X(linear, 3, "x W^T + b")                                                         \
  /* neural-network ops */                                                          \
  X(softmax, 1, "softmax along a dim")                                              \
  X(log_softmax, 1, "log softmax along a dim")                                      \
  X(layer_norm, 3, "layer normalisation over trailing dims with weight and bias")   \
  X(rms_norm, 2, "RMS normalisation over the last dim with a weight (Llama)")     \
  X(dropout, 1, "zero with probability p, scale by 1/(1-p) (training only)")        \
  X(embedding, 2, "rows of weight gathered by index")                               \
  X(cross_entropy, 2, "fused log-softmax + NLL, ignore_index, label smoothing")     \
  X(mse_loss, 2, "mean squared error")                                              \
  X(scaled_dot_product_attention, 3, "softmax(QK^T/sqrt(d_k) + mask) V, fused")     \
  X(multi_head_attention, 3, "attention over H heads side by side in (B,T,H*d)")    \
  X(multi_head_self_attention, 1, "the same from a fused (B,T,3C) q|k|v projection")\
  X(rotary_embedding, 1, "RoPE: rotate channel pairs of each head by position")   \
  X(relative_gather, 1, "(…,T,2k+1) → (…,T,S): entry clip(s − t', −k, k) per key")  \
  X(relative_scatter, 1, "(…,T,S) → (…,T,2k+1): keys summed per clipped distance")  \
  /* shape and copies */                                                            \
  X(view, 1, "reshape/view/flatten/squeeze/unsqueeze")                              \
  X(permute, 1, "permute/transpose")                                                \
  X(slice, 1, "narrow/slice/select/split/chunk")                                    \
  X(expand, 1, "broadcast to a larger shape (no copy)")                             \
  X(contiguous, 1, "copy to row-major layout")                                      \
  X(cat, 2, "concatenate along a dim (stack = unsqueeze + cat)")                    \
  X(index_select, 2, "entries at 1-D int ids along a dim (beam reordering)")        \
  X(tril, 1, "zero above a diagonal")                                               \
  X(triu, 1, "zero below a diagonal")

namespace qkv::ops {

enum class OpId {
#define QKV_OP_ENUM(name, arity, doc) name,
  QKV_OP_LIST(QKV_OP_ENUM)
#undef QKV_OP_ENUM
};

inline constexpr const char* kOpNames[] = {
#define QKV_OP_NAME(name, arity, doc) #name,
    QKV_OP_LIST(QKV_OP_NAME)
#undef QKV_OP_NAME
};
inline constexpr size_t kNumOps = sizeof(kOpNames) / sizeof(kOpNames[0]);

inline const char* op_name(OpId id) { return kOpNames[static_cast<size_t>(id)]; }

}  // namespace qkv::ops
