// The trainer's progress bar and log lines (see progress.h).
#include "progress.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

namespace qkv::train {
namespace {

std::string format_duration(double sec) {
  if (!std::isfinite(sec) || sec < 0) return "?";
  int s = static_cast<int>(sec + 0.5);
  char buf[32];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%dh%02dm", s / 3600, (s / 60) % 60);
  else if (s >= 60) std::snprintf(buf, sizeof buf, "%dm%02ds", s / 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%ds", s);
  return buf;
}

}  // namespace

Progress::Progress(int64_t start_step, int64_t max_iters, int64_t log_interval)
    : start_step_(start_step), max_iters_(max_iters), log_interval_(log_interval), tty_(isatty(fileno(stderr))),
      t_start_(Clock::now()), t_window_(t_start_) {}

void Progress::restart() {
  t_window_ = Clock::now();
  window_steps_ = 0;
}

void Progress::step_done(int64_t step, float loss, float lr, int64_t tokens_per_step) {
  ++window_steps_;
  if (!tty_ && (step + 1) % log_interval_ != 0) return;
  const auto now = Clock::now();
  ms_per_iter_ = std::chrono::duration<double, std::milli>(now - t_window_).count() / static_cast<double>(window_steps_);
  const int64_t done = step + 1 - start_step_, total = max_iters_ - start_step_;
  const double elapsed = std::chrono::duration<double>(now - t_start_).count();
  const double eta = elapsed / static_cast<double>(done) * static_cast<double>(total - done);
  const double tps = 1000.0 * static_cast<double>(tokens_per_step) / ms_per_iter_;
  if (tty_) {
    const int width = 24, fill = static_cast<int>(width * done / std::max<int64_t>(total, 1));
    std::fprintf(stderr, "\r\033[K[%.*s%*s] step %ld/%ld  loss %.4f  %.0f tok/s  ETA %s", fill,
                 "########################", width - fill, "", static_cast<long>(step + 1),
                 static_cast<long>(max_iters_), loss, tps, format_duration(eta).c_str());
  } else {
    std::fprintf(stderr, "step %ld/%ld  loss %.4f  lr %.2e  %.1f ms/iter  %.0f tok/s  ETA %s\n",
                 static_cast<long>(step + 1), static_cast<long>(max_iters_), loss, lr, ms_per_iter_, tps,
                 format_duration(eta).c_str());
  }
  std::fflush(stderr);
  restart();
}

void Progress::eval_line(int64_t step, float train_loss, float val_loss, const nlohmann::json& metrics) const {
  if (tty_) std::fprintf(stderr, "\r\033[K");
  std::fprintf(stderr, "step %ld: train loss %.4f, val loss %.4f", static_cast<long>(step), train_loss, val_loss);
  if (metrics.is_object())
    for (const auto& [k, v] : metrics.items())
      if (v.is_number()) std::fprintf(stderr, ", %s %.2f", k.c_str(), v.get<double>());
  std::fprintf(stderr, "\n");
}

void Progress::finish() const {
  if (tty_) std::fprintf(stderr, "\n");
}

}  // namespace qkv::train
