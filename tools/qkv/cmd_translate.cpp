// `qkv translate DIR < src > hyp`: beam search with an encoder–decoder
// Transformer directory, one output line per input line, in input order.
// Internally the sentences are sorted by source length and decoded in
// batches (less padding); empty lines never reach the model.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string_view>

#include "commands.h"
#include "qkv/generate/beam.h"
#include "qkv/models/registry.h"
#include "qkv/models/transformer.h"
#include "qkv/tokenizers/tokenizer.h"

namespace qkv::cli {
namespace {

struct TranslateArgs {
  std::string dir;
  int64_t beam = 4, n_best = 1, batch_size = 32, max_tokens = 0, max_len_b = 10;
  float alpha = 0.6f, max_len_a = 1.5f;
  bool jsonl = false;
  int threads = 0;
};

void put(std::string_view s) { std::fwrite(s.data(), 1, s.size(), stdout); }

generate::BeamOptions options_from(const TranslateArgs& a, const models::Seq2SeqConfig& cfg) {
  // Checked here under the flags' names; BeamOptions::validate names its fields.
  if (a.beam < 1) throw ValueError("--beam must be >= 1");
  if (a.n_best < 1 || a.n_best > a.beam) throw ValueError("--n-best must be in [1, --beam]");
  if (a.batch_size < 1) throw ValueError("--batch-size must be >= 1");
  if (a.max_tokens < 0) throw ValueError("--max-tokens must be >= 0 (0 = no limit)");
  if (!(a.max_len_a >= 0)) throw ValueError("--max-len-a must be >= 0");
  if (a.max_len_b < 0) throw ValueError("--max-len-b must be >= 0");
  generate::BeamOptions o;
  o.beam_size = a.beam;
  o.length_penalty = a.alpha;
  o.n_best = a.n_best;
  o.max_len_a = a.max_len_a;
  o.max_len_b = a.max_len_b;
  o.max_new_tokens = cfg.max_len;  // the decoder's cache holds max_len target positions (BOS + all but the last)
  o.eos = cfg.eos_id;
  o.validate();
  return o;
}

// One output line: newlines a hypothesis may decode to would break the
// one-line-per-input promise, so they become spaces.
std::string one_line(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  std::replace(s.begin(), s.end(), '\r', ' ');
  return s;
}

void run_translate(const TranslateArgs& a) {
  if (!std::filesystem::is_directory(a.dir))
    throw IOError(a.dir + (std::filesystem::exists(a.dir) ? ": not a directory" : ": no such directory") +
                  " (expected a model directory with config.json, model.safetensors, tokenizer.json)");
  apply_threads(a.threads);
  const std::string tok_path = a.dir + "/tokenizer.json";
  if (!std::filesystem::exists(tok_path)) throw IOError(a.dir + ": missing tokenizer.json");
  auto model = models::load_model_as<models::Transformer>(a.dir, "qkv translate");
  const models::Seq2SeqConfig& cfg = model->config;
  const tokenizers::Tokenizer tok = tokenizers::Tokenizer::from_path(tok_path);
  if (tok.vocab_size() > cfg.vocab_size)
    throw ValueError(tok_path + " has " + std::to_string(tok.vocab_size()) + " tokens but config.json says vocab_size " +
                     std::to_string(cfg.vocab_size));
  const generate::BeamOptions opt = options_from(a, cfg);
  const std::vector<std::string> lines = read_stdin_lines();
  const size_t N = lines.size();

  // Sources as ids (no BOS/EOS). Positions past max_len were never trained:
  // longer sources are cut there, with a warning.
  std::vector<std::vector<int64_t>> src(N);
  for (size_t i = 0; i < N; ++i) {
    if (lines[i].empty()) continue;
    src[i] = tok.encode(lines[i]).ids;
    if (static_cast<int64_t>(src[i].size()) > cfg.max_len) {
      std::fprintf(stderr, "qkv: warning: stdin:%zu: the source has %zu tokens; truncated to max_len %ld\n", i + 1,
                   src[i].size(), static_cast<long>(cfg.max_len));
      src[i].resize(static_cast<size_t>(cfg.max_len));
    }
  }
  std::vector<bool> ready(N, false);
  size_t to_translate = 0, translated = 0, printed = 0;
  for (size_t i = 0; i < N; ++i) {
    ready[i] = src[i].empty();  // empty in, empty out
    to_translate += !ready[i];
  }
  auto flush_ready = [&](const std::vector<std::vector<generate::Hypothesis>>& hyps) {  // in input order
    for (; printed < N && ready[printed]; ++printed) {
      const auto& h = hyps[printed];
      if (a.jsonl) {
        nlohmann::ordered_json j;
        j["line"] = printed + 1;
        j["source"] = lines[printed];
        j["hypotheses"] = nlohmann::ordered_json::array();
        for (const auto& x : h)
          j["hypotheses"].push_back({{"text", tok.decode(x.tokens)}, {"score", x.score}, {"tokens", x.tokens.size()}});
        put(compact_json(j) + '\n');
      } else {
        put((h.empty() ? std::string() : one_line(tok.decode(h[0].tokens))) + '\n');
      }
    }
    std::fflush(stdout);
  };
  const bool progress = isatty(fileno(stderr)) != 0;
  flush_ready(std::vector<std::vector<generate::Hypothesis>>(N));
  // Sorted by length and batched inside; a finished batch is printed as soon
  // as every line before it is.
  const generate::SourceBatching batching{
      .pad_id = cfg.pad_id, .bos_id = cfg.bos_id, .batch_size = a.batch_size, .max_tokens = a.max_tokens};
  generate::beam_search_sources(*model, src, opt, batching, [&](const std::vector<size_t>& done, const auto& hyps) {
    for (size_t i : done) ready[i] = true;
    translated += done.size();
    flush_ready(hyps);
    if (progress) std::fprintf(stderr, "\rtranslated %zu/%zu sentences", translated, to_translate);
  });
  if (progress && to_translate > 0) std::fprintf(stderr, "\n");
  if (std::ferror(stdout) || std::fflush(stdout) != 0) throw IOError("cannot write to stdout");
}

void add_translate_command(CLI::App& app) {
  auto* t = app.add_subcommand("translate",
                               "Translate stdin line by line with an encoder-decoder Transformer directory "
                               "(beam search); one output line per input line");
  static TranslateArgs a;
  t->add_option("dir", a.dir, "Model directory (config.json with model_type transformer, model.safetensors, "
                              "tokenizer.json)")
      ->required();
  t->add_option("--beam", a.beam, "Beam size (1 = greedy)")->capture_default_str();
  t->add_option("--alpha", a.alpha, "Length penalty α of lp(n) = ((5+n)/6)^α (0 = raw log-probability)")
      ->capture_default_str();
  t->add_option("--n-best", a.n_best, "Hypotheses per line with --jsonl (plain output prints the best)")
      ->capture_default_str();
  t->add_option("--batch-size", a.batch_size, "Sentences decoded together (sorted by length)")->capture_default_str();
  t->add_option("--max-tokens", a.max_tokens, "At most this many padded source tokens per batch (0 = no limit)")
      ->capture_default_str();
  t->add_option("--max-len-a", a.max_len_a, "Length limit a·S + b new tokens (S = source tokens): a")
      ->capture_default_str();
  t->add_option("--max-len-b", a.max_len_b, "Length limit a·S + b: b")->capture_default_str();
  t->add_flag("--jsonl", a.jsonl,
              "One JSON object per input line: line (1-based), source, hypotheses [{text, score, tokens}] best "
              "first (docs/CLI.md)");
  t->add_option("--threads", a.threads, "Threads (0 = physical cores)")->capture_default_str();
  t->callback([] { run_translate(a); });
}

}  // namespace

QKV_REGISTER_COMMAND("translate", 72, add_translate_command);

}  // namespace qkv::cli
