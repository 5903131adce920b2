// qkv/models/transformer.h — the encoder–decoder Transformer of "Attention Is
// All You Need" (Vaswani et al. 2017), laid out as torch.nn.Transformer:
//
//   src (B,S) ─► shared·√C + PE ─► dropout ─► N × encoder layer ─► encoder.norm ─► memory (B,S,C)
//   tgt_in (B,T) ─► shared·√C + PE ─► dropout ─► N × decoder layer(memory) ─► decoder.norm ─► · sharedᵀ ─► logits (B,T,V)
//
//   encoder layer: self-attention (source padding masked), feed-forward
//   decoder layer: causal self-attention (target padding masked),
//                  encoder–decoder attention over memory (source padding masked), feed-forward
// Every sub-layer sits in a residual connection with a LayerNorm after it
// (post-LN, §3.1) or before it (pre-LN, config.norm_first). Like
// torch.nn.Transformer, both stacks end in a LayerNorm (encoder.norm,
// decoder.norm) in either placement. Embeddings are multiplied by √d_model
// and the sinusoidal table added (§3.4, §3.5); one embedding is shared by the
// source, the target and the output projection (§3.4, Press & Wolf 2017).
// Every layer is an nn::TransformerLayer; every attention nn::MultiHeadAttention.
//
// Parameter names (qkv's, checked against PyTorch by
// tests/models/test_transformer_parity.cpp): shared.weight,
// encoder.layers.0.{ln_1, attn.c_attn, attn.c_proj, ln_2, mlp.c_fc, mlp.c_proj},
// decoder.layers.0.{…, ln_cross_attn, crossattention.q_attn, crossattention.c_attn,
// crossattention.c_proj}, encoder.norm, decoder.norm. torch's fused
// cross-attention in_proj (3C, C) is q_attn (its first C rows) + c_attn (the rest).
//
// Teacher forcing (data::Seq2SeqCollator builds the batch): the decoder reads
// BOS y1 … yn and is trained to emit y1 … yn EOS; loss() is the label-smoothed
// cross-entropy over the labels that are not -100.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "qkv/core/rng.h"
#include "qkv/models/decoder.h"
#include "qkv/models/model.h"
#include "qkv/models/transformer_config.h"
#include "qkv/nn/kv_cache.h"
#include "qkv/nn/layers.h"
#include "qkv/nn/positional.h"
#include "qkv/nn/transformer_layer.h"

namespace qkv::models {

// One stack: its layers, registered "0", "1", … under "layers" (PyTorch
// ModuleList keys), and the final LayerNorm "norm".
class TransformerStack : public nn::Module {
 public:
  TransformerStack(const nn::LayerConfig& layer, int64_t n_layers, Generator& gen);
  std::vector<std::shared_ptr<nn::TransformerLayer>> layers;
  std::shared_ptr<nn::LayerNorm> norm;
};

// What decode() takes besides the target ids and the encoder output; every
// field optional.
struct DecodeArgs {
  Tensor src_mask;              // (G,S) bool, true = real source token (undefined = no padding)
  // Row b of tgt_in decodes against row source_rows[b] of memory, src_mask
  // and the cache's cross-attention slots, which then hold G rows (one per
  // sentence, shared by its beams). Empty: G = B, row b reads row b.
  std::vector<int64_t> source_rows;
  Tensor tgt_mask;              // (B,L) bool, true = real target token; L = cached + new positions
  nn::KVCache* cache = nullptr; // make_cache(B): decode only the new tokens, positions continue
  // When set, each decoder layer's attention probabilities are appended
  // (layer order): self (B,NH,T,L) and cross (B,NH,T,S) — the alignment
  // pictures of `qkv plot attention`.
  std::vector<nn::LayerWeights>* weights = nullptr;
};

class Transformer : public Seq2SeqLM {
 public:
  // Builds the model, initialised as torch.nn.Transformer (Xavier-uniform
  // matrices, zero biases, LayerNorm 1/0) with the shared embedding ~ N(0, C^−½)
  // so that embedding × √C has unit scale.
  Transformer(const Seq2SeqConfig& cfg, Generator& gen);

  // src_ids (B,S) int64, src_mask (B,S) bool or undefined → memory (B,S,C).
  // With `weights`, each encoder layer's self-attention probabilities
  // (B,NH,S,S) are appended.
  Tensor encode(const Tensor& src_ids, const Tensor& src_mask, Generator& gen,
                std::vector<Tensor>* weights = nullptr) const;
  // tgt_in (B,T) int64 (BOS + target so far), memory (G,S,C) → logits (B,T,V)
  // (G = B unless args.source_rows maps rows to sentences).
  // With args.cache, tgt_in holds only the new tokens: their positions start
  // at cache->length(), the self-attention keys/values are appended, and the
  // cross-attention keys/values are computed from memory on the first call
  // and reused after (memory may then be undefined).
  Tensor decode(const Tensor& tgt_in, const Tensor& memory, Generator& gen, const DecodeArgs& args = {}) const;
  // decode(tgt_in, encode(src_ids, src_mask)): teacher-forced logits (B,T,V).
  Tensor forward(const Tensor& src_ids, const Tensor& src_mask, const Tensor& tgt_in, const Tensor& tgt_mask,
                 Generator& gen) const;
  Tensor seq2seq_logits(const Tensor& src, const Tensor& src_mask, const Tensor& tgt_in, const Tensor& tgt_mask,
                        Generator& gen) const override {
    return forward(src, src_mask, tgt_in, tgt_mask, gen);
  }
  // Label-smoothed cross-entropy (§5.4; PyTorch's label_smoothing) of logits
  // (B,T,V) against labels (B,T), mean over the labels that are not -100.
  static Tensor loss(const Tensor& logits, const Tensor& labels, float label_smoothing = 0.0f);

  // n_decoder_layers self-attention slots of max_len positions, then as many
  // cross-attention slots (filled by the first decode()).
  nn::KVCache make_cache(int64_t batch) const;

  // models::Decoder: start() encodes in.source_ids (B,S) (with in.source_mask)
  // once and runs the target prompts in.ids (B,T) — unpadded, usually one BOS
  // each; step() decodes one token per row over the cache, the
  // cross-attention keys/values computed once (transformer_decode.cpp).
  int64_t vocab_size() const override { return config.vocab_size; }
  Tensor start(DecodeState& st, const DecodeInput& in) const override;
  Tensor step(DecodeState& st, const std::vector<int64_t>& next) const override;
  void check_ready() const override;

  std::string model_type() const override { return "transformer"; }
  nlohmann::json config_json() const override { return config.to_json(); }

  Seq2SeqConfig config;
  std::shared_ptr<nn::Embedding> shared;
  std::shared_ptr<TransformerStack> encoder, decoder;
  // Positions (config.pos_encoding; null when the method does not use them):
  // the sinusoidal table both sides add, learned tables per side, T5 biases
  // per stack. rope and alibi live in the self-attention modules.
  std::shared_ptr<nn::SinusoidalPositionalEncoding> pe;
  std::shared_ptr<nn::LearnedPositionalEmbedding> encoder_positions, decoder_positions;
  std::shared_ptr<nn::T5RelativeBias> encoder_bias, decoder_bias;
  std::shared_ptr<nn::Dropout> drop;

 private:
  enum class Side { Encoder, Decoder };
  Tensor embed(const Tensor& ids, int64_t offset, Side side, Generator& gen) const;  // (B,T) → (B,T,C)
  void add_positions(Generator& gen);  // the modules config.pos_encoding needs
  void init_weights(Generator& gen);
};

}  // namespace qkv::models
