// Learning-rate schedules.
#include "qkv/optim/schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>

#include "qkv/core/error.h"

namespace qkv::optim {

Schedule::~Schedule() = default;

namespace {
struct Constant : Schedule {
  float v;
  explicit Constant(float v_) : v(v_) {}
  float lr(int64_t) const override { return v; }
};

// Linear warm-up then a decay shape f(ratio ∈ [0,1]) ∈ [0,1] from max to min.
struct WarmupDecay : Schedule {
  double max_lr, min_lr;
  int64_t warmup, decay_steps;
  bool cosine;
  float lr(int64_t it) const override {
    if (it < warmup) return static_cast<float>(max_lr * static_cast<double>(it + 1) / static_cast<double>(warmup + 1));
    if (it > decay_steps || decay_steps <= warmup) return static_cast<float>(min_lr);
    const double ratio = static_cast<double>(it - warmup) / static_cast<double>(decay_steps - warmup);
    const double coeff = cosine ? 0.5 * (1.0 + std::cos(std::numbers::pi * ratio)) : 1.0 - ratio;
    return static_cast<float>(min_lr + coeff * (max_lr - min_lr));
  }
};

struct Noam : Schedule {
  double d_model, warmup, factor;
  float lr(int64_t step) const override {
    const double n = static_cast<double>(step + 1);
    return static_cast<float>(factor * std::pow(d_model, -0.5) * std::min(std::pow(n, -0.5), n * std::pow(warmup, -1.5)));
  }
};

std::unique_ptr<Schedule> warmup_decay(const char* name, float max_lr, float min_lr, int64_t warmup, int64_t decay,
                                       bool cosine) {
  if (warmup < 0 || decay < 0)
    throw ValueError(std::string(name) + ": warmup and decay_steps must be >= 0, got " + std::to_string(warmup) +
                     ", " + std::to_string(decay));
  if (!(max_lr >= 0.0f) || !(min_lr >= 0.0f))
    throw ValueError(std::string(name) + ": learning rates must be >= 0");
  auto s = std::make_unique<WarmupDecay>();
  s->max_lr = max_lr, s->min_lr = min_lr, s->warmup = warmup, s->decay_steps = decay, s->cosine = cosine;
  return s;
}
}  // namespace

std::unique_ptr<Schedule> constant_lr(float lr) {
  if (!(lr >= 0.0f)) throw ValueError("constant_lr: lr must be >= 0, got " + std::to_string(lr));
  return std::make_unique<Constant>(lr);
}

std::unique_ptr<Schedule> warmup_cosine(float max_lr, float min_lr, int64_t warmup, int64_t decay_steps) {
  return warmup_decay("warmup_cosine", max_lr, min_lr, warmup, decay_steps, true);
}

std::unique_ptr<Schedule> warmup_linear(float max_lr, float min_lr, int64_t warmup, int64_t decay_steps) {
  return warmup_decay("warmup_linear", max_lr, min_lr, warmup, decay_steps, false);
}

std::unique_ptr<Schedule> noam(int64_t d_model, int64_t warmup, float factor) {
  if (d_model <= 0 || warmup <= 0)
    throw ValueError("noam: d_model and warmup must be positive, got " + std::to_string(d_model) + ", " +
                     std::to_string(warmup));
  auto s = std::make_unique<Noam>();
  s->d_model = static_cast<double>(d_model), s->warmup = static_cast<double>(warmup), s->factor = factor;
  return s;
}

}  // namespace qkv::optim
