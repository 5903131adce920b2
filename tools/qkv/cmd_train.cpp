// `qkv train gpt`: train a GPT on a text file (nanoGPT's flags), with exact
// resume. The model directory it writes is what `qkv generate` reads.
#include <csignal>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>

#include "commands.h"
#include "text_codec.h"
#include "qkv/io/file.h"
#include "qkv/io/json.h"
#include "qkv/models/gpt.h"
#include "qkv/train/checkpoint.h"
#include "qkv/train/trainer.h"

namespace qkv::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct TrainArgs {
  std::string data, tokenizer = "char", config, out;
  bool resume = false;
  int threads = 0;
  models::GPTConfig model;
  train::TrainConfig train;
};

const std::set<std::string> kModelKeys = {"vocab_size", "n_layer", "n_head",  "n_embd",    "block_size",
                                          "dropout",    "bias",    "activation", "model_type"};

void run_train(TrainArgs a, CLI::App* cmd) {
  apply_threads(a.threads);
  auto given = [&](const char* flag) { return cmd->count(flag) > 0; };
  // 1. Configs: defaults < --config JSON (or the checkpoint when resuming) < flags.
  json model_j = a.model.to_json(), train_j = a.train.to_json();
  auto merge_file = [&](const json& j, const std::string& what) {
    if (!j.is_object()) throw ValueError(what + ": expected a JSON object");
    for (const auto& [k, v] : j.items()) {
      if (kModelKeys.count(k)) model_j[k] = v;
      else if (train_j.contains(k)) train_j[k] = v;
      else throw ValueError(what + ": unknown field \"" + k + "\"");
    }
  };
  if (a.resume) {
    const std::string st = a.out + "/trainer_state.json";
    if (!fs::exists(st)) throw IOError(a.out + ": cannot --resume: no trainer_state.json (no earlier run here)");
    json s = io::read_json(st);
    if (!s.contains("model_config") || !s.contains("train_config"))
      throw ValueError(st + ": missing model_config/train_config");
    model_j = s["model_config"];
    train_j = s["train_config"];
  }
  if (!a.config.empty()) merge_file(io::read_json(a.config), a.config);
  // Explicit flags win.
  struct F { const char* flag; const char* key; bool model; json value; };
  const std::vector<F> flags = {
      {"--n-layer", "n_layer", true, a.model.n_layer},       {"--n-head", "n_head", true, a.model.n_head},
      {"--n-embd", "n_embd", true, a.model.n_embd},          {"--block-size", "block_size", true, a.model.block_size},
      {"--dropout", "dropout", true, a.model.dropout},       {"--bias", "bias", true, a.model.bias},
      {"--activation", "activation", true, a.model.activation},
      {"--batch-size", "batch_size", false, a.train.batch_size}, {"--max-iters", "max_iters", false, a.train.max_iters},
      {"--lr", "lr", false, a.train.lr},                     {"--min-lr", "min_lr", false, a.train.min_lr},
      {"--warmup-iters", "warmup_iters", false, a.train.warmup_iters},
      {"--lr-decay-iters", "lr_decay_iters", false, a.train.lr_decay_iters},
      {"--decay-lr", "decay_lr", false, a.train.decay_lr},   {"--beta1", "beta1", false, a.train.beta1},
      {"--beta2", "beta2", false, a.train.beta2},            {"--weight-decay", "weight_decay", false, a.train.weight_decay},
      {"--grad-clip", "grad_clip", false, a.train.grad_clip}, {"--grad-accum", "grad_accum", false, a.train.grad_accum},
      {"--eval-interval", "eval_interval", false, a.train.eval_interval},
      {"--eval-iters", "eval_iters", false, a.train.eval_iters}, {"--seed", "seed", false, a.train.seed},
      {"--val-fraction", "val_fraction", false, a.train.val_fraction},
      {"--log-interval", "log_interval", false, a.train.log_interval}};
  for (const F& f : flags)
    if (given(f.flag)) (f.model ? model_j : train_j)[f.key] = f.value;

  // 2. Corpus and tokenizer.
  if (a.data.empty()) throw ValueError("--data FILE is required");
  if (!fs::is_regular_file(a.data)) throw IOError(a.data + ": no such file");
  const std::string text = io::read_file(a.data);
  if (text.empty()) throw ValueError(a.data + ": the corpus is empty");
  TextCodec tok = a.resume ? load_codec(a.out + "/tokenizer.json")
                 : a.tokenizer == "char" ? char_codec(text)
                                         : load_codec(a.tokenizer);
  std::vector<int64_t> ids;
  try {
    ids = tok.encode(text);
  } catch (const ValueError& e) {
    throw ValueError(a.data + ": " + e.what());
  }
  model_j["vocab_size"] = tok.vocab_size;
  models::GPTConfig mc = models::GPTConfig::from_json(model_j);
  train::TrainConfig tc = train::TrainConfig::from_json(train_j);
  tc.validate();
  if (a.resume && !fs::exists(a.out + "/config.json"))
    throw IOError(a.out + ": cannot --resume: missing config.json");

  // 3. Model and trainer (validates everything before the first write).
  Generator gen(tc.seed);
  models::GPT model(mc, gen);
  std::fprintf(stderr, "model: %ld parameters (n_layer %ld, n_head %ld, n_embd %ld, block_size %ld, vocab %ld)\n",
               static_cast<long>(model.num_parameters()), static_cast<long>(mc.n_layer), static_cast<long>(mc.n_head),
               static_cast<long>(mc.n_embd), static_cast<long>(mc.block_size), static_cast<long>(mc.vocab_size));
  std::fprintf(stderr, "data: %s, %zu bytes → %zu tokens (train %.0f%%, val %.0f%%)\n", a.data.c_str(),
               text.size(), ids.size(), 100 * (1 - tc.val_fraction), 100 * tc.val_fraction);
  train::Trainer trainer(model, tc, std::move(ids), a.out);
  if (a.resume) {
    trainer.resume();
    std::fprintf(stderr, "resuming %s at step %ld\n", a.out.c_str(), static_cast<long>(trainer.step()));
  } else if (fs::exists(a.out + "/trainer_state.json")) {
    throw ValueError(a.out + " already holds a training run; pass --resume to continue it or choose another --out");
  }
  // Ctrl-C / SIGTERM: finish the current step, save it, say how to continue.
  static std::atomic<bool> stop{false};
  struct sigaction sa {};
  sa.sa_handler = [](int) { stop.store(true); };
  sa.sa_flags = SA_RESETHAND;  // a second signal ends the process at once
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  trainer.set_stop_flag(&stop);
  if (!trainer.run([&](const std::string& dir) { tok.save(dir + "/tokenizer.json"); }))
    throw Error("interrupted at step " + std::to_string(trainer.step()) + "; the checkpoint in " + a.out +
                " holds it: continue with --resume");
  std::fprintf(stderr, "done: best val loss %.4f; model in %s (best in %s/best), log in %s/log.jsonl\n",
               trainer.best_val_loss(), a.out.c_str(), a.out.c_str(), a.out.c_str());
}

}  // namespace

