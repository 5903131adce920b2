// `qkv bench DIR|--config NAME|FILE [-p 512] [-n 128] [-t 1,2] [--weights f32,bf16,int8] [-r 5] [--json]`:
// prompt processing (pp) and text generation (tg) speed of any model that
// decodes, with llama-bench's conventions, so the two can be read side by
// side (bench/run_prefill_decode.sh runs both):
//   ppP  one prompt of P random tokens processed in one batch from an empty
//        cache (models::Decoder::start: prefill + the last token's logits);
//   tgN  N tokens decoded one at a time from an empty cache (start on one
//        token, then N−1 steps);
// one untimed warm-up run per test, then R timed runs; each row is the mean ±
// sample standard deviation of the R runs' tokens/s. The KV cache is
// allocated by the warm-up, outside the timing (llama.cpp allocates it with
// the context). tg rows add the bytes of weights a step reads and the GB/s
// that makes; with --bandwidth, also the share of this machine's measured
// read bandwidth at the same thread count.
// Encoder–decoder models: ppP encodes a P-token source and runs the decoder's
// first position; tgN decodes against a --source-len token source.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <vector>

#include "bench_presets.h"
#include "commands.h"
#include "qkv/core/threading.h"
#include "qkv/kernels/bandwidth.h"
#include "qkv/models/causal_decoder.h"
#include "qkv/models/registry.h"

namespace qkv::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct Args {
  std::string dir, config;
  std::vector<int64_t> prompt{512}, gen{128};
  std::vector<int> threads;
  std::vector<std::string> weights{"f32"};
  int reps = 5;
  int64_t source_len = 32;
  bool json = false, bandwidth = false;
};

struct Bench {
  std::unique_ptr<models::Model> model;
  std::string name;                 // the preset, the config file or the directory
  models::Decoder* decoder = nullptr;
  models::CausalDecoderLM* causal = nullptr;  // null for encoder–decoder models
  std::string label;                // the table's model column
  int64_t context = 0;              // longest prompt the model takes (causal), 0 = no limit checked
};

Bench make_bench(const Args& a) {
  Bench b;
  if (!a.dir.empty()) {
    b.model = models::load_model(a.dir);
    b.name = a.dir;
  } else {
    Generator gen(0);
    b.model = models::create_model(bench_config(a.config), gen);
    b.model->eval();
    b.name = a.config;
  }
  // The table shows the last path component (a directory "run/" → "run");
  // JSON keeps the name as given.
  std::filesystem::path path(b.name);
  if (!path.has_filename()) path = path.parent_path();
  b.label = path.filename().empty() ? b.name : path.filename().string();
  if (b.label.size() > 24) b.label = b.label.substr(0, 21) + "...";
  b.decoder = dynamic_cast<models::Decoder*>(b.model.get());
  if (!b.decoder)
    throw ValueError(b.name + " holds a '" + b.model->model_type() +
                     "' model, which does not generate tokens (qkv bench times prefill and decoding)");
  b.causal = dynamic_cast<models::CausalDecoderLM*>(b.model.get());
  if (b.causal) b.context = b.causal->context_length();
  b.decoder->check_ready();
  return b;
}

// Random ids in [0, V), fixed by the seed.
Tensor random_ids(int64_t n, int64_t vocab, uint64_t seed) {
  Generator g(seed);
  std::vector<int64_t> v(static_cast<size_t>(n));
  for (auto& id : v) id = static_cast<int64_t>(g.next_u64() % static_cast<uint64_t>(vocab));
  return tensor_i64(v, {1, n});
}

models::DecodeInput prompt_input(const Bench& b, int64_t tokens, int64_t source_len) {
  const int64_t V = b.decoder->vocab_size();
  if (b.causal) return {.ids = random_ids(tokens, V, 1)};
  // Encoder–decoder: the source is the prompt; the decoder starts on one token.
  return {.ids = random_ids(1, V, 2), .source_ids = random_ids(source_len, V, 1),
          .source_mask = ones({1, source_len}, DType::Bool)};
}

