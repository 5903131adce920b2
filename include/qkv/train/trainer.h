// qkv/train/trainer.h — training a GPT on a token stream (nanoGPT's train.py
// loop, with exact resume).
//
// Data: the stream is split into train (first 1 − val_fraction) and val (the
// rest); a batch is batch_size random contiguous blocks of block_size + 1
// tokens (inputs and next-token targets). Every eval_interval steps (and at
// the end) the mean loss over eval_iters batches of each split is logged to
// DIR/log.jsonl, the last checkpoint is saved in DIR, the best (lowest val
// loss) in DIR/best, and the loss curve is drawn to DIR/loss.svg.
// Resume restores model, optimizer, step, best loss and every RNG stream, so
// the continued run produces the same losses as an uninterrupted one.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "qkv/models/gpt.h"
#include "qkv/train/train_config.h"
#include "qkv/optim/adam.h"
#include "qkv/optim/schedule.h"

namespace qkv::train {


struct EvalRecord {
  int64_t step;
  float train_loss, val_loss, lr;
  double ms_per_iter, tokens_per_sec;
};

class Trainer {
 public:
  // `tokens`: the whole corpus as ids (< model vocab_size). The model
  // config's block_size sets the context. Throws ValueError when a split is
  // shorter than block_size + 1 tokens.
  Trainer(models::GPT& model, const TrainConfig& cfg, std::vector<int64_t> tokens, std::string out_dir);
  // Restores DIR's checkpoint (model, optimizer, step, RNGs). Throws
  // ValueError if the checkpoint's model or trainer config differs from this
  // run's (except max_iters, eval settings and log_interval), or if its files
  // are from different steps (an interrupted save).
  void resume();
  // Trains from the current step to max_iters. `extra_files` are written into
  // every checkpoint directory (e.g. tokenizer.json) by the callback.
  // Returns false when stopped early by the stop flag: the checkpoint in DIR
  // then holds the last completed step, and --resume continues exactly there.
  bool run(const std::function<void(const std::string& dir)>& write_extra_files = nullptr);
  // Checked after every optimizer step (e.g. set by a SIGINT/SIGTERM handler);
  // null = never stop early. The flag must outlive run().
  void set_stop_flag(const std::atomic<bool>* flag) { stop_ = flag; }

  int64_t step() const { return step_; }
  float best_val_loss() const { return best_val_; }
  const std::vector<EvalRecord>& evals() const { return evals_; }
  // Losses of every training step run by this object (for tests).
  const std::vector<float>& step_losses() const { return step_losses_; }

 private:
  void get_batch(bool train, Generator& gen, Tensor& x, Tensor& y) const;
  std::pair<float, float> estimate_loss();
  void save(const std::function<void(const std::string&)>& extra, bool best);

  models::GPT& model_;
  TrainConfig cfg_;
  std::vector<int64_t> train_, val_;
  std::string dir_;
  int64_t step_ = 0;
  float best_val_ = 1e30f;
  Generator data_gen_, dropout_gen_;
  std::unique_ptr<optim::AdamW> opt_;
  std::unique_ptr<optim::Schedule> schedule_;
  std::vector<EvalRecord> evals_;
  std::vector<float> step_losses_;
  double ms_per_iter_ = 0;
  const std::atomic<bool>* stop_ = nullptr;
};

}  // namespace qkv::train
