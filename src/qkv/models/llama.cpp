// Llama (see qkv/models/llama.h): the decoder layer, the stack, the head.
#include "qkv/models/llama.h"

#include "qkv/nn/init.h"
#include "qkv/nn/positional.h"
#include "qkv/nn/trace.h"
#include "qkv/ops/ops.h"

namespace qkv::models {

LlamaDecoderLayer::LlamaDecoderLayer(const LlamaConfig& cfg, Generator& gen) {
  nn::AttentionConfig a;
  a.d_model = cfg.hidden_size;
  a.n_heads = cfg.num_attention_heads;
  a.n_kv_heads = cfg.kv_heads();
  a.bias = false;
  a.names = nn::ProjectionNames::separate("q_proj", "k_proj", "v_proj", "o_proj");
  input_layernorm = register_module("input_layernorm", std::make_shared<nn::RMSNorm>(cfg.hidden_size, cfg.rms_norm_eps));
  self_attn = register_module("self_attn", std::make_shared<nn::MultiHeadAttention>(a, gen));
  nn::RopeConfig r;  // Hugging Face Llama: rotate-half pairs over the whole head
  r.theta = cfg.rope_theta;
  r.layout = RopeLayout::RotateHalf;
  self_attn->qk_transform = nn::RotaryEmbedding(r, cfg.num_attention_heads, cfg.head_dim());
  post_attention_layernorm =
      register_module("post_attention_layernorm", std::make_shared<nn::RMSNorm>(cfg.hidden_size, cfg.rms_norm_eps));
  mlp = register_module("mlp", std::make_shared<nn::SwiGLU>(cfg.hidden_size, cfg.intermediate_size, false, gen));
}

Tensor LlamaDecoderLayer::forward(const Tensor& x, const nn::AttentionArgs& args, Tensor* weights) const {
  nn::AttentionArgs a = args;
  a.need_weights = weights != nullptr;
  nn::AttentionOutput att = self_attn->forward(input_layernorm->forward(x), a);
  if (weights) *weights = att.weights;
  Tensor h = add(x, att.out);  // (B,T,C)
  Tensor y = add(h, mlp->forward(post_attention_layernorm->forward(h), args.gen));
  nn::trace_tensor(this, "out", "C", y);  // the residual stream after the layer
  return y;
}

LlamaModel::LlamaModel(const LlamaConfig& cfg, Generator& gen) {
  embed_tokens = register_module("embed_tokens", std::make_shared<nn::Embedding>(cfg.vocab_size, cfg.hidden_size, gen));
  layers = register_module("layers", std::make_shared<LlamaLayers>());
  for (int64_t i = 0; i < cfg.num_hidden_layers; ++i) layers->append(std::make_shared<LlamaDecoderLayer>(cfg, gen));
  norm = register_module("norm", std::make_shared<nn::RMSNorm>(cfg.hidden_size, cfg.rms_norm_eps));
}

Llama::Llama(const LlamaConfig& cfg, Generator& gen) : config(cfg) {
  config.validate();
  config.num_key_value_heads = config.kv_heads();
  model = register_module("model", std::make_shared<LlamaModel>(config, gen));
  if (!config.tie_word_embeddings)
    lm_head = register_module("lm_head", std::make_shared<nn::Linear>(config.hidden_size, config.vocab_size, false, gen));
  // Hugging Face LlamaPreTrainedModel._init_weights: N(0, initializer_range²);
  // RMSNorm weights stay 1.
  for (auto& [name, t] : named_parameters())
    if (t.dim() == 2) {
      Tensor w = t;
      nn::normal_(w, 0.0f, config.initializer_range, gen);
    }
}

nn::KVCache Llama::make_cache(int64_t batch) const {
  return nn::KVCache(batch, config.max_position_embeddings, config.kv_heads() * config.head_dim(),
                     config.num_hidden_layers);
}

Tensor Llama::hidden(const Tensor& ids, const CausalInputs& in) const {
  if (ids.dim() != 2) throw ShapeError("Llama: ids must be (B, T) token ids, got " + shape_str(ids.shape()));
  const int64_t B = ids.size(0), T = ids.size(1), L = config.num_hidden_layers;
  const int64_t offset = in.cache ? in.cache->length() : 0;
  if (T < 1) throw ValueError("Llama: empty input sequence");
  if (in.cache && in.cache->batch() != B)
    throw ShapeError("Llama: cache was made for batch " + std::to_string(in.cache->batch()) + ", input has " +
                     std::to_string(B));
  if (in.cache && in.cache->num_layers() != L)
    throw ValueError("Llama: cache has " + std::to_string(in.cache->num_layers()) + " slots, the model " +
                     std::to_string(L) + " layers (use make_cache)");
  if (in.cache && offset + T > in.cache->capacity())
    throw ValueError("Llama: " + std::to_string(offset + T) + " tokens do not fit the cache of " +
                     std::to_string(in.cache->capacity()) + " positions");
  if (in.positions.defined() && in.positions.shape() != Shape{B, T} && in.positions.shape() != Shape{T})
    throw ShapeError("Llama: positions must be (B,T) or (T), got " + shape_str(in.positions.shape()));
  nn::AttentionArgs args;
  args.causal = true;  // with a cache: query t sees keys s ≤ t + (S − T)
  args.key_mask = in.key_mask;
  args.gen = in.gen;
  args.positions = in.positions.defined() ? in.positions
                                          : arange(static_cast<double>(offset), static_cast<double>(offset + T));
  Tensor x = model->embed_tokens->forward(ids);  // (B,T,C)
  for (int64_t l = 0; l < L; ++l) {
    args.cache = in.cache ? &in.cache->layer(l) : nullptr;
    Tensor w;
    x = model->layers->items[l]->forward(x, args, in.weights ? &w : nullptr);
    if (in.weights) in.weights->push_back(w);
  }
  return x;
}

Tensor Llama::forward(const Tensor& ids, nn::KVCache* cache) const {
  return head(model->norm->forward(hidden(ids, {.cache = cache})));
}

Tensor Llama::lm_logits(const Tensor& ids, Generator& gen, const Tensor& attention_mask) const {
  return head(model->norm->forward(hidden(ids, {.key_mask = attention_mask, .gen = &gen})));
}

Tensor Llama::last_token_logits(const Tensor& ids, const CausalInputs& in) const {
  Tensor x = hidden(ids, in);
  Tensor last = x.narrow(1, x.size(1) - 1, 1);  // only the last position predicts: norm + head on one row
  return head(model->norm->forward(last)).reshape({x.size(0), config.vocab_size});
}

}  // namespace qkv::models
