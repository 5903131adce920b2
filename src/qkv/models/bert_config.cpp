// BertConfig: its field table, the head, the labels and config.json (see qkv/models/bert_config.h).
#include "qkv/models/bert_config.h"

#include <array>
#include <utility>

#include "qkv/core/error.h"
#include "qkv/core/json_parse.h"
#include "qkv/models/model_size.h"

namespace qkv::models {
namespace {

constexpr std::array<std::pair<BertHead, const char*>, 6> kHeads{{
    {BertHead::PreTraining, "BertForPreTraining"},
    {BertHead::MaskedLM, "BertForMaskedLM"},
    {BertHead::SequenceClassification, "BertForSequenceClassification"},
    {BertHead::TokenClassification, "BertForTokenClassification"},
    {BertHead::QuestionAnswering, "BertForQuestionAnswering"},
    {BertHead::None, "BertModel"},
}};

bool has_labels(BertHead h) { return h == BertHead::SequenceClassification || h == BertHead::TokenClassification; }

// id2label {"0": "NEGATIVE", "1": "POSITIVE"} → labels in id order.
std::vector<std::string> labels_from_json(const nlohmann::json& id2label) {
  if (!id2label.is_object() || id2label.empty())
    throw ValueError("BERT config: field \"id2label\" must be a non-empty object {\"0\": label, …}");
  std::vector<std::string> labels(id2label.size());
  std::vector<bool> seen(id2label.size(), false);
  for (const auto& [key, value] : id2label.items()) {
    size_t used = 0;
    long long id = -1;
    try {
      id = std::stoll(key, &used);
    } catch (...) {
    }
    if (used != key.size() || id < 0 || id >= static_cast<long long>(labels.size()) || seen[id])
      throw ValueError("BERT config: id2label key \"" + key + "\" is not one of the ids 0…" +
                       std::to_string(labels.size() - 1) + " (each once)");
    if (!value.is_string()) throw ValueError("BERT config: id2label[\"" + key + "\"] must be a string");
    labels[id] = value.get<std::string>(), seen[id] = true;
  }
  return labels;
}

}  // namespace

BertHead bert_head_from_name(const std::string& architecture) {
  std::string known;
  for (const auto& [h, name] : kHeads) {
    if (architecture == name) return h;
    known += (known.empty() ? "" : ", ") + std::string(name);
  }
  throw ValueError("BERT config: unknown architecture \"" + architecture + "\" (known: " + known + ")");
}

const char* bert_head_name(BertHead head) {
  for (const auto& [h, name] : kHeads)
    if (h == head) return name;
  return "?";
}

bool bert_head_has_pooler(BertHead head) {
  return head == BertHead::PreTraining || head == BertHead::SequenceClassification || head == BertHead::None;
}

const config::Table<BertConfig>& BertConfig::fields() {
  using config::field;
  using B = BertConfig;
  static const config::Table<B> t(
      "BERT config",
      {
          field("vocab_size", &B::vocab_size, "Tokens in the vocabulary, V").above(0),
          field("hidden_size", &B::hidden_size, "Model width C").above(0),
          field("num_hidden_layers", &B::num_hidden_layers, "Encoder layers").above(0),
          field("num_attention_heads", &B::num_attention_heads, "Attention heads per layer, NH").above(0),
          field("intermediate_size", &B::intermediate_size, "Feed-forward width").above(0),
          field("hidden_act", &B::hidden_act, "Feed-forward activation")
              .one_of({"gelu", "gelu_new", "gelu_pytorch_tanh", "relu"}),
          field("hidden_dropout_prob", &B::hidden_dropout_prob, "Dropout on embeddings and sub-layer outputs")
              .at_least(0)
              .below(1),
          field("attention_probs_dropout_prob", &B::attention_probs_dropout_prob,
                "Dropout on the attention probabilities")
              .at_least(0)
              .below(1),
          field("max_position_embeddings", &B::max_position_embeddings, "Longest input (learned positions)").above(0),
          field("type_vocab_size", &B::type_vocab_size, "Segments (token_type_ids)").above(0),
          field("initializer_range", &B::initializer_range, "Std of the normal initial weights").above(0),
          field("layer_norm_eps", &B::layer_norm_eps, "LayerNorm epsilon").above(0),
          field("pad_token_id", &B::pad_token_id, "Padding id (its embedding row starts at zero)").at_least(0),
          field("position_embedding_type", &B::position_embedding_type, "Positions").one_of({"absolute"}),
      });
  return t;
}

void BertConfig::validate() const {
  fields().validate(*this);
  if (hidden_size % num_attention_heads != 0)
    throw ValueError("BERT config: hidden_size " + std::to_string(hidden_size) +
                     " must be divisible by num_attention_heads " + std::to_string(num_attention_heads));
  if (pad_token_id >= vocab_size)
    throw ValueError("BERT config: pad_token_id " + std::to_string(pad_token_id) + " is outside the vocabulary (" +
                     std::to_string(vocab_size) + " tokens)");
  if (has_labels(head) && labels.empty())
    throw ValueError(std::string("BERT config: ") + bert_head_name(head) + " needs labels (id2label or num_labels)");
  if (!(classifier_dropout < 1.0f))
    throw ValueError("BERT config: classifier_dropout must be in [0, 1) or null");
  const double C = static_cast<double>(hidden_size), F = static_cast<double>(intermediate_size);
  check_fits_in_memory(static_cast<double>(num_hidden_layers) * (4 * C * C + 2 * C * F) +
                           static_cast<double>(vocab_size + max_position_embeddings + type_vocab_size) * C,
                       "BERT config");
}

nlohmann::json BertConfig::to_json() const {
  nlohmann::json j = fields().to_json(*this);
  j["model_type"] = "bert";
  j["architectures"] = {bert_head_name(head)};
  if (has_labels(head)) {
    nlohmann::json id2label = nlohmann::json::object(), label2id = nlohmann::json::object();
    for (size_t i = 0; i < labels.size(); ++i) {
      id2label[std::to_string(i)] = labels[i];
      label2id[labels[i]] = i;
    }
    j["num_labels"] = labels.size();
    j["id2label"] = id2label;
    j["label2id"] = label2id;
  }
  j["classifier_dropout"] = classifier_dropout < 0 ? nlohmann::json(nullptr) : nlohmann::json(classifier_dropout);
  return j;
}

BertConfig BertConfig::from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw ValueError("BERT config: expected a JSON object");
  nlohmann::json rest = j;
  if (j.contains("model_type")) {
    const nlohmann::json& t = j["model_type"];
    if (!t.is_string() || t.get<std::string>() != "bert")
      throw ValueError("BERT config: field \"model_type\" must be \"bert\", got " + json_excerpt(t));
  }
  for (const char* k : {"model_type", "architectures", "id2label", "label2id", "num_labels", "classifier_dropout"})
    rest.erase(k);
  BertConfig c = fields().from_json(rest);
  if (j.contains("architectures")) {
    const nlohmann::json& a = j["architectures"];
    if (!a.is_array() || a.size() != 1 || !a[0].is_string())
      throw ValueError("BERT config: field \"architectures\" must be a list of one class name, got " + json_excerpt(a));
    c.head = bert_head_from_name(a[0].get<std::string>());
  }
  if (j.contains("id2label")) {
    c.labels = labels_from_json(j["id2label"]);
  } else if (j.contains("num_labels")) {
    const nlohmann::json& n = j["num_labels"];
    if (!n.is_number_integer() || n.get<int64_t>() < 1 || n.get<int64_t>() > 1000000)
      throw ValueError("BERT config: field \"num_labels\" must be a positive integer, got " + json_excerpt(n));
    for (int64_t i = 0; i < n.get<int64_t>(); ++i) c.labels.push_back("LABEL_" + std::to_string(i));
  }
  if (j.contains("num_labels") && j.contains("id2label") && j["num_labels"] != nlohmann::json(c.labels.size()))
    throw ValueError("BERT config: num_labels " + json_excerpt(j["num_labels"]) + " but id2label has " +
                     std::to_string(c.labels.size()) + " labels");
  if (j.contains("classifier_dropout") && !j["classifier_dropout"].is_null()) {
    const nlohmann::json& d = j["classifier_dropout"];
    if (!d.is_number() || d.get<double>() < 0)
      throw ValueError("BERT config: field \"classifier_dropout\" must be a number in [0, 1) or null, got " + json_excerpt(d));
    c.classifier_dropout = d.get<float>();
  }
  if (!has_labels(c.head)) c.labels.clear();  // HF writes id2label for every head; only these use it
  c.validate();
  return c;
}

}  // namespace qkv::models
