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
  Tensor q, k, v;  // (B,T|S,C)
  if (!cross) {
    std::vector<Tensor> qkv = c_attn->forward(x).split(C, 2);  // (B,T,3C) → 3 × (B,T,C)
    q = qkv[0], k = qkv[1], v = qkv[2];
  } else {
    if (context.dim() != 3 || context.size(0) != B || context.size(2) != C)
      throw ShapeError(std::string(op) + ": context must be (" + std::to_string(B) + ",S," + std::to_string(C) +
                       "), got " + shape_str(context.shape()));
    q = q_attn->forward(x);
    std::vector<Tensor> kv = c_attn->forward(context).split(C, 2);  // (B,S,2C) → 2 × (B,S,C)
    k = kv[0], v = kv[1];
  }
  const int64_t S = k.size(1);
  if (key_padding.defined() && key_padding.shape() != Shape{B, S})
    throw ShapeError(std::string(op) + ": key_padding must be (B,S) = " + shape_str({B, S}) + ", got " +
                     shape_str(key_padding.shape()));
  auto heads = [&](const Tensor& t, int64_t L) { return t.reshape({B, L, NH, hs}).transpose(1, 2); };
  q = heads(q, T), k = heads(k, S), v = heads(v, S);  // (B,NH,T|S,hs)

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
    res.weights = attention_weights(q, k, wopt);  // (B,NH,T,S)
  }
  Tensor y = scaled_dot_product_attention(q, k, v, opt);  // (B,NH,T,hs)
  y = y.transpose(1, 2).reshape({B, T, C});                // concat heads
  res.out = resid_dropout->forward(c_proj->forward(y), gen);
  return res;
}

AttentionOutput MultiHeadAttention::forward_cached(const Tensor& x, KVCache& cache, const Tensor& context,
                                                   Generator& gen, bool need_weights) const {
  const char* op = "MultiHeadAttention::forward_cached";
  if (x.dim() != 3 || x.size(2) != d_model)
    throw ShapeError(std::string(op) + ": x must be (B,T," + std::to_string(d_model) + "), got " + shape_str(x.shape()));
  const int64_t B = x.size(0), T = x.size(1), C = d_model, NH = n_heads, hs = head_size;
  if (cache.k.defined() && cache.k.size(0) != B)
    throw ShapeError(std::string(op) + ": cache holds batch " + std::to_string(cache.k.size(0)) + ", x has " +
                     std::to_string(B));
  auto heads = [&](const Tensor& t) { return t.reshape({B, t.size(1), NH, hs}).transpose(1, 2); };
  Tensor q;
  if (!cross) {
    std::vector<Tensor> qkv = c_attn->forward(x).split(C, 2);  // 3 × (B,T,C)
    q = heads(qkv[0]);
    Tensor k = heads(qkv[1]), v = heads(qkv[2]);               // (B,NH,T,hs)
    cache.k = cache.k.defined() ? cat({cache.k, k}, 2) : k.contiguous();
    cache.v = cache.v.defined() ? cat({cache.v, v}, 2) : v.contiguous();
  } else {
    q = heads(q_attn->forward(x));
    if (!cache.k.defined()) {
      if (!context.defined()) throw ValueError(std::string(op) + ": the first cross-attention call needs a context");
      std::vector<Tensor> kv = c_attn->forward(context).split(C, 2);
      cache.k = heads(kv[0]).contiguous();
      cache.v = heads(kv[1]).contiguous();
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
    res.weights = attention_weights(q, cache.k, wopt);
  }
  Tensor y = scaled_dot_product_attention(q, cache.k, cache.v, opt).transpose(1, 2).reshape({B, T, C});
  res.out = resid_dropout->forward(c_proj->forward(y), gen);
  return res;
}

}  // namespace qkv::nn
