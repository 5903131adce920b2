// qkv/ops/ops.h — every differentiable op, as free functions in namespace qkv.
//
// Conventions (PyTorch's, so users and imported models feel at home):
// - binary elementwise ops broadcast with NumPy rules;
// - `dims` lists dimensions to reduce (negative counts from the end; empty
//   means all), `keepdim` keeps them as size 1;
// - masks are bool tensors; in attention a true mask entry means "may attend";
// - shape errors throw ShapeError naming the op and the shapes; bad values
//   (dtype, index, probability) throw ValueError.
// Each op records its backward rule when an input requires grad (see
// qkv/autograd/autograd.h). Shape comments use docs/GLOSSARY.md letters.
#pragma once
#include <optional>
#include <utility>
#include <vector>

#include "qkv/core/rng.h"
#include "qkv/core/tensor.h"

namespace qkv {

// ---- elementwise (broadcasting)
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor pow(const Tensor& a, const Tensor& b);  // a > 0 where b's gradient is needed
Tensor pow(const Tensor& a, float exponent);
Tensor add(const Tensor& a, float s);
Tensor mul(const Tensor& a, float s);
Tensor rsub(const Tensor& a, float s);  // s - a
Tensor rdiv(const Tensor& a, float s);  // s / a
Tensor neg(const Tensor& a);
Tensor exp(const Tensor& a);
Tensor log(const Tensor& a);
Tensor sqrt(const Tensor& a);
Tensor rsqrt(const Tensor& a);
Tensor abs(const Tensor& a);
Tensor tanh(const Tensor& a);
Tensor sigmoid(const Tensor& a);
Tensor relu(const Tensor& a);
enum class GeluApprox { None, Tanh };  // None: x·Φ(x) with erf; Tanh: GPT-2's form
Tensor gelu(const Tensor& a, GeluApprox approx = GeluApprox::None);
Tensor silu(const Tensor& a);
Tensor clamp(const Tensor& a, std::optional<float> lo, std::optional<float> hi);

// ---- comparisons → bool masks (no gradient)
Tensor eq(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);
Tensor eq(const Tensor& a, float s);
Tensor ne(const Tensor& a, float s);
Tensor lt(const Tensor& a, float s);
Tensor le(const Tensor& a, float s);
Tensor gt(const Tensor& a, float s);
Tensor ge(const Tensor& a, float s);
Tensor logical_not(const Tensor& mask);
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
Tensor masked_fill(const Tensor& a, const Tensor& mask, float value);

// ---- reductions
Tensor sum(const Tensor& a, const Shape& dims = {}, bool keepdim = false);
Tensor mean(const Tensor& a, const Shape& dims = {}, bool keepdim = false);
Tensor var(const Tensor& a, const Shape& dims = {}, int64_t correction = 1, bool keepdim = false);
// Values and int64 indices of the max/min along one dim (first on ties).
std::pair<Tensor, Tensor> max(const Tensor& a, int64_t dim, bool keepdim = false);
std::pair<Tensor, Tensor> min(const Tensor& a, int64_t dim, bool keepdim = false);
Tensor amax(const Tensor& a, const Shape& dims = {}, bool keepdim = false);
Tensor amin(const Tensor& a, const Shape& dims = {}, bool keepdim = false);
Tensor argmax(const Tensor& a, int64_t dim, bool keepdim = false);
Tensor logsumexp(const Tensor& a, const Shape& dims, bool keepdim = false);
// Sums `g` down to `shape` (undoing broadcasting); used by backward rules.
Tensor sum_to(const Tensor& g, const Shape& shape);

// ---- linear algebra
// 1-D·1-D → scalar; (…,M,K)@(…,K,N) with broadcast batch dims; vectors are
// promoted as in NumPy. Transposed operands are passed to GEMM as flags.
Tensor matmul(const Tensor& a, const Tensor& b);
// x (…,in) · W (out,in)ᵀ + b (out) — the PyTorch nn.Linear convention.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());

// ---- neural-network ops
Tensor softmax(const Tensor& a, int64_t dim);
Tensor log_softmax(const Tensor& a, int64_t dim);
// Normalises over the trailing dims given by `normalized_shape`; weight/bias
// (shape normalized_shape) may be undefined.
Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight,
                  const Tensor& bias, float eps = 1e-5f);
// RMSNorm (Zhang & Sennrich 2019; Llama): x / √(mean(x²) + eps) · weight over
// the last dim; weight (C) may be undefined.
Tensor rms_norm(const Tensor& x, const Tensor& weight, float eps = 1e-6f);
Tensor dropout(const Tensor& a, float p, bool training, Generator& gen);
// weight (V,C), ids int64/int32 of any shape → (…, C). Ids out of [0,V) throw.
Tensor embedding(const Tensor& weight, const Tensor& ids);
struct CrossEntropyOptions {
  int64_t ignore_index = -100;
  float label_smoothing = 0.0f;
  enum class Reduction { Mean, Sum, None } reduction = Reduction::Mean;
};
// logits (N,V) or (B,T,V); targets int64 (N) or (B,T). Mean over the targets
// that are not ignore_index (PyTorch semantics; all ignored → 0/0 = NaN as torch).
Tensor cross_entropy(const Tensor& logits, const Tensor& targets,
                     const CrossEntropyOptions& opt = {});
