// qkv/train/train_config.h — the trainer's settings (nanoGPT train.py's
// names), saved in trainer_state.json.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>

namespace qkv::train {

struct TrainConfig {  // names as nanoGPT's train.py
  int64_t batch_size = 12;
  int64_t max_iters = 2000;
  float lr = 1e-3f;              // peak learning rate
  float min_lr = 1e-4f;
  int64_t warmup_iters = 100;
  int64_t lr_decay_iters = 2000;
  bool decay_lr = true;          // false: constant lr
  float beta1 = 0.9f, beta2 = 0.99f;
  float weight_decay = 0.1f;
  float grad_clip = 1.0f;        // 0 = off
  int64_t grad_accum = 1;        // micro-batches per step
  int64_t eval_interval = 250;
  int64_t eval_iters = 200;
  uint64_t seed = 1337;
  float val_fraction = 0.1f;
  int64_t log_interval = 10;     // plain log lines (non-TTY) every N steps

  void validate() const;
  nlohmann::json to_json() const;
  static TrainConfig from_json(const nlohmann::json& j);  // unknown keys rejected
  bool operator==(const TrainConfig&) const = default;
};

}  // namespace qkv::train
