// qkv/models/gpt_config.h — the GPT hyperparameters (nanoGPT's names), as
// written to a model directory's config.json.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "qkv/core/config_fields.h"

namespace qkv::models {

struct GPTConfig {
  int64_t vocab_size = 65;   // V: tokens
  int64_t n_layer = 4;       // Transformer blocks
  int64_t n_head = 4;        // NH: attention heads per block
  int64_t n_embd = 128;      // C: model width (d_model)
  int64_t block_size = 64;   // longest context (learned positions)
  float dropout = 0.0f;      // embedding, attention and residual dropout
  bool bias = true;          // biases in Linear and LayerNorm (GPT-2: true)
  std::string activation = "gelu";  // "gelu" (erf, nanoGPT) or "gelu_tanh" (GPT-2's gelu_new)
  // Positions (docs/POSITIONS.md): "learned" (GPT-2's wpe, block_size rows),
  // "sinusoidal" (added, Vaswani et al.), "rope" (rotary q/k), "alibi"
  // (distance penalty in the scores), "t5" (learned bucketed bias in the
  // scores), "relative" (Shaw et al. 2018: learned key and value vectors per
  // clipped distance, per layer) or "none" (causal attention alone).
  std::string pos_encoding = "learned";
  float sinusoidal_base = 10000.0f;      // sinusoidal: the base of the wavelengths
  float rope_theta = 10000.0f;           // rope: the base θ
  int64_t rope_dim = 0;                  // rope: rotary channels per head (even); 0 = all
  std::string rope_layout = "rotate_half";  // rope: "rotate_half" (GPT-NeoX/Llama) or "adjacent" (the paper)
  std::string rope_scaling = "none";     // rope past the training length: "none", "linear" or "ntk"
  float rope_scaling_factor = 1.0f;      // rope: the scaling's factor (≥ 1)
  int64_t t5_num_buckets = 32;           // t5: relative-position buckets (causal: all for keys before)
  int64_t t5_max_distance = 128;         // t5: offsets from here on share the last bucket
  int64_t relative_max_distance = 16;    // relative: the clipping distance k (2k+1 vectors; Shaw et al. used 16)

  // Every field above, once: JSON key, help, bounds (qkv/core/config_fields.h).
  static const config::Table<GPTConfig>& fields();
  void validate() const;  // ValueError naming the field
  nlohmann::json to_json() const;  // the fields plus "model_type": "gpt"
  // Unknown keys are rejected (a typo must not silently train another model;
  // the message suggests the nearest key); missing keys keep their defaults.
  // ValueError names the key.
  static GPTConfig from_json(const nlohmann::json& j);
  bool operator==(const GPTConfig&) const = default;
};

}  // namespace qkv::models
