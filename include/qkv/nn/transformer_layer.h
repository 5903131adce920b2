// qkv/nn/transformer_layer.h — one Transformer layer: self-attention, optional
// cross-attention (the decoder's encoder–decoder attention), and the
// position-wise feed-forward, each wrapped in a residual connection and a
// LayerNorm. Encoder layers, decoder layers and GPT's block are all this class.
// Hugging Face GPT-2 names: ln_1, attn, ln_cross_attn, crossattention, ln_2, mlp.
//   Pre-LN  (GPT-2, Xiong et al. 2020): x += attn(ln_1(x)); x += cross(ln_cross_attn(x)); x += mlp(ln_2(x))
//   Post-LN (Vaswani et al. 2017 §3.1): x = ln_1(x + attn(x)); x = ln_cross_attn(x + cross(x)); x = ln_2(x + mlp(x))
// (dropout on each sub-layer's output is inside attn and mlp).
#pragma once
#include <cstdint>

#include "qkv/nn/attention.h"
#include "qkv/nn/layers.h"

namespace qkv::nn {

enum class NormPlacement { Pre, Post };

struct LayerConfig {
  int64_t d_model = 0;                      // C
  int64_t n_heads = 0;                      // NH
  int64_t d_ff = 0;                         // feed-forward width (0 = 4·C)
  float dropout = 0.0f;                     // attention probabilities and every sub-layer output
  bool bias = true;                         // Linear and LayerNorm biases
  Activation activation = Activation::GELU;
  NormPlacement norm = NormPlacement::Pre;
  float ln_eps = 1e-5f;
  bool cross_attention = false;             // a decoder layer of an encoder–decoder model
  int64_t kv_dim = 0;                       // encoder width for cross-attention (0 = d_model)
  ProjectionNames self_names, cross_names;  // projection names (GPT-2's by default)
};

// Arguments of one call: the self-attention's and (decoder layers) the
// cross-attention's. `gen` draws dropout in training mode.
struct LayerArgs {
  AttentionArgs self;   // causal, masks, cache slot, positions
  AttentionArgs cross;  // context = encoder output, key_mask = source padding, cache slot
  Generator* gen = nullptr;
};

// The attention probabilities of one call, for pictures: self (B,NH,T,L),
// cross (B,NH,T,S) (undefined in a layer without cross-attention).
struct LayerWeights {
  Tensor self, cross;
};

class TransformerLayer : public Module {
 public:
  TransformerLayer(const LayerConfig& cfg, Generator& gen);
  // x (B,T,C) → (B,T,C); with `weights`, the attention probabilities too.
  Tensor forward(const Tensor& x, const LayerArgs& args, LayerWeights* weights = nullptr) const;

  LayerConfig config;
  std::shared_ptr<LayerNorm> ln_1, ln_cross_attn, ln_2;
  std::shared_ptr<MultiHeadAttention> attn, crossattention;
  std::shared_ptr<FeedForward> mlp;
};

}  // namespace qkv::nn
