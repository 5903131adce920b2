// BERT (see qkv/models/bert.h): embeddings, post-LN encoder layers, pooler and heads.
#include "qkv/models/bert.h"

#include <cmath>

#include "qkv/core/error.h"
#include "qkv/nn/init.h"
#include "qkv/nn/trace.h"
#include "qkv/ops/ops.h"

namespace qkv::models {
namespace {

nn::Activation activation_of(const std::string& hidden_act) {
  if (hidden_act == "relu") return nn::Activation::ReLU;
  if (hidden_act == "gelu_new" || hidden_act == "gelu_pytorch_tanh") return nn::Activation::GELUTanh;
  return nn::Activation::GELU;  // "gelu": erf form (validated by BertConfig)
}

std::string shape_of(const Tensor& t) { return shape_str(t.shape()); }

// Every id of `t` in [0, limit), or ValueError naming the input.
void check_range(const Tensor& t, int64_t limit, const char* name, const char* bound) {
  for (int64_t v : t.to_int_vector())
    if (v < 0 || v >= limit)
      throw ValueError(std::string("BERT: ") + name + " holds " + std::to_string(v) + ", outside [0, " +
                       std::to_string(limit) + ") (" + bound + ")");
}

}  // namespace

BertEmbeddings::BertEmbeddings(const BertConfig& cfg, Generator& gen) {
  const int64_t C = cfg.hidden_size;
  word_embeddings = register_module("word_embeddings", std::make_shared<nn::Embedding>(cfg.vocab_size, C, gen));
  position_embeddings =
      register_module("position_embeddings", std::make_shared<nn::Embedding>(cfg.max_position_embeddings, C, gen));
  token_type_embeddings =
      register_module("token_type_embeddings", std::make_shared<nn::Embedding>(cfg.type_vocab_size, C, gen));
  LayerNorm = register_module("LayerNorm", std::make_shared<nn::LayerNorm>(C, cfg.layer_norm_eps));
  dropout = register_module("dropout", std::make_shared<nn::Dropout>(cfg.hidden_dropout_prob));
}

Tensor BertEmbeddings::forward(const BertInputs& in, Generator& gen) const {
  const int64_t T = in.input_ids.size(1);
  Tensor x = add(word_embeddings->forward(in.input_ids), position_embeddings->forward(arange(T)));
  Tensor types = in.token_type_ids.defined() ? in.token_type_ids : zeros(in.input_ids.shape(), DType::Int64);
  x = add(x, token_type_embeddings->forward(types));
  return dropout->forward(LayerNorm->forward(x), gen);
}

BertResidualOutput::BertResidualOutput(int64_t in, const BertConfig& cfg, Generator& gen) {
  dense = register_module("dense", std::make_shared<nn::Linear>(in, cfg.hidden_size, true, gen));
  LayerNorm = register_module("LayerNorm", std::make_shared<nn::LayerNorm>(cfg.hidden_size, cfg.layer_norm_eps));
  dropout = register_module("dropout", std::make_shared<nn::Dropout>(cfg.hidden_dropout_prob));
}

Tensor BertResidualOutput::forward(const Tensor& x, const Tensor& residual, Generator& gen) const {
  return LayerNorm->forward(add(residual, dropout->forward(dense->forward(x, &gen), gen)));
}

BertAttention::BertAttention(const BertConfig& cfg, Generator& gen) {
  nn::AttentionConfig a;
  a.d_model = cfg.hidden_size;
  a.n_heads = cfg.num_attention_heads;
  a.dropout = cfg.attention_probs_dropout_prob;
  a.names = nn::ProjectionNames::separate("query", "key", "value", "");  // output projection: output.dense
  self = register_module("self", std::make_shared<nn::MultiHeadAttention>(a, gen));
  output = register_module("output", std::make_shared<BertResidualOutput>(cfg.hidden_size, cfg, gen));
}

BertDenseAct::BertDenseAct(int64_t in, int64_t out, const BertConfig& cfg, bool layer_norm, Generator& gen)
    : act(activation_of(cfg.hidden_act)) {
  dense = register_module("dense", std::make_shared<nn::Linear>(in, out, true, gen));
  if (layer_norm) LayerNorm = register_module("LayerNorm", std::make_shared<nn::LayerNorm>(out, cfg.layer_norm_eps));
}

Tensor BertDenseAct::forward(const Tensor& x, Generator* gen) const {
  Tensor y = nn::activate(dense->forward(x, gen), act);
  return LayerNorm ? LayerNorm->forward(y) : y;
}

BertLayer::BertLayer(const BertConfig& cfg, Generator& gen) {
  attention = register_module("attention", std::make_shared<BertAttention>(cfg, gen));
  intermediate = register_module(
      "intermediate", std::make_shared<BertDenseAct>(cfg.hidden_size, cfg.intermediate_size, cfg, false, gen));
  output = register_module("output", std::make_shared<BertResidualOutput>(cfg.intermediate_size, cfg, gen));
}

Tensor BertLayer::forward(const Tensor& x, const Tensor& key_mask, Generator& gen, Tensor* weights) const {
  nn::AttentionArgs args;
  args.key_mask = key_mask;
  args.gen = &gen;
  args.need_weights = weights != nullptr;
  nn::AttentionOutput att = attention->self->forward(x, args);
  if (weights) *weights = att.weights;
  Tensor a = attention->output->forward(att.out, x, gen);
  const Tensor h = intermediate->forward(a, &gen);  // (B,T,F)
  nn::trace_tensor(this, "hidden", "F", h);
  Tensor y = output->forward(h, a, gen);
  nn::trace_tensor(this, "out", "C", y);  // the residual stream after the layer
  return y;
}

BertEncoder::BertEncoder(const BertConfig& cfg, Generator& gen) {
  layer = register_module("layer", std::make_shared<BertLayers>());
  for (int64_t i = 0; i < cfg.num_hidden_layers; ++i) layer->append(std::make_shared<BertLayer>(cfg, gen));
}

BertPooler::BertPooler(const BertConfig& cfg, Generator& gen) {
  dense = register_module("dense", std::make_shared<nn::Linear>(cfg.hidden_size, cfg.hidden_size, true, gen));
}

Tensor BertPooler::forward(const Tensor& hidden) const { return tanh(dense->forward(hidden.select(1, 0))); }

BertModel::BertModel(const BertConfig& cfg, Generator& gen) {
  embeddings = register_module("embeddings", std::make_shared<BertEmbeddings>(cfg, gen));
  encoder = register_module("encoder", std::make_shared<BertEncoder>(cfg, gen));
  if (bert_head_has_pooler(cfg.head)) pooler = register_module("pooler", std::make_shared<BertPooler>(cfg, gen));
}

BertLMPredictionHead::BertLMPredictionHead(const BertConfig& cfg, Generator& gen) {
  bias = register_parameter("bias", zeros({cfg.vocab_size}));
  transform = register_module("transform",
                              std::make_shared<BertDenseAct>(cfg.hidden_size, cfg.hidden_size, cfg, true, gen));
}

BertPreTrainingHeads::BertPreTrainingHeads(const BertConfig& cfg, bool nsp, Generator& gen) {
  predictions = register_module("predictions", std::make_shared<BertLMPredictionHead>(cfg, gen));
  if (nsp) seq_relationship = register_module("seq_relationship", std::make_shared<nn::Linear>(cfg.hidden_size, 2, true, gen));
}

Bert::Bert(const BertConfig& cfg, Generator& gen) : config(cfg) {
  config.validate();
  bert = register_module("bert", std::make_shared<BertModel>(config, gen));
  const int64_t C = config.hidden_size;
  switch (config.head) {
    case BertHead::PreTraining:
    case BertHead::MaskedLM:
      cls = register_module("cls", std::make_shared<BertPreTrainingHeads>(config, config.head == BertHead::PreTraining, gen));
      break;
    case BertHead::SequenceClassification:
    case BertHead::TokenClassification:
      classifier_dropout = register_module("dropout", std::make_shared<nn::Dropout>(config.classifier_dropout_p()));
      classifier = register_module("classifier", std::make_shared<nn::Linear>(C, config.num_labels(), true, gen));
      break;
    case BertHead::QuestionAnswering:
      qa_outputs = register_module("qa_outputs", std::make_shared<nn::Linear>(C, 2, true, gen));
      break;
    case BertHead::None:
      break;
  }
  init_weights(gen);
}

void Bert::init_weights(Generator& gen) {
  const float std = config.initializer_range;
  for (auto& [name, m] : named_modules()) {
    if (auto* lin = dynamic_cast<nn::Linear*>(m)) {
      nn::normal_(lin->weight, 0.0f, std, gen);
      if (lin->bias.defined()) nn::zeros_(lin->bias);
    } else if (auto* emb = dynamic_cast<nn::Embedding*>(m)) {
      nn::normal_(emb->weight, 0.0f, std, gen);
    }
  }
  // The padding row starts at zero (torch.nn.Embedding's padding_idx, as HF's _init_weights).
  Tensor pad_row = bert->embeddings->word_embeddings->weight.select(0, config.pad_token_id);
  nn::zeros_(pad_row);
}

void Bert::check_inputs(const BertInputs& in) const {
  const Tensor& ids = in.input_ids;
  if (!ids.defined() || ids.dim() != 2 || ids.dtype() != DType::Int64)
    throw ShapeError("BERT: input_ids must be (B,T) int64, got " + (ids.defined() ? shape_of(ids) : "nothing"));
  const int64_t T = ids.size(1);
  if (T < 1) throw ShapeError("BERT: input_ids has no tokens (T = 0)");
  if (T > config.max_position_embeddings)
    throw ValueError("BERT: a sequence of " + std::to_string(T) + " tokens is longer than max_position_embeddings " +
                     std::to_string(config.max_position_embeddings) + " (truncate the input)");
  check_range(ids, config.vocab_size, "input_ids", "vocab_size");
  if (in.token_type_ids.defined()) {
    if (in.token_type_ids.shape() != ids.shape() || in.token_type_ids.dtype() != DType::Int64)
      throw ShapeError("BERT: token_type_ids must be int64 of input_ids' shape " + shape_of(ids) + ", got " +
                       shape_of(in.token_type_ids));
    check_range(in.token_type_ids, config.type_vocab_size, "token_type_ids", "type_vocab_size");
  }
  if (in.attention_mask.defined() &&
      (in.attention_mask.shape() != ids.shape() || in.attention_mask.dtype() != DType::Bool))
    throw ShapeError("BERT: attention_mask must be bool of input_ids' shape " + shape_of(ids) + ", got " +
                     shape_of(in.attention_mask) + " " + dtype_name(in.attention_mask.dtype()));
}

Tensor Bert::hidden(const BertInputs& in, Generator& gen, std::vector<Tensor>* weights) const {
  check_inputs(in);
  Tensor x = bert->embeddings->forward(in, gen);
  for (const auto& layer : bert->encoder->layer->items) {
    Tensor w;
    x = layer->forward(x, in.attention_mask, gen, weights ? &w : nullptr);
    if (weights) weights->push_back(w);
  }
  return x;
}

Tensor Bert::pooled(const Tensor& hidden) const {
  if (!bert->pooler)
    throw ValueError(std::string("BERT: a ") + bert_head_name(config.head) + " has no pooler (no [CLS] summary)");
  return bert->pooler->forward(hidden);
}

Tensor Bert::mlm_logits(const Tensor& hidden) const {
  if (!cls) throw ValueError(std::string("BERT: a ") + bert_head_name(config.head) + " has no masked-LM head");
  const auto& p = *cls->predictions;
  // Pre-training passes the masked positions alone, gathered into rows (P,C):
  // its transform's own lines would read them as (T,C), so they are traced
  // here under their letter instead.
  const bool gathered = hidden.dim() == 2;
  nn::Trace* trace = gathered ? nn::current_trace() : nullptr;
  const bool was_paused = trace && trace->paused();
  if (trace) trace->pause(true);
  const Tensor h = p.transform->forward(hidden);
  if (trace) trace->pause(was_paused);
  if (gathered) nn::trace_tensor(p.transform.get(), "out", "(P,C)", h);
  // Tied decoder: h · word_embeddingsᵀ + bias (Hugging Face's cls.predictions.decoder).
  Tensor logits = linear(h, bert->embeddings->word_embeddings->weight, p.bias);
  nn::trace_tensor(this, "logits", gathered ? "(P,V)" : "V", logits);
  return logits;
}

Tensor Bert::nsp_logits(const Tensor& pooled_out) const {
  if (!cls || !cls->seq_relationship)
    throw ValueError(std::string("BERT: a ") + bert_head_name(config.head) + " has no next-sentence head");
  return cls->seq_relationship->forward(pooled_out);
}

Tensor Bert::sequence_logits(const Tensor& hidden_out, Generator& gen) const {
  if (config.head != BertHead::SequenceClassification)
    throw ValueError(std::string("BERT: a ") + bert_head_name(config.head) + " has no sequence-classification head");
  return classifier->forward(classifier_dropout->forward(pooled(hidden_out), gen));
}

Tensor Bert::token_logits(const Tensor& hidden_out, Generator& gen) const {
  if (config.head != BertHead::TokenClassification)
    throw ValueError(std::string("BERT: a ") + bert_head_name(config.head) + " has no token-classification head");
  return classifier->forward(classifier_dropout->forward(hidden_out, gen));
}

Tensor Bert::qa_logits(const Tensor& hidden_out) const {
  if (!qa_outputs)
    throw ValueError(std::string("BERT: a ") + bert_head_name(config.head) + " has no question-answering head");
  return qa_outputs->forward(hidden_out);
}

void Bert::load_encoder_from(const Bert& other) {
  nn::NamedTensors sd;
  for (auto& [name, t] : other.bert->state_dict()) {
    if (!bert->pooler && name.rfind("pooler.", 0) == 0) continue;
    sd.push_back({name, t});
  }
  try {
    bert->load_state_dict(sd, false);
  } catch (const Error& e) {
    throw ValueError(std::string("BERT: the pretrained encoder does not fit this model: ") + e.what());
  }
}

}  // namespace qkv::models
