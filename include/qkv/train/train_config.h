// qkv/train/train_config.h — the trainer's settings (nanoGPT train.py's
// names), saved in trainer_state.json.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "qkv/core/config_fields.h"

namespace qkv::train {

struct TrainConfig {  // names as nanoGPT's train.py
  int64_t batch_size = 12;
  int64_t max_iters = 2000;
  float lr = 1e-3f;              // peak learning rate
  float min_lr = 1e-4f;
  int64_t warmup_iters = 100;
  int64_t lr_decay_iters = 2000;
  bool decay_lr = true;          // false: constant lr
  // With decay_lr: "cosine" (nanoGPT), "linear", or "noam" (Vaswani et al.
  // 2017 §5.3, lr·min((n/w)^−½, n/w), n = step + 1, w = warmup_iters: peak lr
  // at step w, then 1/√n; min_lr and lr_decay_iters unused).
  std::string lr_schedule = "cosine";
  float beta1 = 0.9f, beta2 = 0.99f;
  float adam_eps = 1e-8f;
  float weight_decay = 0.1f;
  bool decay_embeddings = true;  // nanoGPT decays every matrix, embeddings included
  float grad_clip = 1.0f;        // 0 = off
  int64_t grad_accum = 1;        // micro-batches per step
  int64_t eval_interval = 250;
  int64_t eval_iters = 200;
  uint64_t seed = 1337;
  float val_fraction = 0.1f;
  int64_t log_interval = 10;     // plain log lines (non-TTY) every N steps
  // Keep the model weights of the last N evaluations in DIR/checkpoints and
  // write their average to DIR/averaged at the end (Vaswani et al. 2017 §6.1);
  // 0 = off.
  int64_t average_last = 0;

  // Every field above, once: JSON key, help, bounds, nanoGPT aliases
  // (learning_rate, gradient_accumulation_steps); qkv/core/config_fields.h.
  static const config::Table<TrainConfig>& fields();
  void validate() const;  // ValueError naming the flag ("--lr must be > 0, got -1")
  nlohmann::json to_json() const;
  // Unknown keys rejected (with the nearest key suggested), wrong types named;
  // missing keys keep their defaults. Does not validate.
  static TrainConfig from_json(const nlohmann::json& j);
  // A checkpoint's train_config with the fields added since it was written
  // set to what that run used (not today's default): decay_embeddings false.
  static nlohmann::json upgrade_saved_json(nlohmann::json j);
  bool operator==(const TrainConfig&) const = default;
};

}  // namespace qkv::train
