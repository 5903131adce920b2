// MultiHeadAttention with Shaw et al. 2018's relative position representations,
// written with differentiable ops: the value term needs the attention
// probabilities themselves, which the fused attention op never materialises.
//   e_ij = (q_i·k_j + q_i·a^K_ij) / √hs,  α = softmax_j(e + mask),
//   z_i  = Σ_j α_ij v_j + Σ_j α_ij a^V_ij          (§3.1, eqs. 3–4)
// Dropout (training) falls on α before both sums, as in tensor2tensor's
// dot_product_attention_relative.
#include <cmath>

#include "qkv/autograd/autograd.h"
#include "qkv/nn/attention.h"
#include "qkv/nn/positional.h"
#include "qkv/nn/trace.h"
#include "qkv/ops/ops.h"

namespace qkv::nn {

namespace {

// Bool masks AND-ed (both defined, broadcastable).
Tensor both(const Tensor& a, const Tensor& b) { return gt(mul(a.to(DType::Float32), b.to(DType::Float32)), 0.5f); }

// The keys each query may see, bool broadcastable to (B,NH,T,S), or undefined
// for all: causal (bottom-right aligned) AND a bool mask AND the key mask.
Tensor visible_keys(const AttentionArgs& args, const Tensor& key_mask, int64_t T, int64_t S) {
  NoGradGuard ng;
  Tensor keep;
  if (args.causal) keep = tril(ones({T, S}, DType::Bool), S - T);  // s ≤ t + S − T
  if (args.mask.defined() && args.mask.dtype() == DType::Bool) keep = keep.defined() ? both(keep, args.mask) : args.mask;
  return combine_attention_masks(keep, key_mask);  // AND key_mask (B,1,1,S)
}

}  // namespace

void MultiHeadAttention::add_relative_positions(int64_t max_distance, Generator& gen) {
  if (config.cross) throw ValueError("MultiHeadAttention: relative positions are for self-attention only");
  rel_pos = register_module("rel_pos", std::make_shared<ShawRelativePositions>(max_distance, head_size, gen));
}

Tensor MultiHeadAttention::relative_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_mask,
                                              const AttentionArgs& args, AttentionOutput& res) const {
  // forward() has checked the masks' dtypes and shapes (combine_attention_masks).
  const int64_t B = q.size(0), T = q.size(1), S = k.size(1), NH = config.n_heads, hs = head_size;
  auto heads = [&](const Tensor& t) { return t.reshape({t.size(0), t.size(1), NH, hs}).transpose(1, 2); };
  const Tensor qh = heads(q), kh = heads(k), vh = heads(v);  // (B,NH,T,hs), (B,NH,S,hs)
  const float scale = 1.0f / std::sqrt(static_cast<float>(hs));
  // e = (q·kᵀ + q·a^K) / √hs: (B,NH,T,S)
  Tensor e = mul(add(matmul(qh, kh.transpose(-1, -2)), rel_pos->key_scores(qh, S)), scale);
  if (args.mask.defined() && args.mask.dtype() == DType::Float32) e = add(e, args.mask);  // a float bias, added
  const Tensor keep = visible_keys(args, key_mask, T, S);
  // Hidden keys get a finite −1e30, not −∞: a query that sees nothing then has
  // finite (uniform) probabilities, zeroed below — a zero vector, as the fused op.
  if (keep.defined()) e = masked_fill(e, logical_not(keep), -1e30f);
  Tensor alpha = softmax(e, -1);  // (B,NH,T,S)
  if (keep.defined()) alpha = masked_fill(alpha, logical_not(keep), 0.0f);
  trace_tensor(this, "weights", "(B,NH,T,S)", alpha);
  if (args.need_weights) res.weights = alpha.detach();
  if (is_training() && attn_dropout->p > 0) alpha = dropout(alpha, attn_dropout->p, true, *args.gen);
  // z = α·v + Σ_r (Σ_{j: clip(j−i)=r} α_ij) w^V_r: (B,NH,T,hs) → (B,T,C)
  const Tensor z = add(matmul(alpha, vh), rel_pos->value_term(alpha));
  return z.transpose(1, 2).contiguous().reshape({B, T, NH * hs});
}

}  // namespace qkv::nn
