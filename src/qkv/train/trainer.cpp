// The training loop (see qkv/train/trainer.h); the checkpoint half is in
// trainer_state.cpp, the progress output in progress.cpp.
#include "qkv/train/trainer.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
#include <filesystem>
#include <fstream>

#include "progress.h"
#include "qkv/autograd/autograd.h"
#include "qkv/io/file.h"
#include "qkv/nn/param_groups.h"
#include "qkv/nn/trace.h"
#include "qkv/ops/ops.h"
#include "qkv/optim/clip.h"
#include "qkv/train/run_log.h"
#include "qkv/viz/plot.h"

namespace qkv::train {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::unique_ptr<optim::Schedule> make_schedule(const TrainConfig& c) {
  if (!c.decay_lr) return optim::constant_lr(c.lr);
  if (c.lr_schedule == "noam")  // d_model folded into the factor: peak c.lr at step warmup_iters
    return optim::noam(1, c.warmup_iters, c.lr * std::sqrt(static_cast<float>(c.warmup_iters)));
  if (c.lr_schedule == "linear") return optim::warmup_linear(c.lr, c.min_lr, c.warmup_iters, c.lr_decay_iters);
  return optim::warmup_cosine(c.lr, c.min_lr, c.warmup_iters, c.lr_decay_iters);
}

}  // namespace

Trainer::Trainer(Task& task, const TrainConfig& cfg, std::string out_dir)
    : task_(task), cfg_(cfg), dir_(std::move(out_dir)), data_gen_(cfg.seed), dropout_gen_(cfg.seed ^ 0x5eedULL) {
  cfg_.validate();
  // AdamW with nanoGPT's decay rule (model.py, configure_optimizers): every
  // dim >= 2 tensor decays — matmul weights and, with decay_embeddings, the
  // embedding tables — and no bias or LayerNorm parameter. (On nanoGPT's Tiny
  // Shakespeare configuration the choice moves the full-validation loss by
  // < 0.001: bench/RESULTS.md.)
  opt_ = std::make_unique<optim::AdamW>(nn::decay_groups(task_.model(), cfg_.weight_decay, cfg_.decay_embeddings),
                                        cfg_.lr, cfg_.beta1, cfg_.beta2, cfg_.adam_eps);
  schedule_ = make_schedule(cfg_);
}

float Trainer::train_step() {
  opt_->zero_grad();
  double loss_sum = 0;
  step_tokens_ = 0;
  for (int64_t micro = 0; micro < cfg_.grad_accum; ++micro) {
    data::Batch b = task_.train_batch(cfg_.batch_size, cursor_, data_gen_);
    step_tokens_ += task_.tokens(b);
    Tensor loss = task_.loss(b, dropout_gen_);
    loss_sum += loss.item();
    mul(loss, 1.0f / static_cast<float>(cfg_.grad_accum)).backward();
  }
  if (cfg_.grad_clip > 0) optim::clip_grad_norm(task_.model().parameters(), cfg_.grad_clip);
  opt_->step();
  return static_cast<float>(loss_sum / static_cast<double>(cfg_.grad_accum));
}

float Trainer::trace_step(const nn::Trace& trace) {
  task_.model().train();
  opt_->zero_grad();
  data::Batch b = task_.train_batch(cfg_.batch_size, cursor_, data_gen_);
  Tensor loss = task_.loss(b, dropout_gen_);  // every layer reports as it runs
  trace.emit({.what = "loss", .dims = "()", .norm = std::abs(loss.item())});
  loss.backward();
  for (const auto& [name, p] : task_.model().named_parameters())
    if (p.grad().defined())
      trace.emit({.module = name, .what = "grad", .shape = p.shape(), .norm = nn::frobenius_norm(p.grad())});
  return loss.item();
}

std::pair<float, float> Trainer::estimate_loss() {
  NoGradGuard ng;
  task_.model().eval();
  float out[2];
  // Eval batches come from their own stream seeded by the step, so evaluating
  // never changes the training batches (and a resumed run sees the same).
  Generator gen(cfg_.seed * 1000003ULL + static_cast<uint64_t>(step_));
  for (Split split : {Split::Train, Split::Val}) {
    float& mean = out[split == Split::Train ? 0 : 1];
    if (std::optional<double> whole = task_.split_loss(split, cfg_.batch_size)) {
      mean = static_cast<float>(*whole);
      continue;
    }
    double total = 0;
    for (int64_t i = 0; i < cfg_.eval_iters; ++i)
      total += task_.loss(task_.eval_batch(split, cfg_.batch_size, gen), dropout_gen_).item();
    mean = static_cast<float>(total / static_cast<double>(cfg_.eval_iters));
  }
  task_.model().train();
  return {out[0], out[1]};
}

