// GPT (see qkv/models/gpt.h): embeddings, the blocks, the tied output layer.
#include "qkv/models/gpt.h"

#include <algorithm>
#include <cmath>

#include "qkv/models/position_fields.h"
#include "qkv/nn/init.h"
#include "qkv/nn/positions.h"
#include "qkv/ops/ops.h"

namespace qkv::models {

namespace {
nn::LayerConfig block_config(const GPTConfig& cfg) {
  nn::LayerConfig l;
  l.d_model = cfg.n_embd;
  l.n_heads = cfg.n_head;
  l.d_ff = 4 * cfg.n_embd;
  l.dropout = cfg.dropout;
  l.bias = cfg.bias;
  l.activation = cfg.activation == "gelu_tanh" ? nn::Activation::GELUTanh : nn::Activation::GELU;
  l.norm = nn::NormPlacement::Pre;
  return l;
}

}  // namespace

GPT::GPT(const GPTConfig& cfg, Generator& gen) : config(cfg) {
  config.validate();
  wte = register_module("wte", std::make_shared<nn::Embedding>(cfg.vocab_size, cfg.n_embd, gen));
  if (cfg.pos_encoding == "learned")
    wpe = register_module("wpe", std::make_shared<nn::Embedding>(cfg.block_size, cfg.n_embd, gen));
  if (cfg.pos_encoding == "sinusoidal")
    sinusoid = std::make_shared<nn::SinusoidalPositionalEncoding>(cfg.n_embd, cfg.block_size, cfg.sinusoidal_base);
  if (cfg.pos_encoding == "t5")
    rel_bias = register_module("rel_bias", std::make_shared<nn::T5RelativeBias>(cfg.t5_num_buckets, cfg.t5_max_distance,
                                                                                cfg.n_head, false, gen));
  drop = register_module("drop", std::make_shared<nn::Dropout>(cfg.dropout));
  h = register_module("h", std::make_shared<GPTBlocks>());
  for (int64_t i = 0; i < cfg.n_layer; ++i) {
    auto block = std::make_shared<nn::TransformerLayer>(block_config(cfg), gen);
    nn::attach_positions(*block->attn, position_config(cfg), gen);
    h->append(block);
  }
  ln_f = register_module("ln_f", std::make_shared<nn::LayerNorm>(cfg.n_embd, 1e-5f, cfg.bias));
  nn::init_gpt2(*this, cfg.n_layer, gen);
}

nn::KVCache GPT::make_cache(int64_t batch) const {
  return nn::KVCache(batch, config.block_size, config.n_embd, config.n_layer);
}

Tensor GPT::hidden(const Tensor& idx, Generator& gen, const GPTInputs& in) const {
  if (idx.dim() != 2) throw ShapeError("GPT: idx must be (B, T) token ids, got " + shape_str(idx.shape()));
  const int64_t B = idx.size(0), T = idx.size(1);
  const int64_t offset = in.cache ? in.cache->length() : 0;
  if (T < 1) throw ValueError("GPT: empty input sequence");
  if (in.cache && in.cache->batch() != B)
    throw ShapeError("GPT: cache was made for batch " + std::to_string(in.cache->batch()) + ", input has " +
                     std::to_string(B));
  if (in.cache && in.cache->num_layers() != config.n_layer)
    throw ValueError("GPT: cache has " + std::to_string(in.cache->num_layers()) + " slots, the model " +
                     std::to_string(config.n_layer) + " blocks (use make_cache)");
  if (in.positions.defined() && in.positions.shape() != Shape{B, T} && in.positions.shape() != Shape{T})
    throw ShapeError("GPT: positions must be (B,T) or (T), got " + shape_str(in.positions.shape()));
  Tensor pos = in.positions.defined() ? in.positions
                                      : arange(static_cast<double>(offset), static_cast<double>(offset + T));
  if (in.cache && offset + T > in.cache->capacity())
    throw ValueError("GPT: " + std::to_string(offset + T) + " tokens do not fit the cache of " +
                     std::to_string(in.cache->capacity()) + " positions");
  Tensor x = embed(idx, pos, gen);  // (B,T,C)
  nn::LayerArgs args;
  args.gen = &gen;
  args.self.causal = true;  // with a cache: query t sees keys s ≤ t + (S − T)
  args.self.key_mask = in.key_mask;
  args.self.positions = pos;  // rotary q/k
  args.self.mask = position_bias(T, offset + T);  // T5: (1,NH,T,S), shared by the layers
  for (int64_t l = 0; l < config.n_layer; ++l) {
    args.self.cache = in.cache ? &in.cache->layer(l) : nullptr;
    nn::LayerWeights w;
    x = h->blocks[l]->forward(x, args, in.weights ? &w : nullptr);
    if (in.weights) in.weights->push_back(w.self);
  }
  return x;
}

Tensor GPT::embed(const Tensor& idx, const Tensor& pos, Generator& gen) const {
  Tensor x = wte->forward(idx);
  if (wpe) {
    int64_t need = 0;
    for (int64_t p : pos.to_int_vector()) need = std::max(need, p + 1);
    if (need > config.block_size)
      throw ValueError("GPT: position " + std::to_string(need - 1) + " is past the learned table of block_size " +
                       std::to_string(config.block_size) + " positions (a sequence of " + std::to_string(need) +
                       " tokens); learned positions cannot run longer than they were trained");
    x = add(x, wpe->forward(pos));
  } else if (sinusoid) {  // Vaswani et al. §3.4: embeddings × √d_model, then the fixed table
    x = add(mul(x, std::sqrt(static_cast<float>(config.n_embd))), sinusoid->at(pos));
  }
  return drop->forward(x, gen);
}

Tensor GPT::position_bias(int64_t T, int64_t S) const { return rel_bias ? rel_bias->forward(T, S) : Tensor(); }

Tensor GPT::forward(const Tensor& idx, Generator& gen, nn::KVCache* cache) const {
  // tied output projection: (B,T,C) · (V,C)ᵀ
  return lm_head(ln_f->forward(hidden(idx, gen, {.cache = cache})));
}

Tensor GPT::last_logits(const Tensor& x) const {
  // Only the last position predicts the next token (nanoGPT's inference
  // shortcut): ln_f and the V-wide projection on one row per sequence.
  Tensor last = x.narrow(1, x.size(1) - 1, 1);  // (B,1,C)
  return lm_head(ln_f->forward(last)).reshape({x.size(0), config.vocab_size});
}

Tensor GPT::next_token_logits(const Tensor& idx, Generator& gen, nn::KVCache* cache) const {
  return last_logits(hidden(idx, gen, {.cache = cache}));
}

Tensor GPT::last_token_logits(const Tensor& ids, const CausalInputs& in) const {
  Generator gen(0);  // eval mode: dropout never draws
  return last_logits(hidden(ids, gen, in));
}

void GPT::check_ready() const {
  if (is_training() && config.dropout > 0)
    throw ValueError("generate: the model is in training mode with dropout; call model.eval() first");
}

Tensor GPT::lm_logits(const Tensor& ids, Generator& gen, const Tensor& attention_mask) const {
  return lm_head(ln_f->forward(hidden(ids, gen, {.key_mask = attention_mask})));
}

Tensor GPT::loss(const Tensor& logits, const Tensor& targets) { return cross_entropy(logits, targets); }

}  // namespace qkv::models
