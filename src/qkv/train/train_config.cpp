// TrainConfig: its field table, validation and JSON (see qkv/train/train_config.h).
#include "qkv/train/train_config.h"

#include <string>

#include "qkv/core/error.h"

namespace qkv::train {

const config::Table<TrainConfig>& TrainConfig::fields() {
  using config::field;
  using T = TrainConfig;
  static const config::Table<TrainConfig> t(
      "trainer config",
      {
          field("batch_size", &T::batch_size, "Sequences per micro-batch").above(0),
          field("max_iters", &T::max_iters, "Optimizer steps").at_least(0),
          field("lr", &T::lr, "Peak learning rate").above(0).alias("learning_rate"),
          field("min_lr", &T::min_lr, "Final learning rate of the cosine decay, at most lr").at_least(0),
          field("warmup_iters", &T::warmup_iters, "Linear warm-up steps").at_least(0),
          field("lr_decay_iters", &T::lr_decay_iters, "Step where the cosine decay ends, after warmup_iters"),
          field("decay_lr", &T::decay_lr, "Warm-up + decay by lr_schedule (true) or constant lr (false)"),
          field("lr_schedule", &T::lr_schedule,
                "Warm-up then cosine or linear decay to min_lr at lr_decay_iters, or noam: lr·min((n/w)^-0.5, n/w)")
              .one_of({"cosine", "linear", "noam"}),
          field("beta1", &T::beta1, "AdamW β1").at_least(0).below(1),
          field("beta2", &T::beta2, "AdamW β2").at_least(0).below(1),
          field("adam_eps", &T::adam_eps, "AdamW ε").above(0),
          field("weight_decay", &T::weight_decay, "AdamW decoupled weight decay of the matmul weights").at_least(0),
          field("decay_embeddings", &T::decay_embeddings, "Weight decay on the embedding tables too (nanoGPT's rule)"),
          field("grad_clip", &T::grad_clip, "Global gradient-norm clip, 0 = off").at_least(0),
          field("grad_accum", &T::grad_accum, "Micro-batches per step").above(0).alias("gradient_accumulation_steps"),
          field("eval_interval", &T::eval_interval, "Steps between evaluations/checkpoints").above(0),
          field("eval_iters", &T::eval_iters, "Batches per evaluation").above(0),
          field("seed", &T::seed, "Random seed (data order, dropout, initial weights)"),
          field("val_fraction", &T::val_fraction, "Share of the data held out").above(0).below(1),
          field("log_interval", &T::log_interval, "Steps between log lines (non-TTY)").above(0),
          field("average_last", &T::average_last,
                "Average the weights of the last N evaluations into DIR/averaged at the end (0 = off)")
              .at_least(0),
      },
      config::Naming::Flag);
  return t;
}

void TrainConfig::validate() const {
  fields().validate(*this);
  if (decay_lr && lr_schedule == "noam" && warmup_iters < 1)
    throw ValueError("--warmup-iters must be >= 1 with --lr-schedule noam, got " + std::to_string(warmup_iters));
  if (decay_lr && lr_schedule != "noam" && lr_decay_iters <= warmup_iters)
    throw ValueError("--lr-decay-iters (" + std::to_string(lr_decay_iters) + ") must exceed --warmup-iters (" +
                     std::to_string(warmup_iters) + ")");
  if (min_lr > lr)
    throw ValueError("--min-lr must be in [0, lr], got " + config::detail::number_str(min_lr) + " > lr " +
                     config::detail::number_str(lr));
}

nlohmann::json TrainConfig::to_json() const { return fields().to_json(*this); }

TrainConfig TrainConfig::from_json(const nlohmann::json& j) { return fields().from_json(j); }

nlohmann::json TrainConfig::upgrade_saved_json(nlohmann::json j) {
  // Before decay_embeddings existed the trainer decayed no embedding table.
  if (j.is_object() && !j.contains("decay_embeddings")) j["decay_embeddings"] = false;
  return j;
}

}  // namespace qkv::train
