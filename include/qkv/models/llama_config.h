// qkv/models/llama_config.h — the Llama hyperparameters under Hugging Face's
// LlamaConfig names, as written to a model directory's config.json
// ("model_type": "llama"). nanoGPT-style spellings are accepted as aliases
// (n_layer, n_head, n_kv_head, n_embd, block_size).
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "qkv/core/config_fields.h"

namespace qkv::models {

struct LlamaConfig {
  int64_t vocab_size = 65;               // V: tokens
  int64_t hidden_size = 128;             // C: model width (d_model)
  int64_t intermediate_size = 344;       // SwiGLU width (≈ 8/3·C, Llama's choice)
  int64_t num_hidden_layers = 4;         // decoder layers
  int64_t num_attention_heads = 4;       // NH: query heads; hs = C / NH
  int64_t num_key_value_heads = 0;       // key/value heads (grouped-query); divides NH; 0 = NH
  float rms_norm_eps = 1e-6f;            // RMSNorm's eps
  float rope_theta = 10000.0f;           // RoPE base θ (rotate-half layout, as Hugging Face Llama)
  int64_t max_position_embeddings = 64;  // longest context: training windows and the KV cache
  bool tie_word_embeddings = false;      // output projection = embed_tokens (no lm_head.weight)
  float initializer_range = 0.02f;       // std of the normal initial weights
  std::string hidden_act = "silu";       // the gate's activation (SwiGLU)

  int64_t head_dim() const { return hidden_size / num_attention_heads; }
  int64_t kv_heads() const { return num_key_value_heads ? num_key_value_heads : num_attention_heads; }

  // Every field above, once: JSON key, help, bounds (qkv/core/config_fields.h).
  static const config::Table<LlamaConfig>& fields();
  void validate() const;           // ValueError naming the field(s)
  nlohmann::json to_json() const;  // the fields plus "model_type": "llama" (num_key_value_heads resolved)
  // Unknown keys are rejected with the nearest known one; missing keys keep
  // their defaults; num_key_value_heads 0 becomes num_attention_heads.
  static LlamaConfig from_json(const nlohmann::json& j);
  bool operator==(const LlamaConfig&) const = default;
};

}  // namespace qkv::models
