// `qkv generate DIR`: sample text from a trained model directory, as text
// (streamed for one sample) or, with --jsonl, one JSON object per sample.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string_view>

#include "commands.h"
#include "trace_output.h"
#include "qkv/tokenizers/text_codec.h"
#include "qkv/tokenizers/tokenizer.h"
#include "qkv/generate/generate.h"
#include "qkv/models/hf.h"
#include "qkv/models/lora.h"
#include "qkv/ops/quantized.h"
#include "qkv/models/causal_decoder.h"
#include "qkv/models/registry.h"

namespace qkv::cli {
namespace {

using tokenizers::TextCodec;
using tokenizers::load_codec;

struct GenerateArgs {
  std::string dir, prompt = "\n";
  int64_t max_new_tokens = 200, top_k = 0, num_samples = 1, batch_size = 8, show_probs = 0;
  float temperature = 0.8f, top_p = 1.0f;
  uint64_t seed = 1337;
  int threads = 0;
  bool no_cache = false, stats = false, jsonl = false, trace = false;
  std::string weights = "f32", adapter;
  // The sampling flags, to tell given from default (generation_config.json fills the rest).
  CLI::Option *temperature_opt = nullptr, *top_k_opt = nullptr, *top_p_opt = nullptr;
};

constexpr std::string_view kSampleEnd = "\n---------------\n";  // after each sample of plain output

// Samples decoded together at most (each holds a KV cache of its own).
constexpr int64_t kMaxBatch = 1024;

void put(std::string_view s) { std::fwrite(s.data(), 1, s.size(), stdout); }

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

// Everything a run needs, checked and loaded.
struct Loaded {
  TextCodec tok;
  std::unique_ptr<models::CausalDecoderLM> model;  // any decoder-only family (gpt, llama)
  std::vector<int64_t> prompt;  // ids
  generate::GenerateOptions opt;
  WeightFormat weights;
};

generate::GenerateOptions options_from(const GenerateArgs& a) {
  if (a.num_samples < 1) throw ValueError("--num-samples must be >= 1");
  if (a.batch_size < 1 || a.batch_size > kMaxBatch)
    throw ValueError("--batch-size must be in 1 … " + std::to_string(kMaxBatch) + ", got " + std::to_string(a.batch_size));
  if (a.max_new_tokens < 0) throw ValueError("--max-new-tokens must be >= 0");
  if (a.prompt.empty()) throw ValueError("--prompt must not be empty (the default is a newline)");
  if (a.show_probs < 0 || a.show_probs > 100) throw ValueError("--show-probs must be in 0 … 100");
  if (a.show_probs > 0 && (a.num_samples != 1 || a.jsonl))
    throw ValueError("--show-probs prints one sample's steps: use it with --num-samples 1 and without --jsonl");
  if (a.trace && a.jsonl) throw ValueError("--trace prints text lines: use it without --jsonl");
  generate::GenerateOptions opt;
  opt.max_new_tokens = a.max_new_tokens;
  opt.sampling.temperature = a.temperature;
  opt.sampling.top_k = a.top_k;
  opt.sampling.top_p = a.top_p;
  opt.sampling.validate();
  opt.use_cache = !a.no_cache;
  return opt;
}

Loaded load(const GenerateArgs& a) {
  if (!std::filesystem::is_directory(a.dir))
    throw IOError(a.dir + (std::filesystem::exists(a.dir) ? ": not a directory" : ": no such directory") +
                  " (expected a model directory made by `qkv train gpt` or `qkv train llama`)");
  apply_threads(a.threads);
  Loaded s{.opt = options_from(a)};
  try {
    s.weights = kernels::parse_weight_format(a.weights);
  } catch (const ValueError& e) {
    throw ValueError(std::string("--weights: ") + e.what());
  }
  const std::string tok_path = tokenizers::tokenizer_file_in(a.dir);
  if (tok_path.empty()) throw IOError(a.dir + ": missing tokenizer.json (or a SentencePiece tokenizer.model)");
  s.tok = load_codec(tok_path);
  s.model = models::load_model_as<models::CausalDecoderLM>(a.dir, "qkv generate");
  if (!a.adapter.empty()) {  // a PEFT LoRA adapter on the base, folded in: the base's speed
    Generator g(0);
    models::load_peft_adapter(a.adapter, *s.model, g);
    models::merge_lora(*s.model);
  }
  s.model->quantize(s.weights);  // f32: nothing to do (load_model returns it in eval mode)
  const bool sampling_given = a.temperature_opt->count() + a.top_k_opt->count() + a.top_p_opt->count() > 0;
  generate::apply_generation_config(models::read_generation_config(a.dir), a.dir, s.model->vocab_size(),
                                    sampling_given, s.opt);
  if (s.tok.vocab_size != s.model->vocab_size())
    throw ValueError(tok_path + " has " + std::to_string(s.tok.vocab_size) + " tokens but config.json says vocab_size " +
                     std::to_string(s.model->vocab_size()));
  try {
    s.prompt = s.tok.encode(a.prompt);
  } catch (const ValueError& e) {
    throw ValueError(std::string("--prompt: ") + e.what());
  }
  return s;
}

// Plain output of one sample as its tokens come: the decoded prefix grows,
// and what is new is printed once it is whole UTF-8.
class TextStream {
 public:
  TextStream(const TextCodec& tok, const std::vector<int64_t>& prompt) : tok_(tok), so_far_(prompt) {
    const std::string p = tok_.decode(prompt);
    put(p);
    std::fflush(stdout);
    shown_ = p.size();
  }
  void add(int64_t token) {
    so_far_.push_back(token);
    const std::string text = tok_.decode(so_far_);
    const size_t end = std::max(shown_, whole_utf8_prefix(text));
    put(std::string_view(text).substr(shown_, end - shown_));
    std::fflush(stdout);
    shown_ = end;
  }
  // The rest of `text` (the whole sample, decoded at once) and the separator.
  void finish(const std::string& text) const {
    put(std::string_view(text).substr(std::min(shown_, text.size())));
    put(kSampleEnd);
  }

