// qkv_bench_gpt — qkv's side of the GPT benchmarks (issue 3, "Targets"):
// a whole training step and generation, next to the PyTorch peer
// bench/peers/torch_gpt.py (same cases, shapes and JSON lines); bench/run_gpt.sh
// runs both in one command and prints ratios with bench/compare.py.
//
//   qkv_bench_gpt --threads N [--json] [--reps R] [--gen-reps G] [--configs nanogpt,gpt2]
//                 [--gen-modes kv_cache,no_cache] [--new-tokens 128] [--weights f32,bf16,int8]
//                 [--pos learned,rope,alibi,…] [--prompt-len 1024] CASE...
//   --pos runs every case once per position method (GPTConfig.pos_encoding);
//   shapes of the non-learned runs end in the method's name.
//                 (--gen-modes and --new-tokens: for profiling)
//   CASE: train_step generate gqa_decode rss   (rss must be the only case: run it as its own process)
//
//   train_step  one step = zero_grad + forward + cross-entropy + backward +
//               clip_grad_norm(1.0) + AdamW(lr 1e-3, β 0.9/0.99, wd 0.1 on
//               matmul weights) on a random token batch (4 pre-drawn batches
//               cycled), for
//                 nanogpt: V65 L4 H4 C128 block 64, batch 12 × 64 (nanoGPT's CPU config)
//                 gpt2:    V50257 L12 H12 C768 block 1024, batch 4 × 64 (GPT-2 124M)
//               ms/step and tokens/s = B·T / time.
//   generate    gpt2 shape, 16-token prompt, 128 new tokens, greedy, with the KV
//               cache and without (use_cache=false: the whole context is re-run
//               per token); tokens/s = 128 / time of the whole generate() call.
//               With the cache, once per weight format in --weights (default
//               f32): GPT::quantize(bf16 | int8) before timing (shape "… kv_cache
//               int8"; f32 keeps the plain name for bench/compare.py).
//   gqa_decode  grouped-query attention's saving (issue #11): a Llama (V1024
//               L4 C512, 8 query heads of 64, SwiGLU 1376) with
//               num_key_value_heads 8 (MHA), 2 (n_head/4) and 1 (MQA) at the
//               same size; prefill a --prompt-len token prompt (default 1024),
//               then greedy steps of --new-tokens (default 128) over the KV
//               cache. Reports ms per decoded token (prefill excluded), the KV
//               cache's bytes at the last step (L · 2 · S · n_kv · hs · 4) and
//               its allocated capacity.
//   rss         peak RSS (getrusage ru_maxrss) of this process after building
//               the gpt2 model + AdamW and doing R training steps; also the
//               RSS at start (rss_start_mb), before anything was built.
//
// Timing: warm-up (2 steps / 1 short generation), then R samples; a sample of
// the small config repeats the step until it lasts ≥ 200 ms (per-step time =
// sample / repeats). ms_best = minimum, ms_median = median.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "qkv/generate/generate.h"
#include "qkv/models/gpt.h"
#include "qkv/models/llama.h"
#include "qkv/nn/param_groups.h"
#include "qkv/ops/quantized.h"
#include "qkv/optim/adam.h"
#include "qkv/optim/clip.h"
#include "qkv/optim/optimizer.h"
#include "bench_util.h"
#include "qkv/qkv.h"

using namespace qkv;
using Clock = std::chrono::steady_clock;

