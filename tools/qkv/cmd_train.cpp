// `qkv train gpt` and `qkv train llama`: train a decoder-only causal LM on a
// text file (nanoGPT's flags, or the family's config names), with exact
// resume. The model directory it writes is what `qkv generate` reads. The two
// commands share everything but the model family (its config and class).
#include <set>

#include "commands.h"
#include "config_flags.h"
#include "trace_output.h"
#include "train_common.h"
#include "qkv/io/json.h"
#include "qkv/models/gpt.h"
#include "qkv/models/llama.h"
#include "qkv/train/causal_lm_run.h"

namespace qkv::cli {
namespace {

using nlohmann::json;

template <class ModelConfig>
struct TrainArgs {
  std::string data, tokenizer = "char", config, out;
  bool resume = false, allow_new_data = false, trace = false;
  int threads = 0;
  // One flag per config field (config_flags.h); vocab_size comes from the tokenizer.
  std::unique_ptr<ConfigFlags<ModelConfig>> model;
  std::unique_ptr<ConfigFlags<train::TrainConfig>> train;
};

// Configs as JSON: defaults < --config file (or the checkpoint when resuming) < flags.
template <class ModelConfig>
std::pair<json, json> merged_configs(const TrainArgs<ModelConfig>& a) {
  return cli::merged_configs<ModelConfig>(ModelConfig{}.to_json(), train::TrainConfig{}.to_json(), a.resume, a.out,
                                          a.config, *a.model, *a.train);
}

// What differs between the families: the one-line description of the model.
std::string describe(const models::GPTConfig& c) {
  return "n_layer " + std::to_string(c.n_layer) + ", n_head " + std::to_string(c.n_head) + ", n_embd " +
         std::to_string(c.n_embd) + ", block_size " + std::to_string(c.block_size) + ", vocab " +
         std::to_string(c.vocab_size);
}
std::string describe(const models::LlamaConfig& c) {
  return "llama: num_hidden_layers " + std::to_string(c.num_hidden_layers) + ", num_attention_heads " +
         std::to_string(c.num_attention_heads) + ", num_key_value_heads " + std::to_string(c.kv_heads()) +
         ", hidden_size " + std::to_string(c.hidden_size) + ", max_position_embeddings " +
         std::to_string(c.max_position_embeddings) + ", vocab " + std::to_string(c.vocab_size);
}

template <class ModelConfig>
void run_train(const TrainArgs<ModelConfig>& a) {
  apply_threads(a.threads);
  if (a.allow_new_data && !a.resume) throw ValueError("--allow-new-data applies only with --resume");
  prepare_out(a.out, a.resume);  // finish a save a kill interrupted before the checkpoint is read
  auto [model_j, train_j] = merged_configs(a);  // defaults < --config or the checkpoint < flags
  // Ctrl-C / SIGTERM: finish the current step, save it, say how to continue.
  const train::CausalLMRunResult r = train::train_causal_lm(
      {.data = a.data, .tokenizer = a.tokenizer, .out = a.out, .resume = a.resume,
       .allow_new_data = a.allow_new_data, .model_type = ModelConfig{}.to_json()["model_type"],
       .model_config = model_j, .train_config = train_j,
       .stop = &install_stop_handler(),
       .describe = [](const json& j) { return describe(ModelConfig::from_json(j)); },
       .trace = a.trace ? trace_printer("one training step (forward in training mode, loss, backward; no update, "
                                        "nothing written)")
                        : nn::Trace::Callback()});
  if (!r.finished)
    throw Error("interrupted at step " + std::to_string(r.step) + "; the checkpoint in " + a.out +
                " holds it: continue with --resume");
}

void add_train_command(CLI::App& app) {
  app.add_subcommand("train", "Train a model")->require_subcommand(1);
}

// The flags and callback of `qkv train <name>` for one model family.
template <class ModelConfig>
void add_train_family(CLI::App& train, const std::string& name, const std::string& help, TrainArgs<ModelConfig>& a) {
  auto* g = train.add_subcommand(name, help);
  // A flag given twice takes its last value (scripts append overrides).
  g->option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  g->add_option("--data", a.data, "Training text (UTF-8)")->required();
  g->add_option("--tokenizer", a.tokenizer,
                "\"char\" (built from the data), or a tokenizer DIR/file (tokenizer.json, SentencePiece "
                "tokenizer.model, GPT-2 vocab.json + merges.txt, BERT vocab.txt)")
      ->capture_default_str();
  g->add_option("--config", a.config,
                "JSON file with model and trainer fields, qkv or nanoGPT names (flags override it)")
      ->default_str("none");
  g->add_option("--out", a.out, "Output model directory")->required();
  g->add_flag("--resume", a.resume, "Continue the run in --out exactly where it stopped");
  g->add_flag("--allow-new-data", a.allow_new_data,
              "With --resume: continue even though --data is not the file the run was trained on");
  g->add_option("--threads", a.threads, "Threads (0 = physical cores)")->capture_default_str();
  g->add_flag("--trace", a.trace,
              "Run one step and stop: print every layer's tensor shapes and norms for one micro-batch "
              "((B,T,C) → (B,NH,T,hs) …), the loss and each parameter's gradient norm; writes nothing");
  // Model fields, then trainer fields (defaults and bounds from their tables).
  a.model = std::make_unique<ConfigFlags<ModelConfig>>(*g, ModelConfig::fields(), std::set<std::string>{"vocab_size"},
                                                       "Model");
  a.train = std::make_unique<ConfigFlags<train::TrainConfig>>(*g, train::TrainConfig::fields(),
                                                              std::set<std::string>{}, "Training");
  g->callback([&a] { run_train(a); });
}

void add_train_gpt_command(CLI::App& train) {
  static TrainArgs<models::GPTConfig> a;
  add_train_family(train, "gpt", "Train a decoder-only GPT on a text file (nanoGPT's flags)", a);
}

void add_train_llama_command(CLI::App& train) {
  static TrainArgs<models::LlamaConfig> a;
  add_train_family(
      train, "llama",
      "Train a Llama-architecture decoder (RMSNorm, SwiGLU, RoPE, grouped-query attention) on a text file "
      "(Hugging Face's config names: --hidden-size, --num-hidden-layers, --num-key-value-heads, …)",
      a);
}

}  // namespace

QKV_REGISTER_COMMAND("train", 60, add_train_command);
QKV_REGISTER_SUBCOMMAND("train", "gpt", 10, add_train_gpt_command);
QKV_REGISTER_SUBCOMMAND("train", "llama", 15, add_train_llama_command);

}  // namespace qkv::cli
