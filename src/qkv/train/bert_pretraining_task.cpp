// BERT's masked-LM (+ next-sentence) pretraining task (see qkv/train/bert_pretraining_task.h).
#include "qkv/train/bert_pretraining_task.h"

#include "qkv/autograd/autograd.h"
#include "qkv/core/error.h"
#include "qkv/ops/ops.h"

namespace qkv::train {
namespace {

// How many of `pred` equal `want` (two int64 tensors of one shape).
int64_t count_equal(const Tensor& pred, const Tensor& want) {
  const auto p = pred.to_int_vector(), w = want.to_int_vector();
  int64_t n = 0;
  for (size_t i = 0; i < p.size(); ++i) n += p[i] == w[i];
  return n;
}

}  // namespace

BertPretrainingTask::BertPretrainingTask(models::Bert& model, data::BertPretrainingSampler train,
                                         data::BertPretrainingSampler val, int64_t eval_batches,
                                         int64_t eval_batch_size)
    : model_(model), train_(std::move(train)), val_(std::move(val)), eval_batches_(eval_batches),
      eval_batch_size_(eval_batch_size) {
  if (!model.cls)
    throw ValueError(std::string("pretraining needs a BertForPreTraining or BertForMaskedLM, not a ") +
                     models::bert_head_name(model.config.head));
  if (train_.vocab().vocab_size > model.config.vocab_size)
    throw ValueError("pretraining: the tokenizer has " + std::to_string(train_.vocab().vocab_size) +
                     " tokens but the model's vocab_size is " + std::to_string(model.config.vocab_size));
  if (eval_batches < 1 || eval_batch_size < 1) throw ValueError("pretraining: eval_batches and eval_batch_size must be >= 1");
}

data::Batch BertPretrainingTask::train_batch(int64_t batch_size, data::DataCursor& cursor, Generator& gen) {
  return train_.next(batch_size, cursor, gen);
}

data::Batch BertPretrainingTask::eval_batch(Split split, int64_t batch_size, Generator& gen) {
  return (split == Split::Train ? train_ : val_).sample(batch_size, gen);
}

BertPretrainingTask::Parts BertPretrainingTask::parts(const data::Batch& batch, Generator& dropout) const {
  const bool nsp_batch = batch.extra.count("next_sentence_label") > 0;
  const bool nsp_model = model_.cls->seq_relationship != nullptr;
  if (nsp_batch != nsp_model)
    throw ValueError(nsp_model ? "pretraining: a BertForPreTraining needs next-sentence pairs (do not pass --no-nsp)"
                               : "pretraining: a BertForMaskedLM cannot learn next-sentence labels (pass --no-nsp)");
  const Tensor h = model_.hidden({batch.input_ids, batch.get("token_type_ids"), batch.attention_mask}, dropout);
  // The masked rows only: the vocabulary projection is most of the head's cost.
  const int64_t B = h.size(0), T = h.size(1), C = h.size(2);
  std::vector<int64_t> rows, targets;
  const auto labels = batch.labels.to_int_vector();
  for (int64_t i = 0; i < B * T; ++i)
    if (labels[i] != -100) rows.push_back(i), targets.push_back(labels[i]);
  Parts p;
  p.masked = static_cast<int64_t>(rows.size());
  if (p.masked == 0) {
    p.mlm_loss = mul(sum(h), 0.0f);  // no masked token drawn (tiny batches): a zero loss that keeps the graph
  } else {
    const Tensor logits = model_.mlm_logits(index_select(h.reshape({B * T, C}), 0, tensor_i64(rows, {p.masked})));
    const Tensor want = tensor_i64(targets, {p.masked});
    p.mlm_loss = cross_entropy(logits, want);
    NoGradGuard ng;
    p.mlm_correct = count_equal(argmax(logits, 1), want);
  }
  if (nsp_model) {
    const Tensor nsp = model_.nsp_logits(model_.pooled(h));
    const Tensor& want = batch.get("next_sentence_label");
    p.nsp_loss = cross_entropy(nsp, want);
    p.pairs = B;
    NoGradGuard ng;
    p.nsp_correct = count_equal(argmax(nsp, 1), want);
  }
  return p;
}

Tensor BertPretrainingTask::loss(const data::Batch& batch, Generator& dropout) {
  Parts p = parts(batch, dropout);
  return p.nsp_loss.defined() ? add(p.mlm_loss, p.nsp_loss) : p.mlm_loss;
}

int64_t BertPretrainingTask::tokens(const data::Batch& batch) const {
  int64_t n = 0;
  for (int64_t v : batch.attention_mask.to(DType::Int64).to_int_vector()) n += v;
  return n;
}

nlohmann::json BertPretrainingTask::eval_metrics() {
  NoGradGuard ng;
  Generator gen(4242);  // the same validation batches at every evaluation
  double mlm = 0, nsp = 0;
  int64_t masked = 0, mlm_ok = 0, pairs = 0, nsp_ok = 0;
  for (int64_t i = 0; i < eval_batches_; ++i) {
    const Parts p = parts(val_.sample(eval_batch_size_, gen), gen);
    mlm += p.mlm_loss.item() * static_cast<double>(p.masked), masked += p.masked, mlm_ok += p.mlm_correct;
    if (p.nsp_loss.defined()) nsp += p.nsp_loss.item() * static_cast<double>(p.pairs), pairs += p.pairs;
    nsp_ok += p.nsp_correct;
  }
  nlohmann::json j;
  if (masked > 0) {
    j["val_mlm_loss"] = mlm / static_cast<double>(masked);
    j["val_mlm_accuracy"] = 100.0 * static_cast<double>(mlm_ok) / static_cast<double>(masked);
  }
  if (pairs > 0) {
    j["val_nsp_loss"] = nsp / static_cast<double>(pairs);
    j["val_nsp_accuracy"] = 100.0 * static_cast<double>(nsp_ok) / static_cast<double>(pairs);
  }
  return j;
}

}  // namespace qkv::train