namespace {

bool g_json = false;
int g_threads = 1;
int g_reps = 5;
int g_gen_reps = 3;
std::string g_configs = "nanogpt,gpt2";
std::string g_gen_modes = "kv_cache,no_cache";  // for profiling one mode alone
std::string g_weights = "f32";                  // weight formats of the kv_cache generation
int64_t g_new_tokens = 128;
std::string g_pos = "learned";                  // pos_encoding of every model (comma-separated: one run each)
int64_t g_prompt_len = 1024;                    // gqa_decode: prompt tokens before the timed steps

using bench::Timing;

double now_ms(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

using bench::time_it;
void bench_generate_one(const std::string& pos);

double maxrss_mb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024.0;  // Linux: KiB
}

double current_rss_mb() {
  long pages_total = 0, pages_res = 0;
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (f) {
    if (std::fscanf(f, "%ld %ld", &pages_total, &pages_res) != 2) pages_res = 0;
    std::fclose(f);
  }
  return pages_res * 4096.0 / (1024.0 * 1024.0);
}

void report(const std::string& c, const std::string& shape, Timing t, const std::string& extra_json,
            const std::string& extra_text) {
  bench::report(g_json, g_threads, c, shape, t, extra_json, extra_text, 12, 36);
}

struct Setup {
  const char* name;
  models::GPTConfig cfg;
  int64_t B, T;
};

std::vector<std::string> positions() {
  std::vector<std::string> out;
  for (size_t a = 0, b; a <= g_pos.size(); a = b + 1) {
    b = std::min(g_pos.find(',', a), g_pos.size());
    if (b > a) out.push_back(g_pos.substr(a, b - a));
  }
  return out;
}

Setup setup_for(const std::string& name, const std::string& pos = "learned") {
  models::GPTConfig c;
  c.pos_encoding = pos;
  if (name == "nanogpt") {
    c.vocab_size = 65, c.n_layer = 4, c.n_head = 4, c.n_embd = 128, c.block_size = 64;
    return {"nanogpt", c, 12, 64};
  }
  c.vocab_size = 50257, c.n_layer = 12, c.n_head = 12, c.n_embd = 768, c.block_size = 1024;
  return {"gpt2", c, 4, 64};
}

// Shapes of learned-position models keep their names (peers compare by shape).
std::string pos_suffix(const std::string& pos) { return pos == "learned" ? "" : " " + pos; }

std::string shape_of(const Setup& s) {
  char buf[128];
  std::snprintf(buf, sizeof buf, "%s V%ld L%ld C%ld B%ld T%ld", s.name, (long)s.cfg.vocab_size, (long)s.cfg.n_layer,
                (long)s.cfg.n_embd, (long)s.B, (long)s.T);
  return std::string(buf) + pos_suffix(s.cfg.pos_encoding);
}

// The model, its optimizer and a few random batches; step() is one training step.
struct Trainer {
  Setup s;
  Generator gen{1337};
  models::GPT model;
  optim::AdamW opt;
  std::vector<std::pair<Tensor, Tensor>> batches;
  size_t next = 0;
  explicit Trainer(const Setup& su)
      : s(su), model(su.cfg, gen), opt(nn::decay_groups(model, 0.1f), 1e-3f, 0.9f, 0.99f) {
    Generator data_gen(0);
    for (int i = 0; i < 4; ++i)
      batches.emplace_back(randint(0, s.cfg.vocab_size, {s.B, s.T}, data_gen),
                           randint(0, s.cfg.vocab_size, {s.B, s.T}, data_gen));
  }
  float step() {
    auto& [x, y] = batches[next++ % batches.size()];
    opt.zero_grad();
    Tensor loss = models::GPT::loss(model.forward(x, gen), y);
    loss.backward();
    optim::clip_grad_norm(model.parameters(), 1.0f);
    opt.step();
    return loss.item();
  }
};

std::vector<std::string> configs() {
  std::vector<std::string> out;
  for (const char* n : {"nanogpt", "gpt2"})
    if (g_configs.find(n) != std::string::npos) out.push_back(n);
  return out;
}

void bench_train_step() {
  for (const auto& name : configs())
    for (const auto& pos : positions()) {
    Trainer tr(setup_for(name, pos));
    bool small = name == "nanogpt";
    Timing t = time_it([&] { tr.step(); }, 2, g_reps, small ? 200.0 : 0.0);
    double tokens = static_cast<double>(tr.s.B * tr.s.T);
    char ej[200], et[120];
    std::snprintf(ej, sizeof ej, ",\"tokens_per_sec\":%.1f,\"tokens_per_sec_median\":%.1f,\"rss_mb\":%.1f",
                  tokens / t.best * 1e3, tokens / t.median * 1e3, maxrss_mb());
    std::snprintf(et, sizeof et, "%.0f tokens/s (best)", tokens / t.best * 1e3);
    report("train_step", shape_of(tr.s), t, ej, et);
    }
}

void bench_generate() {
  for (const auto& pos : positions()) bench_generate_one(pos);
}

void bench_generate_one(const std::string& pos) {
  Setup s = setup_for("gpt2", pos);
  Generator gen(1337);
  models::GPT model(s.cfg, gen);
  model.eval();
  Generator pg(0);
  Tensor p = randint(0, s.cfg.vocab_size, {16}, pg);
  std::vector<int64_t> prompt(p.data<int64_t>(), p.data<int64_t>() + 16);
  const int64_t n_new = g_new_tokens;
  struct Run {
    bool cache;
    WeightFormat format;
  };
  std::vector<Run> runs;
  if (g_gen_modes.find("kv_cache") != std::string::npos)
    for (const char* f : {"f32", "bf16", "int8"})
      if (g_weights.find(f) != std::string::npos) runs.push_back({true, kernels::parse_weight_format(f)});
  if (g_gen_modes.find("no_cache") != std::string::npos) runs.push_back({false, WeightFormat::F32});
  for (const Run& run : runs) {
    model.quantize(run.format);
    generate::GenerateOptions opt;
    opt.max_new_tokens = n_new;
    opt.sampling.temperature = 0.0f;  // greedy
    opt.use_cache = run.cache;
    generate::GenerateOptions warm = opt;
    warm.max_new_tokens = 8;
    std::vector<double> samples;
    size_t produced = 0;
    {
      NoGradGuard ng;
      generate::generate(model, {prompt}, warm, gen);
    }
    for (int r = 0; r < g_gen_reps; ++r) {
      NoGradGuard ng;
      auto t0 = Clock::now();
      auto out = generate::generate(model, {prompt}, opt, gen);
      samples.push_back(now_ms(t0));
      produced = out[0].size() - prompt.size();
    }
    Timing t = bench::summarize(samples);
    char ej[200], et[120], shape[128];
    const std::string fmt = run.format == WeightFormat::F32 ? "" : std::string(" ") + kernels::weight_format_name(run.format);
    std::snprintf(shape, sizeof shape, "gpt2 prompt16 new%ld %s%s%s", (long)n_new, run.cache ? "kv_cache" : "no_cache",
                  fmt.c_str(), pos_suffix(pos).c_str());
    std::snprintf(ej, sizeof ej, ",\"tokens_per_sec\":%.2f,\"tokens_per_sec_median\":%.2f,\"new_tokens\":%zu",
                  n_new / t.best * 1e3, n_new / t.median * 1e3, produced);
    std::snprintf(et, sizeof et, "%.2f tokens/s (best)", n_new / t.best * 1e3);
    report("generate", shape, t, ej, et);
  }
  model.quantize(WeightFormat::F32);
}

// Greedy decoding of one sequence over the KV cache: ms per step after a
// prompt of g_prompt_len tokens, for MHA, GQA (n_head/4) and MQA.
void bench_gqa_decode() {
  const int64_t n_new = g_new_tokens, P = g_prompt_len;
  for (int64_t n_kv : {8, 2, 1}) {
    models::LlamaConfig c;
    c.vocab_size = 1024, c.hidden_size = 512, c.intermediate_size = 1376, c.num_hidden_layers = 4;
    c.num_attention_heads = 8, c.num_key_value_heads = n_kv, c.max_position_embeddings = P + n_new;
    Generator gen(1337);
    models::Llama model(c, gen);
    model.eval();
    Generator pg(0);
    const Tensor prompt = randint(0, c.vocab_size, {1, P}, pg);
    std::vector<double> samples;
    int64_t kv_bytes = 0, capacity_bytes = 0;
    for (int r = 0; r < g_gen_reps + 1; ++r) {  // the first run is the warm-up
      NoGradGuard ng;
      models::DecodeState st;
      Tensor logits = model.start(st, {.ids = prompt});
      const auto t0 = Clock::now();
      for (int64_t i = 0; i < n_new; ++i) logits = model.step(st, {argmax(logits, -1).to_int_vector()[0]});
      if (r > 0) samples.push_back(now_ms(t0) / static_cast<double>(n_new));
      for (int64_t l = 0; l < st.cache.num_layers(); ++l) {
        const nn::LayerKV& kv = st.cache.layer(l);
        if (l == 0) kv_bytes = capacity_bytes = 0;
        kv_bytes += 2 * kv.len * kv.k.size(2) * static_cast<int64_t>(sizeof(float));  // k and v, batch 1
        capacity_bytes += 2 * kv.capacity() * kv.k.size(2) * static_cast<int64_t>(sizeof(float));
      }
    }
    Timing t = bench::summarize(samples);
    char ej[240], et[160], shape[128];
    std::snprintf(shape, sizeof shape, "llama L4 C512 H8 kv%ld prompt%ld new%ld", (long)n_kv, (long)P, (long)n_new);
    std::snprintf(ej, sizeof ej, ",\"ms_per_token\":%.3f,\"kv_cache_bytes\":%ld,\"kv_capacity_bytes\":%ld,\"n_kv_head\":%ld",
                  t.best, (long)kv_bytes, (long)capacity_bytes, (long)n_kv);
    std::snprintf(et, sizeof et, "%.2f ms/token (best), KV cache %.2f MB read per step", t.best, kv_bytes / 1048576.0);
    report("gqa_decode", shape, t, ej, et);
  }
}

void bench_rss() {
  double start = current_rss_mb();
  Trainer tr(setup_for("gpt2"));
  std::vector<double> samples;
  for (int r = 0; r < g_reps; ++r) {
    auto t0 = Clock::now();
    tr.step();
    samples.push_back(now_ms(t0));
  }
  Timing t = bench::summarize(samples);
  char ej[160], et[120];
  std::snprintf(ej, sizeof ej, ",\"rss_mb\":%.1f,\"rss_start_mb\":%.1f,\"steps\":%d", maxrss_mb(), start, g_reps);
  std::snprintf(et, sizeof et, "peak RSS %.1f MB (at start %.1f MB), %d steps", maxrss_mb(), start, g_reps);
  report("rss", shape_of(tr.s), t, ej, et);
}

}  // namespace

