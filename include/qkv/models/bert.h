// qkv/models/bert.h — the encoder-only Transformer of BERT (Devlin et al.
// 2019), in Hugging Face's BertFor* layout and parameter names so real
// checkpoints map one to one:
//
//   input_ids, token_type_ids (B,T) ─► word + position + token_type embeddings ─► LayerNorm ─► dropout
//     ─► N × layer ─► hidden (B,T,C)
//   layer (post-LN, Vaswani et al. §3.1):
//     a = LayerNorm(x + dropout(attention.output.dense(attention.self(x))))   padding keys masked
//     y = LayerNorm(a + dropout(output.dense(act(intermediate.dense(a)))))
//   pooler: tanh(dense(hidden[:, 0]))                 the [CLS] summary (BertPooler)
//
// Heads (config.head; bert_config.h):
//   MLM   cls.predictions: LayerNorm(act(transform.dense(h))) · word_embeddingsᵀ + cls.predictions.bias
//         (the decoder is tied to the word embeddings, Press & Wolf 2017, so it has no tensor of its own)
//   NSP   cls.seq_relationship: pooled → 2 (0 = IsNext, 1 = NotNext)
//   classification  classifier(dropout(pooled)) → num_labels
//   token classification  classifier(dropout(h)) → num_labels per token
//   question answering    qa_outputs(h) → (start, end) logits per token
//
// Names: bert.embeddings.word_embeddings.weight,
// bert.encoder.layer.N.attention.self.{query,key,value}, …attention.output.{dense,LayerNorm},
// …intermediate.dense, …output.{dense,LayerNorm}, bert.pooler.dense, cls.predictions.{bias,
// transform.dense, transform.LayerNorm}, cls.seq_relationship, classifier, qa_outputs —
// checked against a PyTorch implementation by tests/models/test_bert_parity.cpp.
// Every attention is the one nn::MultiHeadAttention (separate query/key/value,
// the output projection outside it, as BertSelfOutput).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "qkv/core/rng.h"
#include "qkv/models/bert_config.h"
#include "qkv/models/model.h"
#include "qkv/nn/attention.h"
#include "qkv/nn/layers.h"