 private:
  const TextCodec& tok_;
  std::vector<int64_t> so_far_;
  size_t shown_ = 0;
};

// One --jsonl line (docs/CLI.md): strings that are not valid UTF-8 get U+FFFD
// for their bad bytes, so the line is always valid JSON; the ids stay exact.
std::string sample_json(const GenerateArgs& a, const Loaded& s, const std::vector<int64_t>& seq, size_t sample,
                        double tokens_per_sec) {
  const std::vector<int64_t> ids(seq.begin() + static_cast<std::ptrdiff_t>(s.prompt.size()), seq.end());
  nlohmann::ordered_json j;
  j["prompt"] = a.prompt;
  j["sample"] = sample;
  j["text"] = s.tok.decode(ids);
  j["ids"] = ids;
  j["prompt_ids"] = s.prompt;
  j["new_tokens"] = ids.size();
  j["tokens_per_sec"] = tokens_per_sec;
  j["seed"] = a.seed;
  return compact_json(j) + '\n';
}

// --show-probs K: one line per generated token — the token drawn and the K
// most likely candidates of softmax(logits / temperature).
void print_step(const Loaded& s, int64_t k, float temperature, int64_t step, const float* logits, int64_t V,
                int64_t token) {
  std::string line = "step " + std::to_string(step) + "  " + s.tok.label(token) + "  |";
  char p[32];
  for (const generate::TokenProb& c : generate::top_probs(logits, V, k, temperature)) {
    std::snprintf(p, sizeof p, " %.4f", c.p);
    line += "  " + s.tok.label(c.id) + p;
  }
  put(line + "\n");
}

// --trace: the first two forward passes — the prompt (prefill), then one new
// token (over the cached keys, or the whole context again with --no-cache) —
// then the trace pauses and generation goes on untraced.
class GenerateTrace {
 public:
  GenerateTrace(const GenerateArgs& a, const Loaded& s)
      : trace_(*s.model, trace_printer("qkv generate " + a.dir + ": the model's first two forward passes", s.model.get())),
        no_cache_(a.no_cache) {
    const std::string T = std::to_string(s.prompt.size());
    print_trace_section("pass 1: the prompt, " + T + (s.prompt.size() == 1 ? " token" : " tokens") +
                        " per sample (T = " + T + ")");
  }
  // After each sampled token of sequence `seq`.
  void token_done(size_t seq) {
    if (seq != 0 || trace_.paused()) return;
    if (++tokens_ == 1)
      print_trace_section(no_cache_ ? "pass 2: the whole context again (--no-cache), one token longer"
                                    : "pass 2: the new token alone (T = 1) against the cached keys and values");
    else
      trace_.pause(true);
  }