Tensor mse_loss(const Tensor& input, const Tensor& target);
// Vaswani et al. 2017 §3.2.1: softmax(QKᵀ/√d_k + mask)V.
// q (…,T,hs), k (…,S,hs), v (…,S,hv) → (…,T,hv); leading dims broadcast.
// mask: bool, broadcastable to (…,T,S), true = may attend; or a float mask
// added to the scores. causal: position t attends to s ≤ t + (S − T).
// Rows with nothing to attend to produce zeros (not NaN).
// alibi_slopes (H) float: ALiBi (Press et al. 2022) adds −m_h·|t + S − T − s|
// to head h's scaled scores inside the kernel (no T×S bias tensor); H is the
// last batch dim (the n_head of the multi-head ops). No gradient.
struct AttentionOptions {
  Tensor mask;
  bool causal = false;
  float dropout_p = 0.0f;
  Generator* gen = nullptr;       // required when dropout_p > 0
  std::optional<float> scale;     // default 1/√hs
  Tensor alibi_slopes;
};
Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                    const AttentionOptions& opt = {});
// The attention probabilities (…,T,S) the op above would use (for plots).
Tensor attention_weights(const Tensor& q, const Tensor& k, const AttentionOptions& opt = {});
// Multi-head attention (Vaswani et al. 2017, §3.2.2) on projections with the
// heads side by side in the last dim, the layout a Linear produces:
// q (B,T,H·hs), k (B,S,H·hs), v (B,S,H·hv) → (B,T,H·hv). Equals splitting
// the heads, scaled_dot_product_attention and concatenating, without the
// copies: operands may be strided views (e.g. slices of one projection) with
// a unit stride in the last dim. opt.mask broadcasts to (B,H,T,S).
// Grouped-query attention (Ainslie et al. 2023): k (B,S,Hkv·hs) and v
// (B,S,Hkv·hv) may hold fewer heads Hkv dividing H (multi-query: Hkv = 1);
// query head h reads key/value head h / (H/Hkv), nothing copied.
Tensor multi_head_attention(const Tensor& q, const Tensor& k, const Tensor& v, int64_t n_head,
                            const AttentionOptions& opt = {});
// Self-attention straight from a fused projection qkv (B,T,3·C) = q | k | v
// (GPT-2's c_attn): the gradient is one (B,T,3·C) tensor.
Tensor multi_head_self_attention(const Tensor& qkv, int64_t n_head, const AttentionOptions& opt = {});
// Rotary position embedding (Su et al. 2021, RoFormer eq. 34): each pair
// (x_a, x_b) of a head's first rot_dim channels turns by the angle
// p·scale·θ_i, θ_i = theta^(−2i/rot_dim), p the row's position:
//   x_a' = x_a cos − x_b sin,  x_b' = x_a sin + x_b cos.
// Pairs: RotateHalf (GPT-NeoX, Hugging Face Llama) pairs channel i with
// i + rot_dim/2; Adjacent (the paper, GPT-J) pairs 2i with 2i+1. Channels
// from rot_dim on pass through. x (B,T,H·hs) heads side by side; positions
// int64 (T) or (B,T). Angles are computed in double.
enum class RopeLayout { RotateHalf, Adjacent };
struct RopeOptions {
  int64_t rot_dim = 0;        // even, ≤ hs; 0 = hs
  double theta = 10000.0;     // the base
  double position_scale = 1;  // positions × this (linear interpolation: 1/factor)
  RopeLayout layout = RopeLayout::RotateHalf;
};
Tensor rotary_embedding(const Tensor& x, const Tensor& positions, int64_t n_head, const RopeOptions& opt = {});
// Relative positions (Shaw et al. 2018, §3.2): T queries over S keys, query t
// at key position t' = t + S − T (bottom-right aligned, as with a KV cache),
// key s at the clipped distance d(t,s) = clip(s − t', −k, k), row d + k of a
// (2k+1)-row table. The two ops are each other's adjoint (and backward):
// relative_gather: x (…,T,2k+1) → (…,T,S), out[…,t,s] = x[…,t,d(t,s)+k] —
//   e.g. q·w^K per distance, spread over the keys (the a^K_ij score term);
// relative_scatter: p (…,T,S) → (…,T,2k+1), out[…,t,r] = Σ_{s: d(t,s)+k=r} p[…,t,s]
//   — e.g. the attention probabilities summed per distance (the a^V_ij term).
// k = (x.size(-1) − 1) / 2 for the gather (an odd last dim); k ≥ 0.
Tensor relative_gather(const Tensor& x, int64_t S);
Tensor relative_scatter(const Tensor& p, int64_t k);

// ---- indexing
// PyTorch's index_select: out has a's shape with dim resized to index.numel(),
// out[…, k, …] = a[…, index[k], …]. index is 1-D (or 0-d) int64/int32 with ids
// in [0, size(dim)); any dtype for a, gradient for float32 (repeated ids add up).
Tensor index_select(const Tensor& a, int64_t dim, const Tensor& index);

// ---- joining and triangular masks
Tensor cat(const std::vector<Tensor>& ts, int64_t dim = 0);
Tensor stack(const std::vector<Tensor>& ts, int64_t dim = 0);
Tensor tril(const Tensor& t, int64_t k);
Tensor triu(const Tensor& t, int64_t k);

// ---- operators
inline Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
inline Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
inline Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
inline Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
inline Tensor operator-(const Tensor& a) { return neg(a); }
inline Tensor operator+(const Tensor& a, float s) { return add(a, s); }
inline Tensor operator+(float s, const Tensor& a) { return add(a, s); }
inline Tensor operator-(const Tensor& a, float s) { return add(a, -s); }
inline Tensor operator-(float s, const Tensor& a) { return rsub(a, s); }
inline Tensor operator*(const Tensor& a, float s) { return mul(a, s); }
inline Tensor operator*(float s, const Tensor& a) { return mul(a, s); }
inline Tensor operator/(const Tensor& a, float s) { return mul(a, 1.0f / s); }
inline Tensor operator/(float s, const Tensor& a) { return rdiv(a, s); }

}  // namespace qkv
