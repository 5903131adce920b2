// qkv/models/transformer_config.h — the encoder–decoder Transformer's
// hyperparameters (Vaswani et al. 2017, Table 3 names), as written to a model
// directory's config.json with "model_type": "transformer".
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "qkv/core/config_fields.h"

namespace qkv::models {

struct Seq2SeqConfig {
  int64_t vocab_size = 8000;      // V: one vocabulary shared by source and target (a joint BPE)
  int64_t d_model = 512;          // C: model width
  int64_t n_heads = 8;            // NH: attention heads (h in the paper)
  int64_t d_ff = 2048;            // inner width of the position-wise feed-forward (§3.3)
  int64_t n_encoder_layers = 6;   // N on the encoder side
  int64_t n_decoder_layers = 6;   // N on the decoder side
  float dropout = 0.1f;           // P_drop: embedding sums, attention probabilities, sub-layer outputs (§5.4)
  int64_t max_len = 256;          // longest target a decoder cache holds (and rows of learned position tables)
  bool norm_first = false;        // false: post-LN (the paper); true: pre-LN (Xiong et al. 2020)
  std::string activation = "relu";  // feed-forward: "relu" (the paper) or "gelu"
  int64_t pad_id = 0;             // padding token (never a label)
  int64_t bos_id = 1;             // the decoder's first input
  int64_t eos_id = 2;             // the last label of every target
  // Positions (docs/POSITIONS.md), on both sides: "sinusoidal" (the paper,
  // §3.5), "learned" (a max_len table per side), "rope" and "alibi" (in the
  // self-attention of both stacks; cross-attention has none), "t5" (one
  // bucketed bias per stack: bidirectional in the encoder, causal in the
  // decoder, as T5), "relative" (Shaw et al. 2018, the paper's own setting:
  // learned key/value vectors clipped at relative_max_distance in every
  // self-attention) or "none".
  std::string pos_encoding = "sinusoidal";
  float sinusoidal_base = 10000.0f;
  float rope_theta = 10000.0f;
  int64_t rope_dim = 0;
  std::string rope_layout = "rotate_half";
  std::string rope_scaling = "none";
  float rope_scaling_factor = 1.0f;
  int64_t t5_num_buckets = 32;
  int64_t t5_max_distance = 128;
  int64_t relative_max_distance = 16;  // relative: the clipping distance k (Shaw et al. used 16 on WMT)

  // Every field above, once: JSON key, help, bounds (qkv/core/config_fields.h).
  static const config::Table<Seq2SeqConfig>& fields();
  void validate() const;           // ValueError naming the field
  nlohmann::json to_json() const;  // the fields plus "model_type": "transformer"
  // Unknown keys are rejected (the message suggests the nearest key); missing
  // keys keep their defaults; "model_type", if present, must be "transformer".
  static Seq2SeqConfig from_json(const nlohmann::json& j);
  bool operator==(const Seq2SeqConfig&) const = default;
};

}  // namespace qkv::models
