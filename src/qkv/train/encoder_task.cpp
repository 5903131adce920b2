// Fine-tuning an encoder with a classification, tagging or span head (see qkv/train/encoder_task.h).
#include "qkv/train/encoder_task.h"

#include <algorithm>
#include <numeric>

#include "qkv/autograd/autograd.h"
#include "qkv/core/error.h"
#include "qkv/ops/ops.h"

namespace qkv::train {
namespace {

models::BertHead bert_head_of(EncoderHead h) {
  switch (h) {
    case EncoderHead::Sequence: return models::BertHead::SequenceClassification;
    case EncoderHead::Token: return models::BertHead::TokenClassification;
    case EncoderHead::Span: return models::BertHead::QuestionAnswering;
  }
  return models::BertHead::None;
}

}  // namespace

EncoderFinetuneTask::EncoderFinetuneTask(models::Bert& model, EncoderHead head, std::vector<EncoderExample> train,
                                         std::vector<EncoderExample> dev, EncoderTaskOptions opt)
    : model_(model), head_(head), train_(std::move(train)), dev_(std::move(dev)), opt_(std::move(opt)) {
  if (model.config.head != bert_head_of(head))
    throw ValueError(std::string("fine-tuning: the task needs a ") + models::bert_head_name(bert_head_of(head)) +
                     ", the model is a " + models::bert_head_name(model.config.head));
  if (opt_.eval_batch < 1) throw ValueError("fine-tuning: eval_batch must be >= 1");
  check_set(train_, "train");
  check_set(dev_, "dev");
}

void EncoderFinetuneTask::check_set(const std::vector<EncoderExample>& set, const char* name) const {
  if (set.empty()) throw ValueError(std::string("fine-tuning: the ") + name + " set is empty");
  const auto& c = model_.config;
  for (size_t i = 0; i < set.size(); ++i) {
    const auto& e = set[i];
    const std::string where = std::string("fine-tuning: ") + name + " example " + std::to_string(i + 1) + ": ";
    const int64_t T = static_cast<int64_t>(e.input_ids.size());
    if (T < 1 || T > c.max_position_embeddings)
      throw ValueError(where + std::to_string(T) + " tokens (the model reads 1 to " +
                       std::to_string(c.max_position_embeddings) + ")");
    if (!e.token_type_ids.empty() && e.token_type_ids.size() != e.input_ids.size())
      throw ValueError(where + "token_type_ids and input_ids differ in length");
    for (int64_t id : e.input_ids)
      if (id < 0 || id >= c.vocab_size) throw ValueError(where + "token id " + std::to_string(id) + " is outside the vocabulary");
    const int64_t L = c.num_labels();
    if (head_ == EncoderHead::Sequence) {
      if (e.labels.size() != 1 || e.labels[0] < 0 || e.labels[0] >= L)
        throw ValueError(where + "needs one label in [0, " + std::to_string(L) + ")");
    } else if (head_ == EncoderHead::Token) {
      if (e.labels.size() != e.input_ids.size()) throw ValueError(where + "needs one label per token");
      for (int64_t l : e.labels)
        if (l != -100 && (l < 0 || l >= L))
          throw ValueError(where + "label " + std::to_string(l) + " is outside [0, " + std::to_string(L) + ")");
    } else {
      if (e.labels.size() != 2 || e.labels[0] < 0 || e.labels[1] < e.labels[0] || e.labels[1] >= T)
        throw ValueError(where + "needs start <= end inside the sequence");
    }
  }
}

data::Batch EncoderFinetuneTask::collate(const std::vector<EncoderExample>& set, const std::vector<int64_t>& rows) const {
  size_t T = 1;
  for (int64_t r : rows) T = std::max(T, set[r].input_ids.size());
  const int64_t B = static_cast<int64_t>(rows.size()), pad = model_.config.pad_token_id;
  std::vector<int64_t> ids(B * T, pad), types(B * T, 0), labels;
  std::vector<bool> mask(B * T, false);
  if (head_ == EncoderHead::Token) labels.assign(B * T, -100);
  for (int64_t b = 0; b < B; ++b) {
    const auto& e = set[rows[b]];
    for (size_t t = 0; t < e.input_ids.size(); ++t) {
      ids[b * T + t] = e.input_ids[t];
      types[b * T + t] = e.token_type_ids.empty() ? 0 : e.token_type_ids[t];
      mask[b * T + t] = true;
      if (head_ == EncoderHead::Token) labels[b * T + t] = e.labels[t];
    }
    if (head_ != EncoderHead::Token) labels.insert(labels.end(), e.labels.begin(), e.labels.end());
  }
  const Shape s{B, static_cast<int64_t>(T)};
  data::Batch batch;
  batch.input_ids = tensor_i64(ids, s);
  batch.attention_mask = tensor_bool(mask, s);
  batch.extra["token_type_ids"] = tensor_i64(types, s);
  batch.labels = head_ == EncoderHead::Token      ? tensor_i64(labels, s)
                 : head_ == EncoderHead::Sequence ? tensor_i64(labels, {B})
                                                  : tensor_i64(labels, {B, 2});
  return batch;
}

data::Batch EncoderFinetuneTask::train_batch(int64_t batch_size, data::DataCursor& cursor, Generator& /*gen*/) {
  const int64_t N = static_cast<int64_t>(train_.size());
  if (cursor.position >= N) cursor.epoch += 1, cursor.position = 0;
  if (order_epoch_ != cursor.epoch) {  // Fisher–Yates from the epoch's own generator
    order_.resize(train_.size());
    std::iota(order_.begin(), order_.end(), 0);
    Generator g(opt_.seed + static_cast<uint64_t>(cursor.epoch));
    for (int64_t i = N - 1; i > 0; --i) std::swap(order_[i], order_[g.next_u64() % static_cast<uint64_t>(i + 1)]);
    order_epoch_ = cursor.epoch;
  }
  const int64_t end = std::min(N, cursor.position + batch_size);
  std::vector<int64_t> rows(order_.begin() + cursor.position, order_.begin() + end);
  cursor.position = end;
  return collate(train_, rows);
}

data::Batch EncoderFinetuneTask::eval_batch(Split split, int64_t batch_size, Generator& gen) {
  const auto& set = split == Split::Train ? train_ : dev_;
  std::vector<int64_t> rows(static_cast<size_t>(batch_size));
  for (auto& r : rows) r = static_cast<int64_t>(gen.next_u64() % set.size());
  return collate(set, rows);
}

Tensor EncoderFinetuneTask::logits(const data::Batch& batch, Generator& dropout) const {
  const Tensor h = model_.hidden({batch.input_ids, batch.get("token_type_ids"), batch.attention_mask}, dropout);
  switch (head_) {
    case EncoderHead::Sequence: return model_.sequence_logits(h, dropout);
    case EncoderHead::Token: return model_.token_logits(h, dropout);
    case EncoderHead::Span: return model_.qa_logits(h);
  }
  return {};
}

Tensor EncoderFinetuneTask::loss(const data::Batch& batch, Generator& dropout) {
  const Tensor out = logits(batch, dropout);
  if (head_ != EncoderHead::Span) return cross_entropy(out, batch.labels);
  return mul(add(cross_entropy(out.select(2, 0), batch.labels.select(1, 0)),
                 cross_entropy(out.select(2, 1), batch.labels.select(1, 1))),
             0.5f);
}

int64_t EncoderFinetuneTask::tokens(const data::Batch& batch) const {
  int64_t n = 0;
  for (int64_t v : batch.attention_mask.to(DType::Int64).to_int_vector()) n += v;
  return n;
}

std::optional<double> EncoderFinetuneTask::split_loss(Split split, int64_t /*batch_size*/) {
  if (split == Split::Train) return std::nullopt;
  NoGradGuard ng;
  Generator gen(0);
  double total = 0;
  for (size_t i = 0; i < dev_.size(); i += static_cast<size_t>(opt_.eval_batch)) {
    std::vector<int64_t> rows;
    for (size_t r = i; r < std::min(dev_.size(), i + opt_.eval_batch); ++r) rows.push_back(static_cast<int64_t>(r));
    total += static_cast<double>(loss(collate(dev_, rows), gen).item()) * static_cast<double>(rows.size());
  }
  return total / static_cast<double>(dev_.size());
}

std::vector<Tensor> EncoderFinetuneTask::predict(const std::vector<EncoderExample>& examples) {
  NoGradGuard ng;
  const bool was_training = model_.is_training();
  model_.eval();
  Generator gen(0);
  std::vector<Tensor> out;
  for (size_t i = 0; i < examples.size(); i += static_cast<size_t>(opt_.eval_batch)) {
    std::vector<int64_t> rows;
    for (size_t r = i; r < std::min(examples.size(), i + opt_.eval_batch); ++r) rows.push_back(static_cast<int64_t>(r));
    const Tensor l = logits(collate(examples, rows), gen);
    for (size_t b = 0; b < rows.size(); ++b) {
      Tensor one = l.select(0, static_cast<int64_t>(b));
      if (head_ != EncoderHead::Sequence) one = one.narrow(0, 0, static_cast<int64_t>(examples[rows[b]].input_ids.size()));
      out.push_back(one.contiguous());
    }
  }
  model_.train(was_training);
  return out;
}

nlohmann::json EncoderFinetuneTask::eval_metrics() {
  if (!opt_.metrics) return nlohmann::json::object();
  return opt_.metrics(predict(dev_));
}

void freeze_bottom_layers(models::Bert& model, int64_t n) {
  const int64_t L = static_cast<int64_t>(model.bert->encoder->layer->items.size());
  if (n < 0 || n > L)
    throw ValueError("--freeze-layers " + std::to_string(n) + ": the model has " + std::to_string(L) + " layers");
  if (n == 0) return;
  for (auto& [_, p] : model.bert->embeddings->named_parameters()) p.requires_grad_(false);
  for (int64_t i = 0; i < n; ++i)
    for (auto& [_, p] : model.bert->encoder->layer->items[i]->named_parameters()) p.requires_grad_(false);
}

}  // namespace qkv::train
