// TrainConfig: validation and JSON (see qkv/train/train_config.h).
#include "qkv/train/train_config.h"

#include <cmath>
#include <string>

#include "qkv/core/error.h"

namespace qkv::train {

using nlohmann::json;

void TrainConfig::validate() const {
  auto positive = [](int64_t v, const char* name) {
    if (v <= 0) throw ValueError(std::string("--") + name + " must be > 0, got " + std::to_string(v));
  };
  positive(batch_size, "batch-size");
  positive(grad_accum, "grad-accum");
  positive(eval_interval, "eval-interval");
  positive(eval_iters, "eval-iters");
  positive(log_interval, "log-interval");
  if (max_iters < 0) throw ValueError("--max-iters must be >= 0");
  if (warmup_iters < 0) throw ValueError("--warmup-iters must be >= 0");
  if (decay_lr && lr_decay_iters <= warmup_iters)
    throw ValueError("--lr-decay-iters (" + std::to_string(lr_decay_iters) + ") must exceed --warmup-iters (" +
                     std::to_string(warmup_iters) + ")");
  if (!(lr > 0) || !std::isfinite(lr)) throw ValueError("--lr must be > 0");
  if (!(min_lr >= 0) || min_lr > lr) throw ValueError("--min-lr must be in [0, lr]");
  if (!(beta1 >= 0 && beta1 < 1)) throw ValueError("--beta1 must be in [0, 1)");
  if (!(beta2 >= 0 && beta2 < 1)) throw ValueError("--beta2 must be in [0, 1)");
  if (!(weight_decay >= 0)) throw ValueError("--weight-decay must be >= 0");
  if (!(grad_clip >= 0)) throw ValueError("--grad-clip must be >= 0");
  if (!(val_fraction > 0 && val_fraction < 1)) throw ValueError("--val-fraction must be in (0, 1)");
}

json TrainConfig::to_json() const {
  return {{"batch_size", batch_size},     {"max_iters", max_iters},       {"lr", lr},
          {"min_lr", min_lr},             {"warmup_iters", warmup_iters}, {"lr_decay_iters", lr_decay_iters},
          {"decay_lr", decay_lr},         {"beta1", beta1},               {"beta2", beta2},
          {"weight_decay", weight_decay}, {"grad_clip", grad_clip},       {"grad_accum", grad_accum},
          {"eval_interval", eval_interval}, {"eval_iters", eval_iters},   {"seed", seed},
          {"val_fraction", val_fraction}, {"log_interval", log_interval}};
}

TrainConfig TrainConfig::from_json(const json& j) {
  if (!j.is_object()) throw ValueError("trainer config: expected a JSON object");
  TrainConfig c;
  for (const auto& [k, v] : j.items()) {
    auto num = [&]() {
      if (!v.is_number()) throw ValueError("trainer config: field \"" + k + "\" must be a number, got " + v.dump());
      return v;
    };
    if (k == "batch_size") c.batch_size = num().get<int64_t>();
    else if (k == "max_iters") c.max_iters = num().get<int64_t>();
    else if (k == "lr") c.lr = num().get<float>();
    else if (k == "min_lr") c.min_lr = num().get<float>();
    else if (k == "warmup_iters") c.warmup_iters = num().get<int64_t>();
    else if (k == "lr_decay_iters") c.lr_decay_iters = num().get<int64_t>();
    else if (k == "decay_lr") {
      if (!v.is_boolean()) throw ValueError("trainer config: field \"decay_lr\" must be true or false");
      c.decay_lr = v.get<bool>();
    } else if (k == "beta1") c.beta1 = num().get<float>();
    else if (k == "beta2") c.beta2 = num().get<float>();
    else if (k == "weight_decay") c.weight_decay = num().get<float>();
    else if (k == "grad_clip") c.grad_clip = num().get<float>();
    else if (k == "grad_accum") c.grad_accum = num().get<int64_t>();
    else if (k == "eval_interval") c.eval_interval = num().get<int64_t>();
    else if (k == "eval_iters") c.eval_iters = num().get<int64_t>();
    else if (k == "seed") c.seed = num().get<uint64_t>();
    else if (k == "val_fraction") c.val_fraction = num().get<float>();
    else if (k == "log_interval") c.log_interval = num().get<int64_t>();
    else throw ValueError("trainer config: unknown field \"" + k + "\"");
  }
  return c;
}

}  // namespace qkv::train
