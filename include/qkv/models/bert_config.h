// qkv/models/bert_config.h — BERT's hyperparameters under Hugging Face's
// BertConfig names, as written to a model directory's config.json
// ("model_type": "bert"), and which head the model carries.
//
// The head is Hugging Face's class name in "architectures" (one entry):
//   BertForPreTraining                MLM + next-sentence heads (cls.predictions, cls.seq_relationship), pooler
//   BertForMaskedLM                   MLM head only, no pooler
//   BertForSequenceClassification     pooler + dropout + classifier (num_labels)
//   BertForTokenClassification        dropout + classifier on every token, no pooler
//   BertForQuestionAnswering          qa_outputs (start, end) on every token, no pooler
//   BertModel                         the encoder and pooler alone (feature extraction)
// Labels of the classification heads travel as HF's id2label / label2id.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "qkv/core/config_fields.h"

namespace qkv::models {

enum class BertHead { PreTraining, MaskedLM, SequenceClassification, TokenClassification, QuestionAnswering, None };

// "BertForPreTraining" … "BertModel" ↔ BertHead; ValueError naming the known ones.
BertHead bert_head_from_name(const std::string& architecture);
const char* bert_head_name(BertHead head);
// Whether the head's model has the pooler (tanh dense on [CLS]), as Hugging Face's add_pooling_layer.
bool bert_head_has_pooler(BertHead head);

struct BertConfig {
  int64_t vocab_size = 30522;              // V: WordPiece vocabulary
  int64_t hidden_size = 256;               // C
  int64_t num_hidden_layers = 4;           // encoder layers
  int64_t num_attention_heads = 4;         // NH; hs = C / NH
  int64_t intermediate_size = 1024;        // feed-forward width
  std::string hidden_act = "gelu";         // gelu (erf), gelu_new / gelu_pytorch_tanh (tanh form), relu
  float hidden_dropout_prob = 0.1f;        // embeddings, every sub-layer output, the classifier (unless classifier_dropout)
  float attention_probs_dropout_prob = 0.1f;
  int64_t max_position_embeddings = 512;   // longest input (learned positions)
  int64_t type_vocab_size = 2;             // segments (token_type_ids)
  float initializer_range = 0.02f;         // std of the normal initial weights
  float layer_norm_eps = 1e-12f;
  int64_t pad_token_id = 0;                // the word embedding row kept at zero at initialisation
  std::string position_embedding_type = "absolute";

  // Not in the field table (their JSON is not a scalar):
  BertHead head = BertHead::PreTraining;   // "architectures": [name]
  std::vector<std::string> labels;         // id2label in id order (classification heads); num_labels = size
  float classifier_dropout = -1.0f;        // < 0: null, hidden_dropout_prob is used

  int64_t head_dim() const { return hidden_size / num_attention_heads; }
  int64_t num_labels() const { return static_cast<int64_t>(labels.size()); }
  float classifier_dropout_p() const { return classifier_dropout < 0 ? hidden_dropout_prob : classifier_dropout; }

  static const config::Table<BertConfig>& fields();
  void validate() const;           // ValueError naming the field(s)
  // The fields plus "model_type": "bert", "architectures", and for the
  // classification heads "num_labels", "id2label", "label2id", "classifier_dropout".
  nlohmann::json to_json() const;
  // Unknown keys are rejected with the nearest known one; missing keys keep
  // their defaults. Labels from id2label (ids 0…n−1, as strings) or, without
  // it, num_labels (named LABEL_0 …, as Hugging Face).
  static BertConfig from_json(const nlohmann::json& j);
  bool operator==(const BertConfig&) const = default;
};

}  // namespace qkv::models
