// qkv/train/bert_pretraining_task.h — BERT's pretraining objective on the
// model-agnostic trainer (Devlin et al. 2019 §3.1): the masked-LM
// cross-entropy over the chosen positions plus, for a BertForPreTraining, the
// next-sentence cross-entropy (a BertForMaskedLM trains MLM alone, RoBERTa's
// setting). Batches come from data::BertPretrainingSampler (masking, NSP
// pairs, epochs, exact resume); the vocabulary projection runs only on the
// masked rows (15% of them), which gives the same loss and gradients.
// Every evaluation also logs the two losses apart and the accuracies
// (val_mlm_accuracy: argmax = original token at masked positions,
// val_nsp_accuracy), over eval_batches batches of the validation documents.
#pragma once
#include <cstdint>

#include "qkv/data/pretraining_sampler.h"
#include "qkv/models/bert.h"
#include "qkv/train/task.h"

namespace qkv::train {

class BertPretrainingTask : public Task {
 public:
  // ValueError when the model has no MLM head, when NSP batches meet a model
  // without the NSP head (or the reverse), or the vocabularies differ.
  BertPretrainingTask(models::Bert& model, data::BertPretrainingSampler train, data::BertPretrainingSampler val,
                      int64_t eval_batches = 8, int64_t eval_batch_size = 32);

  models::Model& model() override { return model_; }
  data::Batch train_batch(int64_t batch_size, data::DataCursor& cursor, Generator& gen) override;
  data::Batch eval_batch(Split split, int64_t batch_size, Generator& gen) override;
  Tensor loss(const data::Batch& batch, Generator& dropout) override;
  int64_t tokens(const data::Batch& batch) const override;  // real (unpadded) tokens
  nlohmann::json eval_metrics() override;

  struct Parts {
    Tensor mlm_loss, nsp_loss;  // nsp_loss undefined without NSP
    int64_t masked = 0, mlm_correct = 0, pairs = 0, nsp_correct = 0;
  };
  // The loss terms of a batch, with the counts the accuracies need.
  Parts parts(const data::Batch& batch, Generator& dropout) const;

 private:
  models::Bert& model_;
  data::BertPretrainingSampler train_, val_;
  int64_t eval_batches_, eval_batch_size_;
};

}  // namespace qkv::train
