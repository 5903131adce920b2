// The trainer's progress output on stderr (private to train/): on a terminal
// one bar that rewrites itself every step; otherwise a plain line every
// log_interval steps. Timing excludes evaluations (restart() after one).
#pragma once
#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>

namespace qkv::train {

class Progress {
 public:
  Progress(int64_t start_step, int64_t max_iters, int64_t log_interval);
  // After optimizer step `step` (0-based) finished with mean loss `loss`.
  void step_done(int64_t step, float loss, float lr, int64_t tokens_per_step);
  // "step N: train loss …, val loss …[, val_bleu …]" on its own line.
  void eval_line(int64_t step, float train_loss, float val_loss, const nlohmann::json& metrics = {}) const;
  void restart();  // the next timing window starts now
  void finish() const;  // ends the bar's line
  double ms_per_iter() const { return ms_per_iter_; }  // of the last reported window, 0 before

 private:
  using Clock = std::chrono::steady_clock;
  int64_t start_step_, max_iters_, log_interval_;
  bool tty_;
  Clock::time_point t_start_, t_window_;
  int64_t window_steps_ = 0;
  double ms_per_iter_ = 0;
};

}  // namespace qkv::train
