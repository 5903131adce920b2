// qkv/optim/schedule.h — learning-rate schedules: lr at a 0-based step.
#pragma once
#include <cstdint>
#include <memory>

namespace qkv::optim {

struct Schedule {
  virtual ~Schedule();
  virtual float lr(int64_t step) const = 0;
};

std::unique_ptr<Schedule> constant_lr(float lr);
// nanoGPT's get_lr (train.py): step < warmup: max_lr·(step+1)/(warmup+1);
// step > decay_steps: min_lr; else cosine from max_lr down to min_lr:
// min_lr + ½(1 + cos(π·(step − warmup)/(decay_steps − warmup)))·(max_lr − min_lr).
std::unique_ptr<Schedule> warmup_cosine(float max_lr, float min_lr, int64_t warmup, int64_t decay_steps);
// Same warm-up, then a straight line from max_lr (at warmup) to min_lr (at
// decay_steps), then min_lr.
std::unique_ptr<Schedule> warmup_linear(float max_lr, float min_lr, int64_t warmup, int64_t decay_steps);
// Vaswani et al. 2017, §5.3: factor·d_model^−0.5·min(n^−0.5, n·warmup^−1.5),
// n = step + 1 (the paper counts steps from 1).
std::unique_ptr<Schedule> noam(int64_t d_model, int64_t warmup, float factor = 1.0f);

}  // namespace qkv::optim
