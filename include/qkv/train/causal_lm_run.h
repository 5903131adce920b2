// qkv/train/causal_lm_run.h — a whole causal-LM training run from a text
// file to a model directory: what `qkv train gpt` / `qkv train llama` and the
// Python module's qkv.train_gpt / train_llama run (one implementation, so
// the same settings give the same checkpoint bit for bit).
//
//   train::CausalLMRun run{.data = "input.txt", .out = "runs/x"};
//   run.model_config = models::GPTConfig{}.to_json();         // "model_type" picks the family
//   run.train_config = train::TrainConfig{}.to_json();
//   train::merge_config_fields<models::GPTConfig>(overrides, "--config", run.model_config, run.train_config);
//   train::train_causal_lm(run);
//
// The run: the corpus read and tokenized ("char" = a character tokenizer built
// from it, else a tokenizer DIR/file), vocab_size set from the tokenizer, the
// model built through the registry (models/registry.h), a CausalLMTask over
// the ids and the Trainer (trainer.h) writing DIR with tokenizer.json in every
// checkpoint. A fresh run refuses an --out that holds anything; a resumed run
// takes its configs from DIR/trainer_state.json (then the overrides).
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "qkv/core/config_fields.h"
#include "qkv/core/error.h"
#include "qkv/nn/trace.h"
#include "qkv/train/train_config.h"

namespace qkv::train {

// Overrides (a --config file's object, or Python keyword arguments): each key
// goes to the table that knows it (nanoGPT's spellings are aliases; a
// "model_type" key goes to the model); an unknown key is a ValueError naming
// `what` and suggesting the nearest known spelling.
template <class ModelConfig>
void merge_config_fields(const nlohmann::json& j, const std::string& what, nlohmann::json& model_j,
                         nlohmann::json& train_j) {
  if (!j.is_object()) throw ValueError(what + ": expected a JSON object");
  const auto& mt = ModelConfig::fields();
  const auto& tt = TrainConfig::fields();
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

// The (model, trainer) config JSON a resumed run starts from: those saved in
// out/trainer_state.json. IOError when there is no earlier run in `out`.
std::pair<nlohmann::json, nlohmann::json> saved_configs(const std::string& out);

// A fresh run's out: missing, or an empty directory. A training run there
// asks for --resume; anything else (a model directory such as run/best, a
// file) is refused — a new run must never overwrite it.
void require_fresh_out(const std::string& out);

struct CausalLMRun {
  std::string data;               // training text (UTF-8)
  std::string tokenizer = "char";  // "char" (built from data) or a tokenizer DIR/file
  std::string out;                // the model directory written
  bool resume = false;            // continue the run in out exactly where it stopped
  bool allow_new_data = false;    // with resume: data may differ from the run's file
  std::string model_type;         // the family trained ("gpt", "llama"): a config of another (a resumed
                                  // run's checkpoint) is refused; empty = whatever model_config says
  nlohmann::json model_config;    // "model_type" included; vocab_size comes from the tokenizer
  nlohmann::json train_config;    // TrainConfig's JSON
  // Checked after every optimizer step (SIGINT/SIGTERM in the CLI); null = never.
  const std::atomic<bool>* stop = nullptr;
  // The model line's detail ("n_layer 4, n_head 4, …"); empty = the model type.
  std::function<std::string(const nlohmann::json& model_config)> describe;
  // Set: instead of training, one traced step (Trainer::trace_step) whose
  // events go here; nothing is written to out.
  nn::Trace::Callback trace;
};

struct CausalLMRunResult {
  bool finished = false;  // false: stopped by `stop`, the checkpoint in out holds `step`
  int64_t step = 0;
  float best_val_loss = 0;
};

// Runs it, logging to stderr as the trainer does. ValueError/IOError name the
// flag, file or field at fault, before anything is written.
CausalLMRunResult train_causal_lm(const CausalLMRun& run);

}  // namespace qkv::train
