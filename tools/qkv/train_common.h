// What every `qkv train <family>` command shares: the layered configs
// (defaults < --config file or the checkpoint < flags) and the Ctrl-C/SIGTERM
// handling that keeps the finished steps.
#pragma once
#include <atomic>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "config_flags.h"
#include "qkv/io/json.h"
#include "qkv/train/train_config.h"

namespace qkv::cli {

// A --config file: each key goes to the table that knows it (nanoGPT's
// spellings are aliases); an unknown key suggests the nearest known one.
template <class ModelConfig>
void merge_config_file(const nlohmann::json& j, const std::string& what, nlohmann::json& model_j,
                       nlohmann::json& train_j) {
  if (!j.is_object()) throw ValueError(what + ": expected a JSON object");
  const auto& mt = ModelConfig::fields();
  const auto& tt = train::TrainConfig::fields();
  for (const auto& [k, v] : j.items()) {
    if (k == "model_type") model_j[k] = v;
    else if (const auto* f = mt.find(k)) model_j[f->key] = v;
    else if (const auto* f = tt.find(k)) train_j[f->key] = v;
    else {
      auto spellings = mt.spellings();
      for (auto& s : tt.spellings()) spellings.push_back(s);
      throw ValueError(what + ": unknown field \"" + k + "\"" + config::did_you_mean(config::closest(k, spellings)));
    }
  }
}

// (model JSON, trainer JSON): `model_j` / `train_j` (the command's defaults),
// replaced by the checkpoint in `out` when resuming, then the --config file's
// fields, then the flags given.
template <class ModelConfig>
std::pair<nlohmann::json, nlohmann::json> merged_configs(nlohmann::json model_j, nlohmann::json train_j, bool resume,
                                                         const std::string& out, const std::string& config_file,
                                                         const ConfigFlags<ModelConfig>& model_flags,
                                                         const ConfigFlags<train::TrainConfig>& train_flags) {
  if (resume) {
    const std::string st = out + "/trainer_state.json";
    if (!std::filesystem::exists(st))
      throw IOError(out + ": cannot --resume: no trainer_state.json (no earlier run here)");
    nlohmann::json s = io::read_json(st);
    if (!s.contains("model_config") || !s.contains("train_config"))
      throw ValueError(st + ": missing model_config/train_config");
    model_j = s["model_config"];
    train_j = train::TrainConfig::upgrade_saved_json(s["train_config"]);
  }
  if (!config_file.empty()) merge_config_file<ModelConfig>(io::read_json(config_file), config_file, model_j, train_j);
  model_flags.apply_given(model_j);
  train_flags.apply_given(train_j);
  return {model_j, train_j};
}

// A fresh run's --out: missing, or an empty directory. A training run there
// asks for --resume; anything else (a model directory such as run/best, a
// file) is refused — a new run must never overwrite it.
void require_fresh_out(const std::string& out);
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
