// train::train_causal_lm and its checks (see qkv/train/causal_lm_run.h),
// moved here from the CLI so the Python module runs the same code.
#include "qkv/train/causal_lm_run.h"

#include <cstdio>
#include <filesystem>

#include "qkv/core/file_kind.h"
#include "qkv/core/json_parse.h"
#include "qkv/data/fingerprint.h"
#include "qkv/io/file.h"
#include "qkv/io/json.h"
#include "qkv/models/causal_decoder.h"
#include "qkv/models/registry.h"
#include "qkv/tokenizers/text_codec.h"
#include "qkv/train/trainer.h"

namespace qkv::train {

namespace fs = std::filesystem;
using nlohmann::json;

std::pair<json, json> saved_configs(const std::string& out) {
  recover_checkpoint(out);  // a save a kill interrupted: finished or undone before anything is read
  const std::string st = out + "/trainer_state.json";
  if (!fs::exists(st)) throw IOError(out + ": cannot --resume: no trainer_state.json (no earlier run here)");
  json s = io::read_json(st);
  if (!s.contains("model_config") || !s.contains("train_config"))
    throw ValueError(st + ": missing model_config/train_config");
  return {s["model_config"], TrainConfig::upgrade_saved_json(s["train_config"])};
}

void require_fresh_out(const std::string& out) {
  if (!fs::exists(out)) return;
  if (!fs::is_directory(out)) throw ValueError("--out " + out + " exists and is not a directory");
  if (fs::exists(out + "/trainer_state.json"))
    throw ValueError(out + " already holds a training run; pass --resume to continue it or choose another --out");
  if (fs::is_empty(out)) return;
  std::string some;
  int n = 0;
  for (const auto& e : fs::directory_iterator(out))
    if (e.path().filename() != kUnfinishedRunMarker && n++ < 3)
      some += (some.empty() ? "" : ", ") + e.path().filename().string();
  if (fs::exists(out + "/" + kUnfinishedRunMarker)) {  // a run that never saved: nothing of it can be resumed
    std::fprintf(stderr, "note: %s holds a run that stopped before its first checkpoint (%s%s); starting over\n",
                 out.c_str(), some.c_str(), n > 3 ? ", …" : "");
    std::vector<fs::path> left;  // listed first: no removal while the directory is read
    for (const auto& e : fs::directory_iterator(out)) left.push_back(e.path());
    for (const fs::path& p : left) fs::remove_all(p);
    return;
  }
  throw ValueError(out + " is not empty (" + some + (n > 3 ? ", …" : "") +
                   ") and is not a training run to --resume; a new run needs a new or empty --out");
}

CausalLMRunResult train_causal_lm(const CausalLMRun& run) {
  using tokenizers::TextCodec;
  if (run.allow_new_data && !run.resume) throw ValueError("--allow-new-data applies only with --resume");
  if (run.out.empty()) throw ValueError("--out DIR is required");
  const json& type = run.model_config.contains("model_type") ? run.model_config["model_type"] : json();
  if (!run.model_type.empty() && type != run.model_type)
    throw ValueError("model_type must be \"" + run.model_type + "\", got " + json_excerpt(type) +
                     (run.resume ? " (" + run.out + " holds a run of another family)" : ""));
  if (!run.resume) require_fresh_out(run.out);  // before any work: never overwrite a model directory

  // Corpus and tokenizer.
  if (run.data.empty()) throw ValueError("--data FILE is required");
  require_regular_file(run.data);  // "is a directory", "is a FIFO", … (core/file_kind.h)
  const std::string text = io::read_file(run.data);
  if (text.empty()) throw ValueError(run.data + ": the corpus is empty");
  TextCodec tok = run.resume               ? tokenizers::load_codec(run.out + "/tokenizer.json")
                  : run.tokenizer == "char" ? tokenizers::char_codec(text)
                                            : tokenizers::load_codec(run.tokenizer);
  std::vector<int64_t> ids;
  try {
    ids = tok.encode(text);
  } catch (const ValueError& e) {
    throw ValueError(run.data + ": " + e.what());
  }
  json model_j = run.model_config;
  model_j["vocab_size"] = tok.vocab_size;
  TrainConfig tc = TrainConfig::from_json(run.train_config);
  tc.validate();
  if (run.resume && !fs::exists(run.out + "/config.json"))
    throw IOError(run.out + ": cannot --resume: missing config.json");

  // Model and trainer (validates everything before the first write).
  Generator gen(tc.seed);
  std::unique_ptr<models::Model> built = models::create_model(model_j, gen);
  auto* model = dynamic_cast<models::CausalDecoderLM*>(built.get());
  if (!model) throw ValueError("model_type '" + built->model_type() + "' is not a causal LM (gpt, llama)");
  const std::string detail = run.describe ? run.describe(model_j) : model->model_type();
  std::fprintf(stderr, "model: %ld parameters (%s)\n", static_cast<long>(model->num_parameters()), detail.c_str());
  std::fprintf(stderr, "data: %s, %zu bytes → %zu tokens (train %.0f%%, val %.0f%%)\n", run.data.c_str(),
               text.size(), ids.size(), 100 * (1 - tc.val_fraction), 100 * tc.val_fraction);
  CausalLMTask task(*model, ids, model->context_length(), tc.val_fraction);
  Trainer trainer(task, tc, run.out);
  trainer.set_data_fingerprint(data::file_fingerprint(run.data));
  if (run.resume) {
    trainer.resume(run.allow_new_data);
    std::fprintf(stderr, "resuming %s at step %ld\n", run.out.c_str(), static_cast<long>(trainer.step()));
  }
  if (run.trace) {
    const nn::Trace trace(*model, run.trace);
    trainer.trace_step(trace);
    return {true, trainer.step(), 0};
  }
  trainer.set_stop_flag(run.stop);
  const bool finished = trainer.run([&](const std::string& dir) { tok.save(dir + "/tokenizer.json"); });
  if (finished)
    std::fprintf(stderr, "done: best val loss %.4f; model in %s (best in %s/best), log in %s/log.jsonl\n",
                 trainer.best_val_loss(), run.out.c_str(), run.out.c_str(), run.out.c_str());
  return {finished, trainer.step(), trainer.best_val_loss()};
}

}  // namespace qkv::train
