// qkv/train/trainer.h — the training loop, written once for every task
// (nanoGPT's train.py loop, with exact resume).
//
//   models::GPT model(cfg, gen);
//   train::CausalLMTask task(model, ids, cfg.block_size, tc.val_fraction);   // or any train::Task
//   train::Trainer trainer(task, tc, "runs/x");
//   trainer.set_data_fingerprint(data::file_fingerprint(path));
//   if (resuming) trainer.resume();
//   trainer.run([&](const std::string& dir) { tokenizer.save(dir + "/tokenizer.json"); });
//
// Each step: grad_accum micro-batches from the task (loss / grad_accum
// backpropagated), global-norm clipping, AdamW at the schedule's lr. Every
// eval_interval steps (and at the end) the mean loss over eval_iters batches
// of each split is logged to DIR/log.jsonl, the checkpoint is saved in DIR,
// the best (lowest val loss) in DIR/best, and the curve drawn to DIR/loss.svg.
// Every step's loss and learning rate go to DIR/steps.tsv (appended at each
// checkpoint; train/run_log.h reads both logs back).
//
// DIR holds config.json + model.safetensors (models/registry.h), plus
//   optimizer.safetensors  the optimizer state, keyed by parameter name
//   trainer_state.json     step, best val loss, data cursor + RNG, dropout
//                          RNG, trainer and model configs, data fingerprint
// each file tagged with its step. A save is written whole into
// DIR/.checkpoint.new, marked complete, then moved into DIR (trainer_state.json
// last): a kill at any moment leaves one consistent checkpoint, which
// resume() completes or rolls back first (recover_checkpoint). Resume
// restores all of it: the continued run's losses equal an uninterrupted
// run's, bit for bit.
//
// The best checkpoint is the one with the lowest validation loss, or the
// highest Task::best_metric() score (BLEU for translation). With
// cfg.average_last = N, every evaluation also keeps its weights in
// DIR/checkpoints/step_<step>.safetensors (the last N), and the end of the run
// writes their element-wise mean as a model directory DIR/averaged.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "qkv/data/cursor.h"
#include "qkv/io/safetensors.h"
#include "qkv/train/saved_state.h"
#include "qkv/optim/adam.h"
#include "qkv/optim/schedule.h"
#include "qkv/train/task.h"
#include "qkv/train/train_config.h"

namespace qkv::nn {
class Trace;  // qkv/nn/trace.h
}

namespace qkv::train {

struct EvalRecord {
  int64_t step;
  float train_loss, val_loss, lr;
  double ms_per_iter, tokens_per_sec;
  nlohmann::json metrics = nlohmann::json::object();  // Task::eval_metrics() (e.g. val_bleu)
};

class Trainer {
 public:
  using ExtraFiles = std::function<void(const std::string& dir)>;

  // Validates cfg; builds AdamW over the task model's trainable parameters
  // (nn::decay_groups: frozen ones get no state). Writes nothing.
  Trainer(Task& task, const TrainConfig& cfg, std::string out_dir);
  // What identifies the training data (data::file_fingerprint): saved with
  // every checkpoint and compared by resume().
  void set_data_fingerprint(nlohmann::json fingerprint) { fingerprint_ = std::move(fingerprint); }
  // Restores DIR's checkpoint (model, optimizer, step, data cursor, RNGs).
  // ValueError naming each differing field and both values if the model or
  // trainer config differs (max_iters, eval settings and log_interval may
  // change); if the data fingerprint differs, unless allow_new_data; or if the
  // files are from different steps (an interrupted save).
  void resume(bool allow_new_data = false);
  // Trains from the current step to max_iters. `extra_files` writes further
  // files (tokenizer.json) into every checkpoint directory. Returns false
  // when stopped early by the stop flag: the checkpoint in DIR then holds the
  // last completed step, and resume() continues exactly there.
  bool run(const ExtraFiles& extra_files = nullptr);
  // Checked after every optimizer step (e.g. set by a SIGINT/SIGTERM handler);
  // null = never stop early. The flag must outlive run().
  void set_stop_flag(const std::atomic<bool>* flag) { stop_ = flag; }
  // `qkv train … --trace`: the micro-batch the next step would draw, forward
  // in training mode under `trace` (every layer reports, nn/trace.h), its
  // loss reported as the model's "loss" and, after backward, every
  // parameter's gradient as "grad" under the parameter's name. No optimizer
  // update, nothing written; returns the loss.
  float trace_step(const nn::Trace& trace);

  int64_t step() const { return step_; }
  float best_val_loss() const { return best_val_; }
  // The best checkpoint's selection score: -val loss, or the best_metric.
  double best_score() const { return best_score_; }
  const std::vector<EvalRecord>& evals() const { return evals_; }
  const data::DataCursor& data_cursor() const { return cursor_; }
  // Losses of every training step run by this object (for tests).
  const std::vector<float>& step_losses() const { return step_losses_; }

 private:
  float train_step();                        // one optimizer step; returns its mean loss
  std::pair<float, float> estimate_loss();   // (train, val) over eval_iters batches each
  // Estimate, log, save (best too when val improves), plot.
  EvalRecord evaluate(float lr, double ms_per_iter, const ExtraFiles& extra);
  void append_log(const EvalRecord& r) const;
  void plot_losses() const;
  void flush_steps();  // appends the steps run since the last flush to DIR/steps.tsv
  void make_dir() const;  // DIR, marked unfinished while it holds no checkpoint
  // trainer_state.cpp: the checkpoint.
  void save(const ExtraFiles& extra, bool best);
  void save_best(const ExtraFiles& extra) const;
  void write_staged(const std::string& staging, const ExtraFiles& extra) const;  // the checkpoint's files, COMPLETE last
  void resume_from(const std::string& state_path, bool allow_new_data);  // resume() once the files exist
  void check_resumable(const SavedState& state, bool allow_new_data) const;  // configs, data
  // The safetensors files belong to trainer_state.json's step (else a save was interrupted).
  void check_same_save(int64_t step, const io::NamedTensors& model, const io::NamedTensors& optimizer) const;
  void load_evals();
  // average_last: keep this evaluation's weights, drop older ones; average at the end.
  void keep_for_average() const;
  void write_average(const ExtraFiles& extra) const;
  double selection_score(const EvalRecord& r) const;

  Task& task_;
  TrainConfig cfg_;
  std::string dir_;
  int64_t step_ = 0;
  float best_val_ = 1e30f;
  double best_score_ = -1e300;
  data::DataCursor cursor_;
  Generator data_gen_, dropout_gen_;
  std::unique_ptr<optim::AdamW> opt_;
  std::unique_ptr<optim::Schedule> schedule_;
  nlohmann::json fingerprint_;
  std::vector<EvalRecord> evals_;
  std::vector<float> step_losses_;
  std::string step_lines_;  // "step\tloss\tlr\n" lines not yet in steps.tsv
  int64_t step_tokens_ = 0;  // tokens in the last step's micro-batches
  const std::atomic<bool>* stop_ = nullptr;
};

// DIR/.unfinished-run: a fresh run writes it with its first file in DIR and
// removes it once its first checkpoint commits. A directory that holds it (and
// no trainer_state.json) is a run stopped — killed, or a full disk — before it
// saved anything resumable: require_fresh_out lets a new run start over there.
inline constexpr const char* kUnfinishedRunMarker = ".unfinished-run";

// Finishes or undoes a checkpoint save a kill interrupted in DIR (see the top
// of this file) and removes temp files a killed write left; nothing to do
// for a clean or missing directory. resume() calls it first.
void recover_checkpoint(const std::string& dir);

}  // namespace qkv::train