int main(int argc, char** argv) {
  ensure_wait_policy(argv);
  std::vector<std::string> cases;
  for (int i = 1; i < argc; ++i) {
    std::string s = argv[i];
    if (s == "--json") g_json = true;
    else if (s == "--threads" && i + 1 < argc) g_threads = std::atoi(argv[++i]);
    else if (s == "--reps" && i + 1 < argc) g_reps = std::atoi(argv[++i]);
    else if (s == "--gen-reps" && i + 1 < argc) g_gen_reps = std::atoi(argv[++i]);
    else if (s == "--configs" && i + 1 < argc) g_configs = argv[++i];
    else if (s == "--gen-modes" && i + 1 < argc) g_gen_modes = argv[++i];
    else if (s == "--new-tokens" && i + 1 < argc) g_new_tokens = std::atoll(argv[++i]);
    else if (s == "--weights" && i + 1 < argc) g_weights = argv[++i];
    else if (s == "--pos" && i + 1 < argc) g_pos = argv[++i];
    else if (s == "--prompt-len" && i + 1 < argc) g_prompt_len = std::atoll(argv[++i]);
    else if (s == "-h" || s == "--help") {
      std::printf("usage: qkv_bench_gpt --threads N [--json] [--reps R] [--gen-reps G] [--configs nanogpt,gpt2]\n"
                  "       [--gen-modes kv_cache,no_cache] [--new-tokens 128] [--weights f32,bf16,int8]\n"
                  "       [--pos learned,rope,alibi,sinusoidal,none] [--prompt-len 1024] CASE...\n"
                  "CASE: train_step generate rss (rss alone, in its own process)\n");
      return 0;
    } else cases.push_back(s);
  }
  if (g_threads < 1 || g_reps < 1 || g_gen_reps < 1 || g_new_tokens < 1 || g_new_tokens > 1000) {
    std::fprintf(stderr, "qkv_bench_gpt: --threads, --reps, --gen-reps must be >= 1, --new-tokens in 1..1000\n");
    return 1;
  }
  for (size_t a = 0, b; a <= g_weights.size(); a = b + 1) {  // every --weights entry must parse
    b = std::min(g_weights.find(',', a), g_weights.size());
    try {
      kernels::parse_weight_format(g_weights.substr(a, b - a));
    } catch (const Error& e) {
      std::fprintf(stderr, "qkv_bench_gpt: --weights: %s\n", e.what());
      return 1;
    }
  }
  if (cases.empty()) cases = {"train_step", "generate"};
  if (std::find(cases.begin(), cases.end(), "rss") != cases.end() && cases.size() > 1) {
    std::fprintf(stderr, "qkv_bench_gpt: run 'rss' alone (its own process) so the peak is only that workload\n");
    return 1;
  }
  set_num_threads(g_threads);
  for (const auto& c : cases) {
    if (c == "train_step") bench_train_step();
    else if (c == "generate") bench_generate();
    else if (c == "gqa_decode") bench_gqa_decode();
    else if (c == "rss") bench_rss();
    else {
      std::fprintf(stderr, "qkv_bench_gpt: unknown case '%s'\n", c.c_str());
      return 1;
    }
  }
  return 0;
}
