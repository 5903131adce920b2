#include "qkv/models/gpt.h"

#include <cmath>

#include "qkv/autograd/autograd.h"
#include "qkv/nn/init.h"
#include "qkv/ops/ops.h"

namespace qkv::models {

// ---------------------------------------------------------------- attention

CausalSelfAttention::CausalSelfAttention(const GPTConfig& cfg, Generator& gen)
    : n_head(cfg.n_head), n_embd(cfg.n_embd), attn_dropout(cfg.dropout) {
  c_attn = register_module("c_attn", std::make_shared<nn::Linear>(cfg.n_embd, 3 * cfg.n_embd, cfg.bias, gen));
  c_proj = register_module("c_proj", std::make_shared<nn::Linear>(cfg.n_embd, cfg.n_embd, cfg.bias, gen));
  resid_dropout = register_module("resid_dropout", std::make_shared<nn::Dropout>(cfg.dropout));
}

Tensor CausalSelfAttention::forward(const Tensor& x, Generator& gen, KVCache* cache, int64_t layer) const {
  const int64_t T = x.size(1), C = n_embd;
  Tensor qkv = c_attn->forward(x);  // (B,T,3C) = q | k | v, heads side by side
  AttentionOptions opt;
  opt.causal = true;  // with a cache: query t sees keys s ≤ t + (S − T)
  if (is_training() && attn_dropout > 0) {
    opt.dropout_p = attn_dropout;
    opt.gen = &gen;
  }
  Tensor y;  // (B,T,C)
  if (cache) {  // append this step's keys/values, then attend over positions 0 … len+T−1
    NoGradGuard ng;
    Tensor& ck = cache->k[layer];
    Tensor& cv = cache->v[layer];
    ck.narrow(1, cache->len, T).copy_(qkv.narrow(2, C, C));
    cv.narrow(1, cache->len, T).copy_(qkv.narrow(2, 2 * C, C));
    y = multi_head_attention(qkv.narrow(2, 0, C), ck.narrow(1, 0, cache->len + T), cv.narrow(1, 0, cache->len + T),
                             n_head, opt);
  } else {
    y = multi_head_self_attention(qkv, n_head, opt);
  }
  return resid_dropout->forward(c_proj->forward(y), gen);
}

GPTBlock::GPTBlock(const GPTConfig& cfg, Generator& gen) {
  ln_1 = register_module("ln_1", std::make_shared<nn::LayerNorm>(cfg.n_embd, 1e-5f, cfg.bias));
  attn = register_module("attn", std::make_shared<CausalSelfAttention>(cfg, gen));
  ln_2 = register_module("ln_2", std::make_shared<nn::LayerNorm>(cfg.n_embd, 1e-5f, cfg.bias));
  nn::Activation act = cfg.activation == "gelu_tanh" ? nn::Activation::GELUTanh : nn::Activation::GELU;
  mlp = register_module("mlp", std::make_shared<nn::FeedForward>(cfg.n_embd, 4 * cfg.n_embd, act, cfg.dropout,
                                                                 cfg.bias, gen));
}

Tensor GPTBlock::forward(const Tensor& x, Generator& gen, KVCache* cache, int64_t layer) const {
  Tensor h1 = add(x, attn->forward(ln_1->forward(x), gen, cache, layer));
  return add(h1, mlp->forward(ln_2->forward(h1), gen));
}

// ---------------------------------------------------------------- model

GPT::GPT(const GPTConfig& cfg, Generator& gen) : config(cfg) {
  config.validate();
  wte = register_module("wte", std::make_shared<nn::Embedding>(cfg.vocab_size, cfg.n_embd, gen));
  wpe = register_module("wpe", std::make_shared<nn::Embedding>(cfg.block_size, cfg.n_embd, gen));
  drop = register_module("drop", std::make_shared<nn::Dropout>(cfg.dropout));
  h = register_module("h", std::make_shared<GPTBlocks>());
  for (int64_t i = 0; i < cfg.n_layer; ++i) h->append(std::make_shared<GPTBlock>(cfg, gen));
  ln_f = register_module("ln_f", std::make_shared<nn::LayerNorm>(cfg.n_embd, 1e-5f, cfg.bias));
  nn::init_gpt2(*this, cfg.n_layer, gen);
}

KVCache GPT::make_cache(int64_t batch) const {
  KVCache c;
  c.batch = batch;
  for (int64_t i = 0; i < config.n_layer; ++i) {
    c.k.push_back(zeros({batch, config.block_size, config.n_embd}));
    c.v.push_back(zeros({batch, config.block_size, config.n_embd}));
  }
  return c;
}

Tensor GPT::hidden(const Tensor& idx, Generator& gen, KVCache* cache) const {
  if (idx.dim() != 2) throw ShapeError("GPT: idx must be (B, T) token ids, got " + shape_str(idx.shape()));
  const int64_t B = idx.size(0), T = idx.size(1);
  const int64_t offset = cache ? cache->len : 0;
  if (T < 1) throw ValueError("GPT: empty input sequence");
  if (offset + T > config.block_size)
    throw ValueError("GPT: sequence of " + std::to_string(offset + T) + " tokens exceeds block_size " +
                     std::to_string(config.block_size));
  if (cache && cache->batch != B)
    throw ShapeError("GPT: cache was made for batch " + std::to_string(cache->batch) + ", input has " +
                     std::to_string(B));
  Tensor pos = arange(static_cast<double>(offset), static_cast<double>(offset + T));  // (T)
  Tensor x = drop->forward(add(wte->forward(idx), wpe->forward(pos)), gen);          // (B,T,C)
  for (int64_t l = 0; l < config.n_layer; ++l) x = h->blocks[l]->forward(x, gen, cache, l);
  if (cache) cache->len += T;
  return x;
}

Tensor GPT::forward(const Tensor& idx, Generator& gen, KVCache* cache) const {
  return lm_head(ln_f->forward(hidden(idx, gen, cache)));  // tied output projection: (B,T,C) · (V,C)ᵀ
}

Tensor GPT::next_token_logits(const Tensor& idx, Generator& gen, KVCache* cache) const {
  Tensor x = hidden(idx, gen, cache);
  // Only the last position predicts the next token (nanoGPT's inference
  // shortcut): ln_f and the V-wide projection on one row per sequence.
  Tensor last = x.narrow(1, x.size(1) - 1, 1);                  // (B,1,C)
  return lm_head(ln_f->forward(last)).reshape({x.size(0), config.vocab_size});
}

Tensor GPT::loss(const Tensor& logits, const Tensor& targets) { return cross_entropy(logits, targets); }

}  // namespace qkv::models
