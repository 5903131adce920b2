// `qkv info`: version, CPU features, GEMM backend, threads, model families;
// `qkv info DIR`: what a model directory (qkv's or Hugging Face's) holds.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <thread>
#include <algorithm>

#include "commands.h"
#include "qkv/io/json.h"
#include "qkv/models/hf.h"
#include "qkv/qkv.h"
#include "qkv/tokenizers/tokenizer_config.h"

namespace qkv::cli {

void apply_threads(int threads) {
  if (threads < 0) throw ValueError("--threads must be >= 0, got " + std::to_string(threads));
  // More threads than a few per core only oversubscribes, and OpenMP runtimes
  // crash on absurd counts (libgomp at 100000): bound it.
  const int cores = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  const int limit = std::max(64, 4 * cores);
  if (threads > limit)
    throw ValueError("--threads " + std::to_string(threads) + " is more than " + std::to_string(limit) +
                     " (4 per logical core of this machine's " + std::to_string(cores) + ", at least 64)");
  if (threads > 0) set_num_threads(threads);
}

namespace {

// Architecture, parameters, stored dtypes, tokenizer and context of DIR.
void print_model_dir(const std::string& dir) {
  namespace fs = std::filesystem;
  std::unique_ptr<models::Model> model = models::load_model(dir);  // checks the directory first
  const nlohmann::json original = io::read_json(dir + "/config.json");
  const std::string stored = original.value("model_type", std::string("?"));
  std::printf("directory:  %s\n", dir.c_str());
  std::printf("model:      %s%s\n", model->model_type().c_str(),
              stored == model->model_type() ? "" : (" (Hugging Face model_type \"" + stored + "\", read as it is)").c_str());
  int64_t params = 0;
  for (const auto& [name, t] : model->named_parameters()) params += t.numel();
  std::printf("parameters: %ld (%.2f M)\n", static_cast<long>(params), static_cast<double>(params) / 1e6);
  std::map<std::string, int64_t> dtypes;  // stored dtype → tensors
  for (const auto& [name, code] : models::load_checkpoint(dir, /*read_data=*/false).file_dtypes) dtypes[code]++;
  std::string d;
  for (const auto& [k, n] : dtypes) d += (d.empty() ? "" : ", ") + k + " ×" + std::to_string(n);
  std::printf("stored:     %s%s\n", d.c_str(),
              fs::exists(dir + "/model.safetensors.index.json") ? " (sharded: model.safetensors.index.json)" : "");
  if (auto* lm = dynamic_cast<models::CausalDecoderLM*>(model.get()))
    std::printf("context:    %ld tokens\n", static_cast<long>(lm->context_length()));
  const nlohmann::json cfg = model->config_json();
  std::printf("config:     %s\n", compact_json(nlohmann::ordered_json(cfg)).c_str());
  const std::string tok = tokenizers::tokenizer_file_in(dir);
  if (tok.empty()) {
    std::printf("tokenizer:  none (no tokenizer.json or tokenizer.model)\n");
    return;
  }
  const tokenizers::Tokenizer t = tokenizers::Tokenizer::from_path(tok);
  const char* kinds[] = {"BPE", "WordPiece", "WordLevel", "SentencePiece (tokenizer.model)"};
  std::string specials;
  for (const tokenizers::AddedToken& a : t.added_tokens)
    if (a.special) specials += (specials.empty() ? "" : " ") + a.content;
  std::string adds;  // what tokenizer_config.json puts around every text
  if (const auto cfg = tokenizers::read_tokenizer_config(dir)) {
    if (cfg->add_bos_token.value_or(false)) adds += " " + cfg->bos_token.value_or("?") + " first";
    if (cfg->add_eos_token.value_or(false)) adds += std::string(adds.empty() ? " " : ", ") + cfg->eos_token.value_or("?") + " last";
  }
  std::printf("tokenizer:  %s, %ld tokens; special: %s%s\n", kinds[static_cast<int>(t.model->kind())],
              static_cast<long>(t.vocab_size()), specials.empty() ? "none" : specials.c_str(),
              adds.empty() ? "" : ("; adds" + adds + " (tokenizer_config.json)").c_str());
}

void add_info_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("info",
                                 "Print the version, CPU features, GEMM backend, threads and model families; with DIR, "
                                 "what a model directory holds (qkv's or Hugging Face's)");
  static int threads = 0;
  static std::string dir;
  cmd->add_option("dir", dir, "A model directory: architecture, parameters, stored dtypes, context, tokenizer");
  cmd->add_option("--threads", threads, "Threads for every threaded library (0 = physical cores)")
      ->capture_default_str();
  cmd->callback([] {
    apply_threads(threads);
    if (!dir.empty()) return print_model_dir(dir);
    const CpuFeatures& f = cpu_features();
    const char* wait = std::getenv("OMP_WAIT_POLICY");
    std::printf("qkv %s\n", kVersion);
    std::printf("cpu:      %s\n", f.model.empty() ? "unknown" : f.model.c_str());
    std::printf("features: %s\n", cpu_features_string().c_str());
    std::printf("gemm:     %s\n", kernels::gemm_backend_name());
    std::printf("threads:  %d (physical cores %d; QKV_NUM_THREADS or --threads to change)\n", num_threads(),
                physical_cores());
    const char* spin = std::getenv("GOMP_SPINCOUNT");
    std::string types;
    for (const std::string& t : models::model_types()) types += (types.empty() ? "" : ", ") + t;
    std::printf("models:   %s (config.json model_type)\n", types.c_str());
    std::printf("openmp:   OMP_WAIT_POLICY=%s GOMP_SPINCOUNT=%s\n", wait ? wait : "(unset)", spin ? spin : "(unset)");
  });
}

}  // namespace

QKV_REGISTER_COMMAND("info", 10, add_info_command);

}  // namespace qkv::cli
