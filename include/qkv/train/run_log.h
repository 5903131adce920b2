// qkv/train/run_log.h — a training run's curves, read back from its directory.
//
// The trainer writes two logs into a run directory:
//   log.jsonl  one JSON line per evaluation: step, train_loss, val_loss, lr,
//              ms_per_iter, tokens_per_sec and the task's metrics
//   steps.tsv  one line per optimizer step: "step<TAB>loss<TAB>lr" under a
//              header line, appended at every checkpoint (runs before this
//              file existed have log.jsonl only; they read back with
//              evaluations and no per-step curve)
// `qkv plot loss` and the trainer's DIR/loss.svg draw from read_run_log.
//
//   train::RunLog log = train::read_run_log("runs/shakespeare");
//   viz::loss_plot("loss.png", {train::loss_curve(log, "shakespeare")}, "loss");
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "qkv/viz/plot.h"

namespace qkv::train {

struct RunLog {
  std::vector<double> step, loss, lr;  // per optimizer step, sorted by step
  std::vector<double> eval_step, eval_train, eval_val;
  // Each evaluation's log.jsonl object, by step: the losses and whatever
  // else was logged (lr, ms_per_iter, tokens_per_sec, val_bleu, …).
  std::vector<nlohmann::json> evals;
};

// IOError naming DIR when it is not a directory or holds neither log.jsonl
// nor steps.tsv. A torn last line (an interrupted run) is skipped; a step
// logged twice (a resumed run repeats steps after its checkpoint) keeps the
// later line.
RunLog read_run_log(const std::string& dir);

// The curves of `log` under the legend name `name`.
viz::LossCurve loss_curve(const RunLog& log, const std::string& name);

}  // namespace qkv::train
