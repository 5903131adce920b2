// What every `qkv train <family>` command shares: the layered configs
// (defaults < --config file or the checkpoint < flags) and the Ctrl-C/SIGTERM
// handling that keeps the finished steps.
#pragma once
#include <atomic>
#include <nlohmann/json.hpp>
#include <string>
#include <tuple>
#include <utility>

#include "config_flags.h"
#include "qkv/io/json.h"
#include "qkv/train/causal_lm_run.h"
#include "qkv/train/train_config.h"

namespace qkv::cli {

// (model JSON, trainer JSON): `model_j` / `train_j` (the command's defaults),
// replaced by the checkpoint in `out` when resuming, then the --config file's
// fields, then the flags given.
template <class ModelConfig>
std::pair<nlohmann::json, nlohmann::json> merged_configs(nlohmann::json model_j, nlohmann::json train_j, bool resume,
                                                         const std::string& out, const std::string& config_file,
                                                         const ConfigFlags<ModelConfig>& model_flags,
                                                         const ConfigFlags<train::TrainConfig>& train_flags) {
  if (resume) std::tie(model_j, train_j) = train::saved_configs(out);
  if (!config_file.empty())
    train::merge_config_fields<ModelConfig>(io::read_json(config_file), config_file, model_j, train_j);
  model_flags.apply_given(model_j);
  train_flags.apply_given(train_j);
  return {model_j, train_j};
}

// A fresh run's --out must be missing or empty (train/causal_lm_run.h).
using train::require_fresh_out;
// Before a run touches --out: a new run needs it fresh (require_fresh_out); a
// --resume first finishes or undoes a save a kill interrupted
// (train::recover_checkpoint), so everything read next is one checkpoint.
void prepare_out(const std::string& out, bool resume);

// Ctrl-C / SIGTERM set the returned flag (the trainer finishes the current
// step, saves it, and stops). A second signal a second or more later ends the
// process at once; repeats within that second are one request (`timeout` and
// shells can deliver the same interrupt twice: to the process and to its group).
const std::atomic<bool>& install_stop_handler();

}  // namespace qkv::cli