// One timed run, in seconds.
double run_pp(const Bench& b, models::DecodeState& st, int64_t P) {
  const models::DecodeInput in = prompt_input(b, b.causal ? P : 1, P);
  const auto t0 = Clock::now();
  b.decoder->start(st, in);
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

double run_tg(const Bench& b, models::DecodeState& st, int64_t N, int64_t source_len) {
  const models::DecodeInput in = prompt_input(b, 1, source_len);
  const std::vector<int64_t> next = random_ids(N, b.decoder->vocab_size(), 3).to_int_vector();
  const auto t0 = Clock::now();
  b.decoder->start(st, in);
  for (int64_t i = 1; i < N; ++i) b.decoder->step(st, {next[static_cast<size_t>(i)]});
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

struct Row {
  std::string test;  // "pp512", "tg128"
  int64_t n_prompt = 0, n_gen = 0;
  std::vector<double> seconds;
  double tokens() const { return static_cast<double>(n_prompt + n_gen); }
  double mean_ts() const {
    double s = 0;
    for (double t : seconds) s += tokens() / t;
    return s / static_cast<double>(seconds.size());
  }
  double stddev_ts() const {  // sample standard deviation, as llama-bench
    if (seconds.size() < 2) return 0.0;
    const double m = mean_ts();
    double s = 0;
    for (double t : seconds) s += (tokens() / t - m) * (tokens() / t - m);
    return std::sqrt(s / static_cast<double>(seconds.size() - 1));
  }
};

std::string test_sizes(const Args& a, int64_t context) {
  for (int64_t p : a.prompt)
    if (p < 1 || (context > 0 && p > context))
      return "-p " + std::to_string(p) + ": prompts are 1 … " + std::to_string(context) + " tokens for this model";
  for (int64_t n : a.gen)
    if (n < 0 || (context > 0 && n > context))
      return "-n " + std::to_string(n) + ": 0 … " + std::to_string(context) + " tokens for this model";
  return "";
}

void print_header(bool with_bw) {
  std::printf("| %-24s | %9s | %9s | %-7s | %7s | %7s | %16s | %7s |%s\n", "model", "params", "read/tok", "weights",
              "threads", "test", "t/s", "GB/s", with_bw ? "    bw % |" : "");
  std::printf("| %s | %s: | %s: | %s | %s: | %s: | %s: | %s: |%s\n", std::string(24, '-').c_str(),
              std::string(8, '-').c_str(), std::string(8, '-').c_str(), std::string(7, '-').c_str(),
              std::string(6, '-').c_str(), std::string(6, '-').c_str(), std::string(15, '-').c_str(),
              std::string(6, '-').c_str(), with_bw ? " -------: |" : "");
}

void run(const Args& a) {
  if (a.dir.empty() == a.config.empty()) throw ValueError("give a model directory or --config NAME|FILE (one of them)");
  if (a.reps < 1) throw ValueError("-r must be >= 1, got " + std::to_string(a.reps));
  if (a.source_len < 1) throw ValueError("--source-len must be >= 1, got " + std::to_string(a.source_len));
  std::vector<WeightFormat> formats;
  for (const std::string& w : a.weights) {
    try {
      formats.push_back(kernels::parse_weight_format(w));
    } catch (const ValueError& e) {
      throw ValueError(std::string("--weights: ") + e.what());
    }
  }
  std::vector<int> threads = a.threads;
  if (threads.empty()) threads = {num_threads()};
  for (int t : threads) {
    if (t < 1) throw ValueError("-t: thread counts must be >= 1, got " + std::to_string(t));
    apply_threads(t);  // the same upper bound as every command's --threads
  }

  Bench b = make_bench(a);
  if (const std::string e = test_sizes(a, b.context); !e.empty()) throw ValueError(e);
  if (!b.causal && (formats.size() != 1 || formats[0] != WeightFormat::F32))
    throw ValueError("--weights: " + b.name + " is a '" + b.model->model_type() +
                     "' model, which runs with f32 weights only (bf16/int8: GPT and Llama)");
  const double params = static_cast<double>(b.model->num_parameters());
  if (!a.json) print_header(a.bandwidth);
  for (WeightFormat f : formats) {
    if (b.causal) b.causal->quantize(f);
    const double read_bytes = b.causal ? static_cast<double>(b.causal->decode_weight_bytes()) : 0.0;
    for (int t : threads) {
      set_num_threads(t);
      double bw = 0;  // best of 3 sweeps of 1 GiB
      if (a.bandwidth)
        for (double g : kernels::read_bandwidth_gbps(t)) bw = std::max(bw, g);
      std::vector<Row> rows;
      for (int64_t p : a.prompt) rows.push_back({"pp" + std::to_string(p), p, 0, {}});
      for (int64_t n : a.gen)
        if (n > 0) rows.push_back({"tg" + std::to_string(n), 0, n, {}});
      for (Row& r : rows) {
        models::DecodeState st;
        auto once = [&] { return r.n_gen > 0 ? run_tg(b, st, r.n_gen, a.source_len) : run_pp(b, st, r.n_prompt); };
        once();  // warm-up: allocations, caches, page faults
        for (int i = 0; i < a.reps; ++i) r.seconds.push_back(once());
        const double gbps = r.n_gen > 0 && read_bytes > 0 ? read_bytes * r.mean_ts() / 1e9 : 0.0;
        if (a.json) {
          std::vector<double> ns, ts;
          for (double s : r.seconds) ns.push_back(s * 1e9), ts.push_back(r.tokens() / s);
          nlohmann::ordered_json j{{"model", b.name},
                                   {"model_type", b.model->model_type()},
                                   {"n_params", b.model->num_parameters()},
                                   {"weights", kernels::weight_format_name(f)},
                                   {"n_threads", t},
                                   {"test", r.test},
                                   {"n_prompt", r.n_prompt},
                                   {"n_gen", r.n_gen},
                                   {"avg_ts", r.mean_ts()},
                                   {"stddev_ts", r.stddev_ts()},
                                   {"samples_ns", ns},
                                   {"samples_ts", ts}};
          if (r.n_gen > 0 && read_bytes > 0) j["bytes_per_token"] = read_bytes, j["gbps"] = gbps;
          if (a.bandwidth) j["read_bandwidth_gbps"] = bw;
          std::printf("%s\n", compact_json(j).c_str());
        } else {
          char ts[64], gb[16] = "", pct[16] = "";
          std::snprintf(ts, sizeof ts, "%.2f ± %.2f", r.mean_ts(), r.stddev_ts());
          if (gbps > 0) std::snprintf(gb, sizeof gb, "%.1f", gbps);
          if (gbps > 0 && bw > 0) std::snprintf(pct, sizeof pct, "%.0f %%", 100 * gbps / bw);
          std::printf("| %-24s | %7.2f M | %5.1f MiB | %-7s | %7d | %7s | %17s | %7s |", b.label.c_str(), params / 1e6,
                      read_bytes / 1048576.0, kernels::weight_format_name(f), t, r.test.c_str(), ts, gb);
          if (a.bandwidth) std::printf(" %7s |", pct);
          std::printf("\n");
        }
        std::fflush(stdout);
      }
      if (a.bandwidth && !a.json) std::printf("(read bandwidth with %d thread%s: %.1f GB/s)\n", t, t == 1 ? "" : "s", bw);
    }
  }
}

void add_bench_command(CLI::App& app) {
  auto* c = app.add_subcommand(
      "bench",
      "Prompt-processing (pp) and generation (tg) speed of a model that decodes, as llama-bench measures it: a "
      "model directory or random weights of a named shape (--config)");
  static Args a;
  c->add_option("dir", a.dir, "Model directory (qkv or Hugging Face), or none with --config");
  c->add_option("--config", a.config,
                "Random weights of a named shape (" + bench_config_names() + ") or of a config.json file")
      ->default_str("none");
  c->add_option("-p,--n-prompt", a.prompt, "Prompt lengths of the pp tests (comma-separated)")
      ->delimiter(',')
      ->capture_default_str();
  c->add_option("-n,--n-gen", a.gen, "Token counts of the tg tests (comma-separated; 0 = no tg test)")
      ->delimiter(',')
      ->capture_default_str();
  c->add_option("-t,--threads", a.threads, "Thread counts (comma-separated)")
      ->delimiter(',')
      ->default_str("physical cores");
  c->add_option("--weights", a.weights, "Weight formats: f32, bf16, int8 (comma-separated)")
      ->delimiter(',')
      ->capture_default_str();
  c->add_option("-r,--repetitions", a.reps, "Timed runs per test (after one warm-up)")->capture_default_str();
  c->add_option("--source-len", a.source_len, "Encoder–decoder models: source tokens of the tg tests")
      ->capture_default_str();
  c->add_flag("--bandwidth", a.bandwidth,
              "Also measure this machine's read bandwidth (1 GiB streamed) and show tg's share of it");
  c->add_flag("--json", a.json, "One JSON object per row (JSON lines), with every sample");
  c->callback([] { run(a); });
}

}  // namespace

QKV_REGISTER_COMMAND("bench", 78, add_bench_command);

}  // namespace qkv::cli