void add_train_command(CLI::App& app) {
  auto* train = app.add_subcommand("train", "Train a model");
  train->require_subcommand(1);
  auto* g = train->add_subcommand("gpt", "Train a decoder-only GPT on a text file (nanoGPT's flags)");
  static TrainArgs a;
  // A flag given twice takes its last value (scripts append overrides).
  g->option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  g->add_option("--data", a.data, "Training text (UTF-8)")->required();
  g->add_option("--tokenizer", a.tokenizer,
                "\"char\" (built from the data), or a tokenizer DIR/file (tokenizer.json, GPT-2 vocab.json + "
                "merges.txt, BERT vocab.txt)")
      ->capture_default_str();
  g->add_option("--config", a.config, "JSON file with model and trainer fields (flags override it)");
  g->add_option("--out", a.out, "Output model directory")->required();
  g->add_flag("--resume", a.resume, "Continue the run in --out exactly where it stopped");
  g->add_option("--threads", a.threads, "Threads (0 = physical cores)");
  g->add_option("--n-layer", a.model.n_layer, "Transformer blocks")->capture_default_str();
  g->add_option("--n-head", a.model.n_head, "Attention heads")->capture_default_str();
  g->add_option("--n-embd", a.model.n_embd, "Model width")->capture_default_str();
  g->add_option("--block-size", a.model.block_size, "Context length")->capture_default_str();
  g->add_option("--dropout", a.model.dropout, "Dropout probability")->capture_default_str();
  g->add_option("--bias", a.model.bias, "Biases in Linear/LayerNorm (true/false)")->capture_default_str();
  g->add_option("--activation", a.model.activation, "gelu or gelu_tanh")->capture_default_str();
  g->add_option("--batch-size", a.train.batch_size, "Sequences per micro-batch")->capture_default_str();
  g->add_option("--max-iters", a.train.max_iters, "Optimizer steps")->capture_default_str();
  g->add_option("--lr", a.train.lr, "Peak learning rate")->capture_default_str();
  g->add_option("--min-lr", a.train.min_lr, "Final learning rate of the cosine decay")->capture_default_str();
  g->add_option("--warmup-iters", a.train.warmup_iters, "Linear warm-up steps")->capture_default_str();
  g->add_option("--lr-decay-iters", a.train.lr_decay_iters, "Step where the cosine decay ends")->capture_default_str();
  g->add_option("--decay-lr", a.train.decay_lr, "Warm-up + cosine decay (true) or constant lr (false)")
      ->capture_default_str();
  g->add_option("--beta1", a.train.beta1, "AdamW β1")->capture_default_str();
  g->add_option("--beta2", a.train.beta2, "AdamW β2")->capture_default_str();
  g->add_option("--weight-decay", a.train.weight_decay, "AdamW decoupled weight decay")->capture_default_str();
  g->add_option("--grad-clip", a.train.grad_clip, "Global gradient-norm clip (0 = off)")->capture_default_str();
  g->add_option("--grad-accum", a.train.grad_accum, "Micro-batches per step")->capture_default_str();
  g->add_option("--eval-interval", a.train.eval_interval, "Steps between evaluations/checkpoints")
      ->capture_default_str();
  g->add_option("--eval-iters", a.train.eval_iters, "Batches per evaluation")->capture_default_str();
  g->add_option("--seed", a.train.seed, "Random seed")->capture_default_str();
  g->add_option("--val-fraction", a.train.val_fraction, "Share of the data held out")->capture_default_str();
  g->add_option("--log-interval", a.train.log_interval, "Steps between log lines (non-TTY)")->capture_default_str();
  g->callback([g] { run_train(a, g); });
}

}  // namespace qkv::cli
