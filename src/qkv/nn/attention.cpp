// MultiHeadAttention (Vaswani et al. 2017, §3.2.2).
#include "qkv/nn/attention.h"

#include "qkv/autograd/autograd.h"
#include "qkv/ops/ops.h"

namespace qkv::nn {

MultiHeadAttention::MultiHeadAttention(int64_t d_model_, int64_t n_heads_, float dropout, bool bias, Generator& gen,
                                       bool cross_)
    : d_model(d_model_), n_heads(n_heads_), head_size(0), cross(cross_) {
  if (d_model <= 0 || n_heads <= 0 || d_model % n_heads != 0)
    throw ValueError("MultiHeadAttention: d_model (" + std::to_string(d_model) + ") must be a positive multiple of n_heads (" +
                     std::to_string(n_heads) + ")");
  head_size = d_model / n_heads;
  if (!cross) {
    c_attn = register_module("c_attn", std::make_shared<Linear>(d_model, 3 * d_model, bias, gen));
  } else {
    q_attn = register_module("q_attn", std::make_shared<Linear>(d_model, d_model, bias, gen));
    c_attn = register_module("c_attn", std::make_shared<Linear>(d_model, 2 * d_model, bias, gen));
  }
  c_proj = register_module("c_proj", std::make_shared<Linear>(d_model, d_model, bias, gen));
  attn_dropout = register_module("attn_dropout", std::make_shared<Dropout>(dropout));
  resid_dropout = register_module("resid_dropout", std::make_shared<Dropout>(dropout));
}

Tensor combine_attention_masks(const Tensor& mask, const Tensor& key_padding) {
  if (mask.defined() && mask.dtype() != DType::Bool)
    throw ValueError(std::string("MultiHeadAttention: mask must be bool (true = may attend), got ") +
                     dtype_name(mask.dtype()));
  if (!key_padding.defined()) return mask;
  if (key_padding.dtype() != DType::Bool)
    throw ValueError(std::string("MultiHeadAttention: key_padding must be bool (true = pad), got ") +
                     dtype_name(key_padding.dtype()));
  if (key_padding.dim() != 2)
    throw ShapeError("MultiHeadAttention: key_padding must be (B,S), got " + shape_str(key_padding.shape()));
  NoGradGuard ng;
  // (B,S) true = pad → (B,1,1,S) true = may attend
  Tensor keep = logical_not(key_padding).reshape({key_padding.size(0), 1, 1, key_padding.size(1)});
  if (!mask.defined()) return keep;
  // AND of two bool masks, broadcast: product of 0/1 values.
  return gt(mul(mask.to(DType::Float32), keep.to(DType::Float32)), 0.5f);
}

AttentionOutput MultiHeadAttention::forward(const Tensor& x, const Tensor& context, bool causal, const Tensor& mask,
                                            const Tensor& key_padding, Generator& gen, bool need_weights) const {
  const char* op = "MultiHeadAttention";
  if (x.dim() != 3 || x.size(2) != d_model)
    throw ShapeError(std::string(op) + ": x must be (B,T," + std::to_string(d_model) + "), got " + shape_str(x.shape()));
  if (cross && !context.defined()) throw ValueError(std::string(op) + ": cross-attention needs a context (B,S,C)");
  if (!cross && context.defined())
    throw ValueError(std::string(op) + ": a self-attention module got a context; construct it with cross = true");
  const int64_t B = x.size(0), T = x.size(1), C = d_model, NH = n_heads, hs = head_size;
  Tensor qkv, q, k, v;  // (B,T,3C) fused, or q (B,T,C) and k, v (B,S,C) slices of (B,S,2C)
  if (!cross) {
    qkv = c_attn->forward(x);
  } else {
    if (context.dim() != 3 || context.size(0) != B || context.size(2) != C)
      throw ShapeError(std::string(op) + ": context must be (" + std::to_string(B) + ",S," + std::to_string(C) +
                       "), got " + shape_str(context.shape()));
    q = q_attn->forward(x);
    std::vector<Tensor> kv = c_attn->forward(context).split(C, 2);  // (B,S,2C) → 2 × (B,S,C)
    k = kv[0], v = kv[1];
  }
  const int64_t S = cross ? k.size(1) : T;
  if (key_padding.defined() && key_padding.shape() != Shape{B, S})
    throw ShapeError(std::string(op) + ": key_padding must be (B,S) = " + shape_str({B, S}) + ", got " +
                     shape_str(key_padding.shape()));

  AttentionOptions opt;
  opt.mask = combine_attention_masks(mask, key_padding);
  opt.causal = causal;
  opt.dropout_p = is_training() ? attn_dropout->p : 0.0f;
  opt.gen = &gen;
  AttentionOutput res;
  if (need_weights) {
    NoGradGuard ng;
    AttentionOptions wopt = opt;
    wopt.dropout_p = 0.0f;
    auto heads = [&](const Tensor& t) { return t.reshape({B, t.size(1), NH, hs}).transpose(1, 2); };
    Tensor qw = cross ? q : qkv.narrow(2, 0, C), kw = cross ? k : qkv.narrow(2, C, C);
    res.weights = attention_weights(heads(qw), heads(kw), wopt);  // (B,NH,T,S)
  }
  // Heads stay side by side in the projections' rows: no transposes, no copies.
  Tensor y = cross ? multi_head_attention(q, k, v, NH, opt) : multi_head_self_attention(qkv, NH, opt);  // (B,T,C)
  res.out = resid_dropout->forward(c_proj->forward(y), gen);
  return res;
}

AttentionOutput MultiHeadAttention::forward_cached(const Tensor& x, KVCache& cache, const Tensor& context,
                                                   Generator& gen, bool need_weights) const {
  const char* op = "MultiHeadAttention::forward_cached";
  if (x.dim() != 3 || x.size(2) != d_model)
    throw ShapeError(std::string(op) + ": x must be (B,T," + std::to_string(d_model) + "), got " + shape_str(x.shape()));
  const int64_t B = x.size(0), C = d_model, NH = n_heads, hs = head_size;
  if (cache.k.defined() && cache.k.size(0) != B)
    throw ShapeError(std::string(op) + ": cache holds batch " + std::to_string(cache.k.size(0)) + ", x has " +
                     std::to_string(B));
  Tensor q;  // (B,T,C); the cache holds k, v as (B,S,C) rows
  if (!cross) {
    Tensor qkv = c_attn->forward(x);  // (B,T,3C)
    q = qkv.narrow(2, 0, C);
    Tensor k = qkv.narrow(2, C, C), v = qkv.narrow(2, 2 * C, C);
    cache.k = cache.k.defined() ? cat({cache.k, k}, 1) : k.contiguous();
    cache.v = cache.v.defined() ? cat({cache.v, v}, 1) : v.contiguous();
  } else {
    q = q_attn->forward(x);
    if (!cache.k.defined()) {
      if (!context.defined()) throw ValueError(std::string(op) + ": the first cross-attention call needs a context");
      std::vector<Tensor> kv = c_attn->forward(context).split(C, 2);
      cache.k = kv[0].contiguous();
      cache.v = kv[1].contiguous();
    }
  }
  AttentionOptions opt;
  opt.causal = !cross;  // bottom-right aligned: query t sees s ≤ t + (S − T)
  opt.dropout_p = is_training() ? attn_dropout->p : 0.0f;
  opt.gen = &gen;
  AttentionOutput res;
  if (need_weights) {
    NoGradGuard ng;
    AttentionOptions wopt = opt;
    wopt.dropout_p = 0.0f;
    auto heads = [&](const Tensor& t) { return t.reshape({B, t.size(1), NH, hs}).transpose(1, 2); };
    res.weights = attention_weights(heads(q), heads(cache.k), wopt);
  }
  Tensor y = multi_head_attention(q, cache.k, cache.v, NH, opt);  // (B,T,C)
  res.out = resid_dropout->forward(c_proj->forward(y), gen);
  return res;
}

}  // namespace qkv::nn
