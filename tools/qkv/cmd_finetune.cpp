// `qkv finetune BASE --data FILE --out DIR [--lora r=8,alpha=16,dropout=0.05,targets=q,v]`:
// continue training a causal LM — a qkv run or a Hugging Face directory as it
// is — on a text file, in full or with LoRA adapters only (models/lora.h).
// DIR is a model directory (qkv generate, perplexity, export read it) with
// exact resume; with --lora it also holds the adapter in PEFT's format
// (adapter_config.json + adapter_model.safetensors) for Python users.
#include <filesystem>
#include <set>

#include "commands.h"
#include "config_flags.h"
#include "train_common.h"
#include "qkv/core/file_kind.h"
#include "qkv/data/fingerprint.h"
#include "qkv/io/file.h"
#include "qkv/io/json.h"
#include "qkv/models/causal_decoder.h"
#include "qkv/models/lora.h"
#include "qkv/models/registry.h"
#include "qkv/tokenizers/text_codec.h"
#include "qkv/train/trainer.h"

namespace qkv::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct FinetuneArgs {
  std::string base, data, out, lora;
  int64_t block_size = 0;
  bool resume = false, allow_new_data = false;
  int threads = 0;
  std::unique_ptr<ConfigFlags<train::TrainConfig>> train;
};

// Fine-tuning's defaults: fewer steps and a gentler rate than training from scratch.
train::TrainConfig finetune_defaults() {
  train::TrainConfig t;
  t.max_iters = 200;
  t.lr = 3e-4f;
  t.min_lr = 3e-5f;
  t.warmup_iters = 20;
  t.lr_decay_iters = 200;
  t.eval_interval = 50;
  t.eval_iters = 20;
  t.batch_size = 8;
  return t;
}

json train_config_json(const FinetuneArgs& a) {
  json train_j = finetune_defaults().to_json();
  if (a.resume) {
    const std::string st = a.out + "/trainer_state.json";
    if (!fs::exists(st)) throw IOError(a.out + ": cannot --resume: no trainer_state.json (no earlier run here)");
    train_j = train::TrainConfig::upgrade_saved_json(io::read_json(st).at("train_config"));
  }
  a.train->apply_given(train_j);
  return train_j;
}

// The run's LoRA setting: --lora, or (resuming) the adapter the run saved.
std::optional<models::LoraConfig> lora_config(const FinetuneArgs& a) {
  const std::string saved = a.out + "/adapter_config.json";
  if (a.resume && fs::exists(saved)) {
    if (!a.lora.empty()) throw ValueError("--lora: a resumed run keeps its adapter (" + saved + "); drop the flag");
    const json j = io::read_json(saved);
    models::LoraConfig c;
    c.r = j.at("r").get<int64_t>();
    c.alpha = j.at("lora_alpha").get<float>();
    if (j.contains("lora_dropout") && j["lora_dropout"].is_number()) c.dropout = j["lora_dropout"].get<float>();
    c.targets = j.at("target_modules").get<std::vector<std::string>>();
    return c;
  }
  if (a.lora.empty()) return std::nullopt;
  return models::LoraConfig::parse(a.lora);
}

