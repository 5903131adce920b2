// `qkv train gpt` and `qkv train llama`: train a decoder-only causal LM on a
// text file (nanoGPT's flags, or the family's config names), with exact
// resume. The model directory it writes is what `qkv generate` reads. The two
// commands share everything but the model family (its config and class).
#include <filesystem>
#include <fstream>
#include <set>

#include "commands.h"
#include "config_flags.h"
#include "train_common.h"
#include "qkv/core/file_kind.h"
#include "qkv/tokenizers/text_codec.h"
#include "qkv/data/fingerprint.h"
#include "qkv/io/file.h"
#include "qkv/io/json.h"
#include "qkv/models/gpt.h"
#include "qkv/models/llama.h"
#include "qkv/train/trainer.h"

namespace qkv::cli {
namespace {

using tokenizers::TextCodec;
using tokenizers::load_codec;
using tokenizers::char_codec;

namespace fs = std::filesystem;
using nlohmann::json;

template <class ModelConfig>
struct TrainArgs {
  std::string data, tokenizer = "char", config, out;
  bool resume = false, allow_new_data = false;
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

// What differs between the families: the context length's field and the
// one-line description of the model.
int64_t context_length(const models::GPTConfig& c) { return c.block_size; }
int64_t context_length(const models::LlamaConfig& c) { return c.max_position_embeddings; }
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

template <class Model, class ModelConfig>
void run_train(const TrainArgs<ModelConfig>& a) {
  apply_threads(a.threads);
  if (a.allow_new_data && !a.resume) throw ValueError("--allow-new-data applies only with --resume");
  prepare_out(a.out, a.resume);  // before any work: never overwrite a model directory; finish a killed save
  // 1. Configs.
  auto [model_j, train_j] = merged_configs(a);

  // 2. Corpus and tokenizer.
  if (a.data.empty()) throw ValueError("--data FILE is required");
  require_regular_file(a.data);  // "is a directory", "is a FIFO", … (core/file_kind.h)
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
  ModelConfig mc = ModelConfig::from_json(model_j);
  train::TrainConfig tc = train::TrainConfig::from_json(train_j);
  tc.validate();
  if (a.resume && !fs::exists(a.out + "/config.json"))
    throw IOError(a.out + ": cannot --resume: missing config.json");

  // 3. Model and trainer (validates everything before the first write).
  Generator gen(tc.seed);
  Model model(mc, gen);
  std::fprintf(stderr, "model: %ld parameters (%s)\n", static_cast<long>(model.num_parameters()),
               describe(mc).c_str());
  std::fprintf(stderr, "data: %s, %zu bytes → %zu tokens (train %.0f%%, val %.0f%%)\n", a.data.c_str(),
               text.size(), ids.size(), 100 * (1 - tc.val_fraction), 100 * tc.val_fraction);
  train::CausalLMTask task(model, ids, context_length(mc), tc.val_fraction);
  train::Trainer trainer(task, tc, a.out);
  trainer.set_data_fingerprint(data::file_fingerprint(a.data));
  if (a.resume) {
    trainer.resume(a.allow_new_data);
    std::fprintf(stderr, "resuming %s at step %ld\n", a.out.c_str(), static_cast<long>(trainer.step()));
  }
  // Ctrl-C / SIGTERM: finish the current step, save it, say how to continue.
  trainer.set_stop_flag(&install_stop_handler());
  if (!trainer.run([&](const std::string& dir) { tok.save(dir + "/tokenizer.json"); }))
    throw Error("interrupted at step " + std::to_string(trainer.step()) + "; the checkpoint in " + a.out +
                " holds it: continue with --resume");
  std::fprintf(stderr, "done: best val loss %.4f; model in %s (best in %s/best), log in %s/log.jsonl\n",
               trainer.best_val_loss(), a.out.c_str(), a.out.c_str(), a.out.c_str());
}

void add_train_command(CLI::App& app) {
  app.add_subcommand("train", "Train a model")->require_subcommand(1);
}

// The flags and callback of `qkv train <name>` for one model family.
template <class Model, class ModelConfig>
void add_train_family(CLI::App& train, const std::string& name, const std::string& help, TrainArgs<ModelConfig>& a) {
  auto* g = train.add_subcommand(name, help);
  // A flag given twice takes its last value (scripts append overrides).
  g->option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  g->add_option("--data", a.data, "Training text (UTF-8)")->required();
  g->add_option("--tokenizer", a.tokenizer,
                "\"char\" (built from the data), or a tokenizer DIR/file (tokenizer.json, GPT-2 vocab.json + "
                "merges.txt, BERT vocab.txt)")
      ->capture_default_str();
  g->add_option("--config", a.config,
                "JSON file with model and trainer fields, qkv or nanoGPT names (flags override it)")
      ->default_str("none");
  g->add_option("--out", a.out, "Output model directory")->required();
  g->add_flag("--resume", a.resume, "Continue the run in --out exactly where it stopped");
  g->add_flag("--allow-new-data", a.allow_new_data,
              "With --resume: continue even though --data is not the file the run was trained on");
  g->add_option("--threads", a.threads, "Threads (0 = physical cores)")->capture_default_str();
  // Model fields, then trainer fields (defaults and bounds from their tables).
  a.model = std::make_unique<ConfigFlags<ModelConfig>>(*g, ModelConfig::fields(), std::set<std::string>{"vocab_size"},
                                                       "Model");
  a.train = std::make_unique<ConfigFlags<train::TrainConfig>>(*g, train::TrainConfig::fields(),
                                                              std::set<std::string>{}, "Training");
  g->callback([&a] { run_train<Model>(a); });
}

void add_train_gpt_command(CLI::App& train) {
  static TrainArgs<models::GPTConfig> a;
  add_train_family<models::GPT>(train, "gpt", "Train a decoder-only GPT on a text file (nanoGPT's flags)", a);
}

void add_train_llama_command(CLI::App& train) {
  static TrainArgs<models::LlamaConfig> a;
  add_train_family<models::Llama>(
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