 private:
  nn::Trace trace_;
  bool no_cache_;
  int tokens_ = 0;
};

void run_generate(const GenerateArgs& a) {
  Loaded s = load(a);
  const Generator seeded(a.seed);
  std::optional<GenerateTrace> trace;
  if (a.trace) trace.emplace(a, s);
  int64_t step = 0;
  if (a.show_probs > 0) {
    std::printf("prompt: %s\n", a.prompt.c_str());
    s.opt.on_logits = [&](size_t, const float* logits, int64_t V, int64_t token) {
      print_step(s, a.show_probs, s.opt.sampling.temperature, step++, logits, V, token);
    };
  }
  // One sample in plain mode streams its text as the tokens come; several
  // print batch by batch; --jsonl prints only its lines.
  std::optional<TextStream> stream;
  generate::TokenCallback on_token;
  if (a.num_samples == 1 && !a.jsonl && a.show_probs == 0 && !a.trace) {
    stream.emplace(s.tok, s.prompt);
    on_token = [&stream](size_t, int64_t token) { stream->add(token); };
  }
  if (trace) on_token = [&trace](size_t seq, int64_t) { trace->token_done(seq); };
  // Samples run --batch-size at a time (memory: one KV cache per sample of a
  // batch), each batch from a copy of the seeded generator with its run-wide
  // sample indices, so sample i's tokens depend on neither flag.
  int64_t produced = 0;
  double sec = 0;
  for (int64_t first = 0; first < a.num_samples; first += a.batch_size) {
    const int64_t n = std::min(a.batch_size, a.num_samples - first);
    const std::vector<std::vector<int64_t>> prompts(static_cast<size_t>(n), s.prompt);
    Generator gen = seeded;
    s.opt.first_sequence = static_cast<size_t>(first);
    const auto t0 = std::chrono::steady_clock::now();
    const auto out = generate::generate(*s.model, prompts, s.opt, gen, on_token);
    const double batch_sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    int64_t batch_produced = 0;
    for (const auto& seq : out) batch_produced += static_cast<int64_t>(seq.size() - s.prompt.size());
    const double batch_rate = batch_produced > 0 && batch_sec > 0 ? batch_produced / batch_sec : 0.0;
    for (size_t i = 0; i < out.size(); ++i) {
      if (a.jsonl) put(sample_json(a, s, out[i], static_cast<size_t>(first) + i, batch_rate));
      else if (stream) stream->finish(s.tok.decode(out[i]));
      else put(s.tok.decode(out[i]) + std::string(kSampleEnd));
    }
    if (std::ferror(stdout) || std::fflush(stdout) != 0) throw IOError("cannot write to stdout");
    produced += batch_produced;
    sec += batch_sec;
  }
  const double tokens_per_sec = produced > 0 && sec > 0 ? produced / sec : 0.0;  // always a finite number
  if (a.stats)
    std::fprintf(stderr, "generated %ld tokens in %.2f s (%.1f tokens/s, KV cache %s, %s weights)\n",
                 static_cast<long>(produced), sec, tokens_per_sec, a.no_cache ? "off" : "on",
                 kernels::weight_format_name(s.weights));
  if (std::ferror(stdout) || std::fflush(stdout) != 0) throw IOError("cannot write to stdout");
}

void add_generate_command(CLI::App& app) {
  auto* g = app.add_subcommand("generate", "Sample text from a model directory made by `qkv train`");
  static GenerateArgs a;
  g->add_option("dir", a.dir, "Model directory (config.json, model.safetensors, tokenizer.json)")->required();
  g->add_option("--prompt", a.prompt, "Text to continue")->default_str("\\n");
  g->add_option("--max-new-tokens", a.max_new_tokens, "Tokens to generate per sample")->capture_default_str();
  a.temperature_opt = g->add_option("--temperature", a.temperature,
                                    "Softmax temperature (0 = greedy); default from generation_config.json if any")
                          ->capture_default_str();
  a.top_k_opt = g->add_option("--top-k", a.top_k, "Keep the k most likely tokens (0 = all)")->capture_default_str();
  a.top_p_opt = g->add_option("--top-p", a.top_p, "Nucleus sampling mass (1 = off)")->capture_default_str();
  g->add_option("--seed", a.seed, "Random seed")->capture_default_str();
  g->add_option("--num-samples", a.num_samples, "Samples to draw (any number: they run --batch-size at a time)")
      ->capture_default_str();
  g->add_option("--batch-size", a.batch_size,
                "Samples decoded together (memory grows with it: a KV cache each); the tokens do not depend on it")
      ->capture_default_str();
  g->add_option("--threads", a.threads, "Threads (0 = physical cores)")->capture_default_str();
  g->add_flag("--no-cache", a.no_cache, "Re-run the whole context every step (slow; for comparison)");
  g->add_option("--weights", a.weights,
                "Weights for inference: f32, bf16 (rounded), or int8 (blocks of 32 with one scale each, "
                "as llama.cpp's Q8_0): fewer bytes per weight, faster decoding (docs/CLI.md)")
      ->capture_default_str();
  g->add_option("--adapter", a.adapter,
                "A LoRA adapter directory in PEFT's format (adapter_config.json, adapter_model.safetensors) to "
                "apply to the model, merged into its weights")
      ->default_str("none");
  g->add_flag("--stats", a.stats, "Print tokens/s to stderr");
  g->add_flag("--trace", a.trace,
              "Print every layer's tensor shapes and norms ((B,T,C) → (B,NH,T,hs) …) for the first two forward "
              "passes: the prompt, then one new token; the text prints at the end");
  g->add_option("--show-probs", a.show_probs,
                "Print, per generated token, the K most likely candidates with their probabilities "
                "(softmax of logits / temperature; one sample, then its text)")
      ->default_str("0 (off)");
  g->add_flag("--jsonl", a.jsonl,
              "Print only JSON lines, one per sample in order as each batch ends (no streaming): "
              "prompt, sample, text (the continuation alone), ids, prompt_ids, new_tokens, "
              "tokens_per_sec (its batch's), seed; invalid UTF-8 becomes U+FFFD (docs/CLI.md)");
  g->callback([] { run_generate(a); });
}

}  // namespace

QKV_REGISTER_COMMAND("generate", 70, add_generate_command);

}  // namespace qkv::cli
