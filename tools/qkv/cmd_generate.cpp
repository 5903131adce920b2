// `qkv generate DIR`: sample text from a trained model directory.
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "qkv/tokenizers/text_codec.h"
#include "qkv/generate/generate.h"
#include "qkv/ops/quantized.h"
#include "qkv/models/gpt.h"
#include "qkv/models/registry.h"

namespace qkv::cli {
namespace {

using tokenizers::TextCodec;
using tokenizers::load_codec;

struct GenerateArgs {
  std::string dir, prompt = "\n";
  int64_t max_new_tokens = 200, top_k = 0, num_samples = 1;
  float temperature = 0.8f, top_p = 1.0f;
  uint64_t seed = 1337;
  int threads = 0;
  bool no_cache = false, stats = false;
  std::string weights = "f32";
};

// Length of the longest prefix of `s` that does not end inside a UTF-8
// character (a byte-level token may carry half of one).
size_t whole_utf8_prefix(const std::string& s) {
  size_t lead = s.size();
  while (lead > 0 && (static_cast<unsigned char>(s[lead - 1]) & 0xC0) == 0x80) --lead;  // back over continuations
  if (lead == 0) return s.size();
  const unsigned char c = static_cast<unsigned char>(s[lead - 1]);
  const size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
  return s.size() - (lead - 1) >= need ? s.size() : lead - 1;
}

void run_generate(const GenerateArgs& a) {
  if (!std::filesystem::is_directory(a.dir))
    throw IOError(a.dir + (std::filesystem::exists(a.dir) ? ": not a directory" : ": no such directory") +
                  " (expected a model directory made by `qkv train gpt`)");
  apply_threads(a.threads);
  if (a.num_samples < 1) throw ValueError("--num-samples must be >= 1");
  if (a.max_new_tokens < 0) throw ValueError("--max-new-tokens must be >= 0");
  if (a.prompt.empty()) throw ValueError("--prompt must not be empty (the default is a newline)");
  generate::GenerateOptions opt;
  opt.max_new_tokens = a.max_new_tokens;
  opt.sampling.temperature = a.temperature;
  opt.sampling.top_k = a.top_k;
  opt.sampling.top_p = a.top_p;
  opt.sampling.validate();
  opt.use_cache = !a.no_cache;
  WeightFormat weights;
  try {
    weights = kernels::parse_weight_format(a.weights);
  } catch (const ValueError& e) {
    throw ValueError(std::string("--weights: ") + e.what());
  }
  const std::string tok_path = a.dir + "/tokenizer.json";
  if (!std::filesystem::exists(tok_path)) throw IOError(a.dir + ": missing tokenizer.json");
  TextCodec tok = load_codec(tok_path);
  auto model = models::load_model_as<models::GPT>(a.dir, "qkv generate");
  model->quantize(weights);  // f32: nothing to do (load_model returns it in eval mode)
  if (tok.vocab_size != model->config.vocab_size)
    throw ValueError(tok_path + " has " + std::to_string(tok.vocab_size) + " tokens but config.json says vocab_size " +
                     std::to_string(model->config.vocab_size));
  std::vector<int64_t> prompt;
  try {
    prompt = tok.encode(a.prompt);
  } catch (const ValueError& e) {
    throw ValueError(std::string("--prompt: ") + e.what());
  }
  Generator gen(a.seed);
  std::vector<std::vector<int64_t>> prompts(a.num_samples, prompt);
  auto t0 = std::chrono::steady_clock::now();
  // One sample streams its text as the tokens come (the decoded prefix grows;
  // print what is new once it is whole UTF-8); several print at the end.
  std::vector<int64_t> so_far = prompt;
  size_t shown = 0;
  auto stream = [&](size_t, int64_t token) {
    so_far.push_back(token);
    const std::string text = tok.decode(so_far);
    const size_t end = std::max(shown, whole_utf8_prefix(text));
    std::fwrite(text.data() + shown, 1, end - shown, stdout);
    std::fflush(stdout);
    shown = end;
  };
  const bool streaming = a.num_samples == 1;
  if (streaming) {
    const std::string p = tok.decode(prompt);
    std::fwrite(p.data(), 1, p.size(), stdout);
    std::fflush(stdout);
    shown = p.size();
  }
  auto out = generate::generate(*model, prompts, opt, gen, streaming ? generate::TokenCallback(stream) : nullptr);
  double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  int64_t produced = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    produced += static_cast<int64_t>(out[i].size() - prompt.size());
    const std::string text = tok.decode(out[i]);
    if (streaming) std::fwrite(text.data() + std::min(shown, text.size()), 1, text.size() - std::min(shown, text.size()), stdout);
    else std::fwrite(text.data(), 1, text.size(), stdout);
    std::printf("\n---------------\n");
  }
  if (a.stats)
    std::fprintf(stderr, "generated %ld tokens in %.2f s (%.1f tokens/s, KV cache %s, %s weights)\n",
                 static_cast<long>(produced), sec, produced / sec, a.no_cache ? "off" : "on",
                 kernels::weight_format_name(weights));
}

void add_generate_command(CLI::App& app) {
  auto* g = app.add_subcommand("generate", "Sample text from a model directory made by `qkv train`");
  static GenerateArgs a;
  g->add_option("dir", a.dir, "Model directory (config.json, model.safetensors, tokenizer.json)")->required();
  g->add_option("--prompt", a.prompt, "Text to continue")->default_str("\\n");
  g->add_option("--max-new-tokens", a.max_new_tokens, "Tokens to generate per sample")->capture_default_str();
  g->add_option("--temperature", a.temperature, "Softmax temperature (0 = greedy)")->capture_default_str();
  g->add_option("--top-k", a.top_k, "Keep the k most likely tokens (0 = all)")->capture_default_str();
  g->add_option("--top-p", a.top_p, "Nucleus sampling mass (1 = off)")->capture_default_str();
  g->add_option("--seed", a.seed, "Random seed")->capture_default_str();
  g->add_option("--num-samples", a.num_samples, "Samples to draw (one batch)")->capture_default_str();
  g->add_option("--threads", a.threads, "Threads (0 = physical cores)")->capture_default_str();
  g->add_flag("--no-cache", a.no_cache, "Re-run the whole context every step (slow; for comparison)");
  g->add_option("--weights", a.weights,
                "Weights for inference: f32, bf16 (rounded), or int8 (blocks of 32 with one scale each, "
                "as llama.cpp's Q8_0): fewer bytes per weight, faster decoding (docs/CLI.md)")
      ->capture_default_str();
  g->add_flag("--stats", a.stats, "Print tokens/s to stderr");
  g->callback([] { run_generate(a); });
}

}  // namespace

QKV_REGISTER_COMMAND("generate", 70, add_generate_command);

}  // namespace qkv::cli