void run_finetune(const FinetuneArgs& a) {
  apply_threads(a.threads);
  const train::TrainConfig tc = train::TrainConfig::from_json(train_config_json(a));
  tc.validate();
  const std::optional<models::LoraConfig> lora = lora_config(a);
  require_regular_file(a.data);  // "is a directory", "is a FIFO", … (core/file_kind.h)
  if (a.allow_new_data && !a.resume) throw ValueError("--allow-new-data applies only with --resume");
  prepare_out(a.out, a.resume);

  auto model = models::load_model_as<models::CausalDecoderLM>(a.base, "qkv finetune");
  if (!models::lora_layers(*model).empty())
    throw ValueError(a.base + " holds LoRA adapters (a qkv finetune --lora run); `qkv export` it (the adapters are "
                              "merged) and fine-tune the exported directory, or --resume the run itself");
  const tokenizers::TextCodec tok = tokenizers::load_codec(a.base);
  const std::string text = io::read_file(a.data);
  std::vector<int64_t> ids;
  try {
    ids = tok.encode(text);
  } catch (const ValueError& e) {
    throw ValueError(a.data + ": " + e.what());
  }
  const int64_t block = a.block_size ? a.block_size : model->context_length();
  if (block < 1 || block > model->context_length())
    throw ValueError("--block-size " + std::to_string(block) + " must be between 1 and the model's context length " +
                     std::to_string(model->context_length()));

  Generator gen(tc.seed);
  const int64_t total = model->num_parameters();
  if (lora) {
    const auto layers = models::apply_lora(*model, *lora, gen);
    int64_t trainable = 0;
    for (const auto& [name, p] : model->named_parameters())
      if (p.requires_grad()) trainable += p.numel();
    std::fprintf(stderr, "LoRA r=%ld alpha=%g dropout=%g on %zu layers (%s, …): %ld trainable parameters of %ld (%.3f%%)\n",
                 static_cast<long>(lora->r), lora->alpha, lora->dropout, layers.size(), layers.front().c_str(),
                 static_cast<long>(trainable), static_cast<long>(total + trainable),
                 100.0 * static_cast<double>(trainable) / static_cast<double>(total + trainable));
  } else {
    std::fprintf(stderr, "full fine-tuning: %ld trainable parameters\n", static_cast<long>(total));
  }
  model->train();
  train::CausalLMTask task(*model, ids, block, tc.val_fraction);
  train::Trainer trainer(task, tc, a.out);
  trainer.set_data_fingerprint(data::file_fingerprint(a.data));
  if (a.resume) {
    trainer.resume(a.allow_new_data);
    std::fprintf(stderr, "resuming %s at step %ld\n", a.out.c_str(), static_cast<long>(trainer.step()));
  }
  trainer.set_stop_flag(&install_stop_handler());
  const bool done = trainer.run([&](const std::string& dir) {
    tok.save(dir + "/tokenizer.json");
    if (lora) models::save_peft_adapter(dir, *model, *lora, a.base);
  });
  if (!done)
    throw Error("interrupted at step " + std::to_string(trainer.step()) + "; the checkpoint in " + a.out +
                " holds it: continue with --resume");
  std::fprintf(stderr, "done: best val loss %.4f; model in %s%s\n", trainer.best_val_loss(), a.out.c_str(),
               lora ? " (adapter in PEFT's format: adapter_config.json, adapter_model.safetensors)" : "");
}

void add_finetune_command(CLI::App& app) {
  static FinetuneArgs a;
  auto* c = app.add_subcommand("finetune",
                               "Fine-tune a causal LM (a qkv run or a Hugging Face directory) on a text file, in full "
                               "or with LoRA adapters (--lora), saved in PEFT's format; or a BERT for a task: "
                               "finetune classify|ner|qa");
  c->option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  // Not required by CLI11: `qkv finetune classify|ner|qa …` (cmd_finetune_bert.cpp) has its own.
  c->add_option("base", a.base, "Model directory to start from (config.json, weights, tokenizer.json)");
  c->add_option("--data", a.data, "Training text (UTF-8), encoded with the base's tokenizer")->default_str("none");
  c->add_option("--out", a.out, "Output model directory")->default_str("none");
  c->add_option("--lora", a.lora,
                "LoRA instead of full fine-tuning: r=8,alpha=16,dropout=0,targets=q,v (targets: q k v o up down "
                "gate, or layer names such as c_attn; dropout: PEFT's lora_dropout)")
      ->default_str("none (full fine-tuning)");
  c->add_option("--block-size", a.block_size, "Training window in tokens (0 = the model's context length)")
      ->capture_default_str();
  c->add_flag("--resume", a.resume, "Continue the run in --out exactly where it stopped");
  c->add_flag("--allow-new-data", a.allow_new_data,
              "With --resume: continue even though --data is not the file the run was trained on");
  c->add_option("--threads", a.threads, "Threads (0 = physical cores)")->capture_default_str();
  a.train = std::make_unique<ConfigFlags<train::TrainConfig>>(*c, train::TrainConfig::fields(), std::set<std::string>{},
                                                              "Training", finetune_defaults());
  c->callback([c] {
    if (!c->get_subcommands().empty()) return;  // a BERT task ran
    if (a.base.empty() || a.data.empty() || a.out.empty())
      throw ValueError("qkv finetune: give BASE --data FILE --out DIR (a causal LM), or a BERT task: "
                       "qkv finetune classify|ner|qa --model DIR --train FILE --dev FILE --out DIR");
    run_finetune(a);
  });
}

}  // namespace

QKV_REGISTER_COMMAND("finetune", 62, add_finetune_command);

}  // namespace qkv::cli
