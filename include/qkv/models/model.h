// qkv/models/model.h — what every model family shares, so that the registry,
// the trainer and the commands can handle a model without knowing its type.
//
//   Model     an nn::Module that names its family ("gpt", later "bert",
//             "transformer", …) and writes its config as config.json's JSON;
//   CausalLM  a Model that maps token ids to next-token logits at every
//             position (GPT, Llama-style decoders): what the causal-LM
//             training task needs.
//   Seq2SeqLM a Model that maps a source and a target prefix to next-token
//             logits (the encoder–decoder Transformer) and decodes
//             (models::Decoder): what the translation task needs.
// A model that generates also implements models::Decoder (decoder.h).
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "qkv/core/rng.h"
#include "qkv/core/tensor.h"
#include "qkv/models/decoder.h"
#include "qkv/nn/module.h"

namespace qkv::models {

class Model : public nn::Module {
 public:
  // config.json's "model_type": the registry key (models/registry.h).
  virtual std::string model_type() const = 0;
  // The whole config as written to config.json, "model_type" included.
  virtual nlohmann::json config_json() const = 0;
};

class CausalLM : public Model {
 public:
  // ids (B,T) int64 → logits (B,T,V); position t predicts token t + 1.
  // attention_mask (B,T) bool, true = real token (undefined = no padding).
  virtual Tensor lm_logits(const Tensor& ids, Generator& gen, const Tensor& attention_mask = {}) const = 0;
  virtual int64_t vocab_size() const = 0;
};

class Seq2SeqLM : public Model, public Decoder {
 public:
  // Teacher forcing: src (B,S) int64 with src_mask (B,S) bool, tgt_in (B,T)
  // int64 (BOS + target) with tgt_mask (B,T) bool (true = real token; either
  // mask undefined = no padding) → logits (B,T,V); position t predicts
  // target token t + 1.
  virtual Tensor seq2seq_logits(const Tensor& src, const Tensor& src_mask, const Tensor& tgt_in,
                                const Tensor& tgt_mask, Generator& gen) const = 0;
};

}  // namespace qkv::models