void Trainer::append_log(const EvalRecord& r) const {
  json line = {{"step", r.step}, {"train_loss", r.train_loss}, {"val_loss", r.val_loss}, {"lr", r.lr},
               {"ms_per_iter", r.ms_per_iter}, {"tokens_per_sec", r.tokens_per_sec}};
  for (const auto& [k, v] : r.metrics.items()) line[k] = v;
  make_dir();
  std::ofstream log(dir_ + "/log.jsonl", std::ios::app);
  log << line.dump() << "\n";
  if (!log) throw IOError(dir_ + "/log.jsonl: write failed");
}

void Trainer::flush_steps() {
  if (step_lines_.empty()) return;
  make_dir();
  const std::string path = dir_ + "/steps.tsv";
  const bool fresh = !fs::exists(path);
  std::ofstream out(path, std::ios::app);
  if (fresh) out << "step\tloss\tlr\n";
  out << step_lines_;
  if (!out.flush()) throw IOError(path + ": write failed");
  step_lines_.clear();
}

void Trainer::plot_losses() const {
  // From the files, so a resumed run's picture starts at step 0.
  viz::loss_plot(dir_ + "/loss.svg", {train::loss_curve(train::read_run_log(dir_), "")}, "loss");
}

EvalRecord Trainer::evaluate(float lr, double ms_per_iter, const ExtraFiles& extra) {
  auto [tl, vl] = estimate_loss();
  const double tps = ms_per_iter > 0 ? 1000.0 * static_cast<double>(step_tokens_) / ms_per_iter : 0.0;
  EvalRecord r{step_, tl, vl, lr, ms_per_iter, tps};
  {
    NoGradGuard ng;
    task_.model().eval();
    r.metrics = task_.eval_metrics();
    task_.model().train();
  }
  evals_.push_back(r);
  append_log(r);
  best_val_ = std::min(best_val_, vl);
  const double score = selection_score(r);
  const bool best = score > best_score_;
  if (best) best_score_ = score;
  save(extra, best);
  if (cfg_.average_last > 0) keep_for_average();
  plot_losses();
  return r;
}

double Trainer::selection_score(const EvalRecord& r) const {
  const std::string key = task_.best_metric();
  if (key.empty()) return -static_cast<double>(r.val_loss);
  if (!r.metrics.contains(key) || !r.metrics[key].is_number())
    throw ValueError("the task's best_metric \"" + key + "\" is missing from its eval_metrics()");
  return r.metrics[key].get<double>();
}

bool Trainer::run(const ExtraFiles& extra) {
  Progress progress(step_, cfg_.max_iters, cfg_.log_interval);
  task_.model().train();
  for (;; ++step_) {
    const float lr = schedule_->lr(step_);
    opt_->set_lr(lr);
    const bool final = step_ >= cfg_.max_iters;
    // A resumed run does not repeat the evaluation its checkpoint was saved
    // at (an interrupted run's checkpoint may sit between evaluations).
    const bool evaluated_here = !evals_.empty() && evals_.back().step == step_;
    if ((step_ % cfg_.eval_interval == 0 || final) && !evaluated_here) {
      const EvalRecord r = evaluate(lr, progress.ms_per_iter(), extra);
      progress.eval_line(r.step, r.train_loss, r.val_loss, r.metrics);
      progress.restart();  // evaluation time is not training time
    }
    if (final) {
      flush_steps();
      if (cfg_.average_last > 0) write_average(extra);
      break;
    }
    const float loss = train_step();
    step_losses_.push_back(loss);
    char line[96];
    std::snprintf(line, sizeof line, "%lld\t%.6g\t%.6g\n", static_cast<long long>(step_), loss, lr);
    step_lines_ += line;
    if (stop_ && stop_->load() && step_ + 1 < cfg_.max_iters) {  // keep the finished step, then stop
      ++step_;
      save(extra, false);
      progress.finish();
      return false;
    }
    progress.step_done(step_, loss, lr, step_tokens_);
  }
  progress.finish();
  return true;
}

}  // namespace qkv::train
