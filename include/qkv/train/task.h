// qkv/train/task.h — what a trainer trains: a model, its batches, its loss.
//
// The trainer (trainer.h) owns the loop — accumulation, clipping, schedule,
// evaluation, log.jsonl, checkpoints, exact resume — and knows no model by
// name. A Task supplies the rest:
//
//   class MyTask : public train::Task {
//     models::Model& model() override;                          // what is optimized and saved
//     data::Batch train_batch(int64_t B, data::DataCursor&, Generator&) override;
//     data::Batch eval_batch(Split, int64_t B, Generator&) override;
//     Tensor loss(const data::Batch&, Generator& dropout) override;  // scalar mean loss
//   };
//
// Determinism contract (what makes a resume exact): train_batch draws only
// from the Generator it is given and records how far it went in the cursor
// (position, epoch), which the trainer saves with the Generator's state;
// eval_batch draws only from its Generator (a fresh one per evaluation).
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "qkv/core/rng.h"
#include "qkv/core/tensor.h"
#include "qkv/data/batch.h"
#include "qkv/data/cursor.h"
#include "qkv/data/sampler.h"
#include "qkv/models/model.h"

namespace qkv::train {

enum class Split { Train, Val };

class Task {
 public:
  virtual ~Task() = default;
  virtual models::Model& model() = 0;
  // The next training micro-batch of batch_size examples.
  virtual data::Batch train_batch(int64_t batch_size, data::DataCursor& cursor, Generator& gen) = 0;
  // A batch of `split` for the loss estimate.
  virtual data::Batch eval_batch(Split split, int64_t batch_size, Generator& gen) = 0;
  // Mean loss of the batch: a differentiable scalar.
  virtual Tensor loss(const data::Batch& batch, Generator& dropout) = 0;
  // Tokens the batch trains on, for tokens/s (default: its input ids).
  virtual int64_t tokens(const data::Batch& batch) const { return batch.input_ids.numel(); }

  // Evaluation beyond the loss estimate (called in eval mode, without grad).
  // The mean loss over the whole split when the task can compute it (a
  // translation validation set); nullopt = the trainer averages eval_iters
  // random batches of eval_batch.
  virtual std::optional<double> split_loss(Split /*split*/, int64_t /*batch_size*/) { return std::nullopt; }
  // Further scores logged at every evaluation, e.g. {"val_bleu": 31.2}.
  virtual nlohmann::json eval_metrics() { return nlohmann::json::object(); }
  // The eval_metrics() key that picks the best checkpoint (higher is better);
  // empty = the lowest validation loss.
  virtual std::string best_metric() const { return ""; }
};

// Next-token prediction on one token stream (GPT, nanoGPT's train.py): the
// stream's first (1 − val_fraction) is the train split, the rest the val
// split; a batch is random contiguous windows of block_size inputs and their
// next tokens (data::LMBlockSampler); the loss is the mean cross-entropy.
class CausalLMTask : public Task {
 public:
  // ValueError when an id is outside the model's vocabulary or a split is
  // shorter than block_size + 1 tokens (naming the split and the sizes).
  CausalLMTask(models::CausalLM& model, const std::vector<int64_t>& tokens, int64_t block_size, float val_fraction);

  models::Model& model() override { return model_; }
  data::Batch train_batch(int64_t batch_size, data::DataCursor& cursor, Generator& gen) override;
  data::Batch eval_batch(Split split, int64_t batch_size, Generator& gen) override;
  Tensor loss(const data::Batch& batch, Generator& dropout) override;

 private:
  models::CausalLM& model_;
  data::LMBlockSampler train_, val_;
};

}  // namespace qkv::train
