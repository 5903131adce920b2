// qkv/models/llama.h — a Llama-architecture decoder (Touvron et al. 2023,
// "LLaMA", §2.2; grouped-query attention as Llama 2, Ainslie et al. 2023),
// laid out as Hugging Face's LlamaForCausalLM so its checkpoints map by name.
//
//   ids (B,T) ─► embed_tokens ─► num_hidden_layers × LlamaDecoderLayer ─► norm ─► lm_head ─► logits (B,T,V)
//   layer: x = x + self_attn(input_layernorm(x));  x = x + mlp(post_attention_layernorm(x))
//   self_attn: q/k/v/o_proj without biases, rotary q/k (rotate-half), NH query
//              heads over num_key_value_heads key/value heads (GQA; 1 = MQA)
//   mlp:       SwiGLU, down_proj(silu(gate_proj(x)) ⊙ up_proj(x))
//   norms:     RMSNorm (weight only, eps rms_norm_eps)
// No positions are added to the embeddings (RoPE turns q and k), nothing has
// a bias, and the output head is its own matrix unless tie_word_embeddings.
// Parameter names: model.embed_tokens.weight, model.layers.N.self_attn.q_proj.weight,
// model.layers.N.mlp.gate_proj.weight, model.layers.N.input_layernorm.weight,
// model.norm.weight, lm_head.weight. The KV cache holds num_key_value_heads·hs
// keys and values per position and layer: GQA's memory and bandwidth saving.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "qkv/core/rng.h"
#include "qkv/models/causal_decoder.h"
#include "qkv/models/llama_config.h"
#include "qkv/nn/attention.h"
#include "qkv/nn/layers.h"

namespace qkv::models {

class LlamaDecoderLayer : public nn::Module {
 public:
  LlamaDecoderLayer(const LlamaConfig& cfg, Generator& gen);
  // x (B,T,C) → (B,T,C); args: causal, key mask, cache slot, positions (RoPE).
  // With `weights`, the attention probabilities (B,NH,T,S) too.
  Tensor forward(const Tensor& x, const nn::AttentionArgs& args, Tensor* weights = nullptr) const;
  std::shared_ptr<nn::RMSNorm> input_layernorm, post_attention_layernorm;
  std::shared_ptr<nn::MultiHeadAttention> self_attn;
  std::shared_ptr<nn::SwiGLU> mlp;
};

// The layers, registered as "0", "1", … (PyTorch ModuleList keys).
class LlamaLayers : public nn::Module {
 public:
  void append(std::shared_ptr<LlamaDecoderLayer> l) { items.push_back(register_module(std::to_string(items.size()), l)); }
  std::vector<std::shared_ptr<LlamaDecoderLayer>> items;
};

// Hugging Face's LlamaModel: the stack without the output head ("model.").
class LlamaModel : public nn::Module {
 public:
  LlamaModel(const LlamaConfig& cfg, Generator& gen);
  std::shared_ptr<nn::Embedding> embed_tokens;
  std::shared_ptr<LlamaLayers> layers;
  std::shared_ptr<nn::RMSNorm> norm;
};

class Llama : public CausalDecoderLM {
 public:
  // Builds the model, initialised as Hugging Face's: every Linear and the
  // embedding N(0, initializer_range²), RMSNorm weights 1.
  Llama(const LlamaConfig& cfg, Generator& gen);
  // ids (B,T) int64 → logits (B,T,V). With a cache, cache->length() + T ≤ its
  // capacity (ValueError otherwise).
  Tensor forward(const Tensor& ids, nn::KVCache* cache = nullptr) const;
  // The last norm's input (B,T,C), with explicit positions/padding/cache.
  Tensor hidden(const Tensor& ids, const CausalInputs& in = {}) const;

  // models::Model / CausalLM
  std::string model_type() const override { return "llama"; }
  nlohmann::json config_json() const override { return config.to_json(); }
  Tensor lm_logits(const Tensor& ids, Generator& gen, const Tensor& attention_mask = {}) const override;
  int64_t vocab_size() const override { return config.vocab_size; }

  // models::CausalDecoderLM: the cache holds kv_heads()·head_dim() per position.
  int64_t context_length() const override { return config.max_position_embeddings; }
  nn::KVCache make_cache(int64_t batch) const override;
  int64_t cache_layers() const override { return config.num_hidden_layers; }
  Tensor last_token_logits(const Tensor& ids, const CausalInputs& in) const override;
  // Every Linear (lm_head included) and, tied, the embed_tokens copy used as
  // the head; the embedding lookup keeps f32 (models/llama_quantize.cpp).
  void quantize(WeightFormat format) override;
  WeightFormat weight_format() const override;
  int64_t tied_head_bytes() const override;

  LlamaConfig config;
  std::shared_ptr<LlamaModel> model;
  std::shared_ptr<nn::Linear> lm_head;  // null when tie_word_embeddings

 private:
  Tensor head(const Tensor& x) const;  // x (B,T,C) → logits (B,T,V)
  std::shared_ptr<const QuantizedMatrix> tied_head_q;  // embed_tokens quantized (tied head), or null
};

}  // namespace qkv::models