namespace qkv::models {

// One batch: ids (B,T) int64; token_type_ids (B,T) int64 or undefined (all
// segment 0); attention_mask (B,T) bool, true = real token, or undefined (no padding).
struct BertInputs {
  Tensor input_ids, token_type_ids, attention_mask;
};

class BertEmbeddings : public nn::Module {
 public:
  BertEmbeddings(const BertConfig& cfg, Generator& gen);
  Tensor forward(const BertInputs& in, Generator& gen) const;  // → (B,T,C)
  std::shared_ptr<nn::Embedding> word_embeddings, position_embeddings, token_type_embeddings;
  std::shared_ptr<nn::LayerNorm> LayerNorm;  // Hugging Face's (and TF's) name
  std::shared_ptr<nn::Dropout> dropout;
};

// LayerNorm(residual + dropout(dense(x))): BertSelfOutput and BertOutput.
class BertResidualOutput : public nn::Module {
 public:
  BertResidualOutput(int64_t in, const BertConfig& cfg, Generator& gen);
  Tensor forward(const Tensor& x, const Tensor& residual, Generator& gen) const;
  std::shared_ptr<nn::Linear> dense;
  std::shared_ptr<nn::LayerNorm> LayerNorm;
  std::shared_ptr<nn::Dropout> dropout;
};

class BertAttention : public nn::Module {
 public:
  BertAttention(const BertConfig& cfg, Generator& gen);
  std::shared_ptr<nn::MultiHeadAttention> self;  // query, key, value; no output projection
  std::shared_ptr<BertResidualOutput> output;
};

// A dense layer and the activation: BertIntermediate, and the MLM head's transform (with its LayerNorm).
class BertDenseAct : public nn::Module {
 public:
  BertDenseAct(int64_t in, int64_t out, const BertConfig& cfg, bool layer_norm, Generator& gen);
  Tensor forward(const Tensor& x, Generator* gen = nullptr) const;  // gen: LoRA dropout
  nn::Activation act;
  std::shared_ptr<nn::Linear> dense;
  std::shared_ptr<nn::LayerNorm> LayerNorm;  // null in BertIntermediate
};

class BertLayer : public nn::Module {
 public:
  BertLayer(const BertConfig& cfg, Generator& gen);
  // x (B,T,C), key_mask (B,T) bool or undefined → (B,T,C); with `weights`,
  // the attention probabilities (B,NH,T,T) are stored there.
  Tensor forward(const Tensor& x, const Tensor& key_mask, Generator& gen, Tensor* weights = nullptr) const;
  std::shared_ptr<BertAttention> attention;
  std::shared_ptr<BertDenseAct> intermediate;
  std::shared_ptr<BertResidualOutput> output;
};

// The layers, registered "0", "1", … under "layer" (PyTorch ModuleList keys).
class BertLayers : public nn::Module {
 public:
  void append(std::shared_ptr<BertLayer> l) { items.push_back(register_module(std::to_string(items.size()), l)); }
  std::vector<std::shared_ptr<BertLayer>> items;
};

class BertEncoder : public nn::Module {
 public:
  BertEncoder(const BertConfig& cfg, Generator& gen);
  std::shared_ptr<BertLayers> layer;
};

class BertPooler : public nn::Module {
 public:
  BertPooler(const BertConfig& cfg, Generator& gen);
  Tensor forward(const Tensor& hidden) const;  // (B,T,C) → tanh(dense(hidden[:, 0])) (B,C)
  std::shared_ptr<nn::Linear> dense;
};

// "bert": the embeddings, the encoder and (for some heads) the pooler.
class BertModel : public nn::Module {
 public:
  BertModel(const BertConfig& cfg, Generator& gen);
  std::shared_ptr<BertEmbeddings> embeddings;
  std::shared_ptr<BertEncoder> encoder;
  std::shared_ptr<BertPooler> pooler;  // null unless bert_head_has_pooler
};

// cls.predictions: the MLM head (decoder tied to the word embeddings).
class BertLMPredictionHead : public nn::Module {
 public:
  BertLMPredictionHead(const BertConfig& cfg, Generator& gen);
  std::shared_ptr<BertDenseAct> transform;
  Tensor bias;  // (V)
};

// "cls": predictions (MLM) and, for pretraining, seq_relationship (NSP).
class BertPreTrainingHeads : public nn::Module {
 public:
  BertPreTrainingHeads(const BertConfig& cfg, bool nsp, Generator& gen);
  std::shared_ptr<BertLMPredictionHead> predictions;
  std::shared_ptr<nn::Linear> seq_relationship;  // null without NSP
};

class Bert : public Model {
 public:
  // Builds the model of cfg.head, initialised as Hugging Face's
  // BertPreTrainedModel._init_weights: Linear and Embedding weights
  // N(0, initializer_range²), biases zero, the pad_token_id embedding row
  // zero, LayerNorm 1/0, cls.predictions.bias zero.
  Bert(const BertConfig& cfg, Generator& gen);

  // The last layer's hidden states (B,T,C). ValueError/ShapeError naming the
  // input at fault (ids outside the vocabulary, T > max_position_embeddings,
  // a token type ≥ type_vocab_size, mismatched shapes). With `weights`, each
  // layer's attention probabilities (B,NH,T,T) are appended.
  Tensor hidden(const BertInputs& in, Generator& gen, std::vector<Tensor>* weights = nullptr) const;
  // tanh(dense(hidden[:, 0])) (B,C); ValueError when the head has no pooler.
  Tensor pooled(const Tensor& hidden) const;

  // MLM logits (…,V) of hidden rows (…,C) — pass only the rows that are
  // scored (e.g. the masked positions) to save the vocabulary projection.
  Tensor mlm_logits(const Tensor& hidden) const;
  Tensor nsp_logits(const Tensor& pooled) const;                      // (B,2)
  Tensor sequence_logits(const Tensor& hidden, Generator& gen) const; // (B,num_labels)
  Tensor token_logits(const Tensor& hidden, Generator& gen) const;    // (B,T,num_labels)
  Tensor qa_logits(const Tensor& hidden) const;                       // (B,T,2): start, end

  // Copies the encoder (and the pooler, when both have one) from `other`,
  // leaving this model's head as initialised: fine-tuning a pretrained
  // encoder for another task (Hugging Face's from_pretrained with a new head).
  // ValueError when the encoders' shapes differ.
  void load_encoder_from(const Bert& other);

  std::string model_type() const override { return "bert"; }
  nlohmann::json config_json() const override { return config.to_json(); }

  BertConfig config;
  std::shared_ptr<BertModel> bert;
  std::shared_ptr<BertPreTrainingHeads> cls;        // PreTraining, MaskedLM
  std::shared_ptr<nn::Linear> classifier;           // Sequence/TokenClassification
  std::shared_ptr<nn::Dropout> classifier_dropout;  // before classifier
  std::shared_ptr<nn::Linear> qa_outputs;           // QuestionAnswering

 private:
  void check_inputs(const BertInputs& in) const;
  void init_weights(Generator& gen);
};

}  // namespace qkv::models
