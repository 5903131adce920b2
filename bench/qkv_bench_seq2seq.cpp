// qkv_bench_seq2seq — qkv's side of the encoder–decoder Transformer benchmark
// (issue: "a training step and greedy / beam-4 decoding (sentences/s on
// test2016) against the same model in PyTorch"), next to the peer
// bench/peers/torch_seq2seq.py; bench/run_seq2seq.sh runs both in one command
// and prints ratios with bench/compare.py.
//
//   qkv_bench_seq2seq --model DIR --src FILE --tgt FILE --dump OUT [--config CFG.json]
//                     [--threads N] [--json] [--reps R] [--dec-reps D] [--max-tokens 4096]
//                     [--train-batches 4] [--sentences 0] [--batch-size 32] [--beams 1,4]
//                     [--parity 20] [--lr 1e-4] CASE...
//   CASE: train_step decode  (default both)
//
//   --model DIR   a model directory (config.json, model.safetensors, tokenizer.json):
//                 its weights are benchmarked. With --config CFG.json the weights are
//                 instead a fresh random model (seed 1337) of that config, and DIR
//                 only gives tokenizer.json (for tiny test runs).
//   --dump OUT    written before any timing: OUT/config.json + OUT/model.safetensors
//                 (the exact weights benchmarked) and OUT/inputs.safetensors (every
//                 token-id batch used, the decoding settings, the shape strings, and
//                 qkv's best ids of the first --parity sentences for each beam size in
//                 --beams), so the peer
//                 runs on identical weights and inputs; also the eval-mode loss of the
//                 first training batch (metadata parity.loss0), for the peer to match.
//
//   train_step  (on a copy of the model: decoding always sees the loaded weights)
//               one step = zero_grad + Transformer::forward (training mode: the
//               config's dropout) + label-smoothed (0.1) cross-entropy + backward +
//               Adam (lr --lr constant, β 0.9/0.98, ε 1e-9; no weight decay, no
//               clipping). Batches: the --src/--tgt pairs tokenized (no BOS/EOS,
//               cut to max_len − 1), sorted by (source, target) length and cut
//               greedily at --max-tokens padded tokens per batch, max(rows × S,
//               rows × (T + 1)) as train::TranslationTask counts them; --train-batches
//               of them, evenly spaced over the lengths, make one sample (one step
//               each). ms per step = sample / batches; tokens/s = target tokens
//               (labels, EOS included) of the sample / its time.
//   decode      the first --sentences sources (0 = all) translated as `qkv
//               translate` does: sorted by length, batches of --batch-size,
//               generate::beam_search with α 0.6, max length 1.5·S + 10, capped by
//               max_len, KV cache; once per beam size in --beams (1 = greedy: case
//               "greedy", K: case "beamK"). sentences/s = N / time of all batches.
//
// Timing: warm-up (2 training steps / one decoding batch), then R samples;
// ms_best = minimum, ms_median = median (bench/bench_util.h).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "bench_util.h"
#include "qkv/generate/beam.h"
#include "qkv/io/safetensors.h"
#include "qkv/models/registry.h"
#include "qkv/models/transformer.h"
#include "qkv/optim/adam.h"
#include "qkv/qkv.h"
#include "qkv/tokenizers/tokenizer.h"

using namespace qkv;
using Clock = std::chrono::steady_clock;

namespace {

struct Args {
  std::string model_dir, config, src, tgt, dump;
  bool json = false;
  int threads = 1, reps = 5, dec_reps = 3;
  int64_t max_tokens = 4096, train_batches = 4, sentences = 0, batch_size = 32, parity = 20;
  std::string beams = "1,4";
  float lr = 1e-4f;
  float label_smoothing = 0.1f, alpha = 0.6f, max_len_a = 1.5f;
  int64_t max_len_b = 10;
} A;

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw IOError(path + ": cannot open");
  std::vector<std::string> out;
  for (std::string line; std::getline(f, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    out.push_back(line);
  }
  return out;
}

std::vector<int64_t> parse_list(const std::string& s) {
  std::vector<int64_t> out;
  for (size_t a = 0, b; a <= s.size(); a = b + 1) {
    b = std::min(s.find(',', a), s.size());
    if (b > a) out.push_back(std::atoll(s.substr(a, b - a).c_str()));
  }
  return out;
}

// One teacher-forced batch, as data::Seq2SeqCollator builds it: source
// right-padded, decoder input BOS + y, labels y + EOS, −100 at padding.
struct TrainBatch {
  Tensor src, src_mask, tgt_in, tgt_mask, labels;
  int64_t target_tokens = 0;
};

TrainBatch collate(const std::vector<std::vector<int64_t>>& srcs, const std::vector<std::vector<int64_t>>& tgts,
                   const std::vector<size_t>& rows, const models::Seq2SeqConfig& cfg) {
  const int64_t B = static_cast<int64_t>(rows.size());
  int64_t S = 0, T = 0;
  for (size_t r : rows) {
    S = std::max<int64_t>(S, static_cast<int64_t>(srcs[r].size()));
    T = std::max<int64_t>(T, static_cast<int64_t>(tgts[r].size()) + 1);
  }
  std::vector<int64_t> src(B * S, cfg.pad_id), tin(B * T, cfg.pad_id), lab(B * T, -100);
  std::vector<bool> sm(B * S, false), tm(B * T, false);
  TrainBatch tb;
  for (int64_t b = 0; b < B; ++b) {
    const auto& s = srcs[rows[b]];
    const auto& y = tgts[rows[b]];
    for (size_t i = 0; i < s.size(); ++i) src[b * S + i] = s[i], sm[b * S + i] = true;
    tin[b * T] = cfg.bos_id, tm[b * T] = true;
    for (size_t i = 0; i < y.size(); ++i) {
      tin[b * T + 1 + i] = y[i], tm[b * T + 1 + i] = true;
      lab[b * T + i] = y[i];
    }
    lab[b * T + static_cast<int64_t>(y.size())] = cfg.eos_id;
    tb.target_tokens += static_cast<int64_t>(y.size()) + 1;
  }
  tb.src = tensor_i64(src, {B, S});
  tb.src_mask = tensor_bool(sm, {B, S});
  tb.tgt_in = tensor_i64(tin, {B, T});
  tb.tgt_mask = tensor_bool(tm, {B, T});
  tb.labels = tensor_i64(lab, {B, T});
  return tb;
}

// The pairs sorted by length and cut at the token budget; `count` batches
// evenly spaced over that list (short, middle and long sentences).
std::vector<TrainBatch> train_batches(const std::vector<std::vector<int64_t>>& srcs,
                                      const std::vector<std::vector<int64_t>>& tgts, const models::Seq2SeqConfig& cfg) {
  std::vector<size_t> order(srcs.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) {
    return std::make_pair(srcs[x].size(), tgts[x].size()) < std::make_pair(srcs[y].size(), tgts[y].size());
  });
  std::vector<std::vector<size_t>> all;
  std::vector<size_t> cur;
  int64_t S = 0, T = 0;
  for (size_t r : order) {
    const int64_t s2 = std::max<int64_t>(S, static_cast<int64_t>(srcs[r].size()));
    const int64_t t2 = std::max<int64_t>(T, static_cast<int64_t>(tgts[r].size()) + 1);
    const int64_t n = static_cast<int64_t>(cur.size()) + 1;
    if (!cur.empty() && std::max(n * s2, n * t2) > A.max_tokens) {
      all.push_back(cur);
      cur.clear();
      S = T = 0;
    }
    cur.push_back(r);
    S = std::max<int64_t>(S, static_cast<int64_t>(srcs[r].size()));
    T = std::max<int64_t>(T, static_cast<int64_t>(tgts[r].size()) + 1);
  }
  if (!cur.empty()) all.push_back(cur);
  const int64_t K = std::min<int64_t>(A.train_batches, static_cast<int64_t>(all.size()));
  std::vector<TrainBatch> out;
  for (int64_t k = 0; k < K; ++k) {
    // Centres of K equal slices of the length-sorted batches.
    const size_t idx = static_cast<size_t>((2 * k + 1) * static_cast<int64_t>(all.size()) / (2 * K));
    out.push_back(collate(srcs, tgts, all[idx], cfg));
  }
  return out;
}

// The decoding batches, as cmd_translate.cpp forms them.
struct DecodeBatch {
  models::DecodeInput in;
  std::vector<size_t> lines;  // input line of each row
};

std::vector<DecodeBatch> decode_batches(const std::vector<std::vector<int64_t>>& srcs, size_t n,
                                        const models::Seq2SeqConfig& cfg, std::vector<size_t>& order) {
  order.clear();
  for (size_t i = 0; i < n; ++i)
    if (!srcs[i].empty()) order.push_back(i);
  std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) { return srcs[x].size() < srcs[y].size(); });
  std::vector<DecodeBatch> out;
  for (size_t start = 0; start < order.size(); start += static_cast<size_t>(A.batch_size)) {
    const size_t end = std::min(order.size(), start + static_cast<size_t>(A.batch_size));
    const int64_t B = static_cast<int64_t>(end - start);
    int64_t S = 0;
    for (size_t k = start; k < end; ++k) S = std::max<int64_t>(S, static_cast<int64_t>(srcs[order[k]].size()));
    std::vector<int64_t> ids(B * S, cfg.pad_id);
    std::vector<bool> real(B * S, false);
    DecodeBatch db;
    for (int64_t b = 0; b < B; ++b) {
      const auto& s = srcs[order[start + b]];
      std::copy(s.begin(), s.end(), ids.begin() + b * S);
      std::fill(real.begin() + b * S, real.begin() + b * S + static_cast<int64_t>(s.size()), true);
      db.lines.push_back(order[start + b]);
    }
    db.in = {.ids = tensor_i64(std::vector<int64_t>(B, cfg.bos_id), {B, 1}),
             .source_ids = tensor_i64(ids, {B, S}),
             .source_mask = tensor_bool(real, {B, S})};
    out.push_back(std::move(db));
  }
  return out;
}

generate::BeamOptions beam_options(int64_t K, const models::Seq2SeqConfig& cfg) {
  generate::BeamOptions o;  // qkv translate's defaults
  o.beam_size = K;
  o.length_penalty = A.alpha;
  o.max_len_a = A.max_len_a;
  o.max_len_b = A.max_len_b;
  o.max_new_tokens = cfg.max_len;
  o.eos = cfg.eos_id;
  return o;
}

// Best hypothesis ids per input line (empty for lines not decoded).
std::vector<std::vector<int64_t>> decode_all(const models::Transformer& model, const std::vector<DecodeBatch>& batches,
                                             const generate::BeamOptions& opt, size_t n_lines) {
  std::vector<std::vector<int64_t>> hyp(n_lines);
  for (const DecodeBatch& db : batches) {
    auto out = generate::beam_search(model, db.in, opt);
    for (size_t b = 0; b < db.lines.size(); ++b) hyp[db.lines[b]] = out[b].empty() ? std::vector<int64_t>{} : out[b][0].tokens;
  }
  return hyp;
}

std::string fmt(const char* f, auto... v) {
  char buf[256];
  std::snprintf(buf, sizeof buf, f, v...);
  return buf;
}

void report(const std::string& c, const std::string& shape, bench::Timing t, const std::string& ej,
            const std::string& et) {
  bench::report(A.json, A.threads, c, shape, t, ej, et, 12, 44);
}

int run(const std::vector<std::string>& cases) {
  set_num_threads(A.threads);
  const std::string tok_path = A.model_dir + "/tokenizer.json";
  const tokenizers::Tokenizer tok = tokenizers::Tokenizer::from_path(tok_path);
  // The same weights every call: train_step trains a model of its own, so
  // decoding (and the dump) always sees the weights as loaded.
  auto make_model = [&]() -> std::unique_ptr<models::Transformer> {
    if (A.config.empty()) return models::load_model_as<models::Transformer>(A.model_dir, "qkv_bench_seq2seq");
    std::ifstream f(A.config);
    if (!f) throw IOError(A.config + ": cannot open");
    const auto c = models::Seq2SeqConfig::from_json(nlohmann::json::parse(f));
    Generator g(1337);
    return std::make_unique<models::Transformer>(c, g);
  };
  std::unique_ptr<models::Transformer> model = make_model();
  const models::Seq2SeqConfig& cfg = model->config;
  if (tok.vocab_size() > cfg.vocab_size)
    throw ValueError(tok_path + " has more tokens than the model's vocab_size " + std::to_string(cfg.vocab_size));

  const auto src_lines = read_lines(A.src), tgt_lines = read_lines(A.tgt);
  if (src_lines.size() != tgt_lines.size())
    throw ValueError(A.src + " and " + A.tgt + " differ in line count");
  const size_t N = A.sentences > 0 ? std::min<size_t>(src_lines.size(), static_cast<size_t>(A.sentences))
                                   : src_lines.size();
  std::vector<std::vector<int64_t>> srcs(src_lines.size()), tgts(tgt_lines.size());
  for (size_t i = 0; i < src_lines.size(); ++i) {
    srcs[i] = tok.encode(src_lines[i]).ids;
    tgts[i] = tok.encode(tgt_lines[i]).ids;
    // Positions past max_len were never trained (qkv translate cuts there); a
    // target keeps room for its BOS / EOS.
    if (static_cast<int64_t>(srcs[i].size()) > cfg.max_len) srcs[i].resize(cfg.max_len);
    if (static_cast<int64_t>(tgts[i].size()) > cfg.max_len - 1) tgts[i].resize(cfg.max_len - 1);
  }
  // Training pairs: both sides non-empty.
  std::vector<std::vector<int64_t>> tr_src, tr_tgt;
  for (size_t i = 0; i < srcs.size(); ++i)
    if (!srcs[i].empty() && !tgts[i].empty()) tr_src.push_back(srcs[i]), tr_tgt.push_back(tgts[i]);
  const std::vector<TrainBatch> tbs = train_batches(tr_src, tr_tgt, cfg);
  std::vector<size_t> order;
  const std::vector<DecodeBatch> dbs = decode_batches(srcs, N, cfg, order);
  const std::vector<int64_t> beams = parse_list(A.beams);

  const std::string model_shape = fmt("V%ld C%ld L%ld+%ld", (long)cfg.vocab_size, (long)cfg.d_model,
                                      (long)cfg.n_encoder_layers, (long)cfg.n_decoder_layers);
  const std::string train_shape = model_shape + fmt(" tok%ld x%zu", (long)A.max_tokens, tbs.size());
  auto decode_case = [](int64_t K) { return K == 1 ? std::string("greedy") : "beam" + std::to_string(K); };
  auto decode_shape = [&](int64_t K) {
    return model_shape + fmt(" N%zu B%ld", order.size(), (long)A.batch_size) + (K == 1 ? "" : fmt(" K%ld", (long)K));
  };

  // The exact inputs, weights and qkv's greedy ids, for the peer.
  if (!A.dump.empty()) {
    std::filesystem::create_directories(A.dump);
    models::save_model(A.dump, *model, 0);
    std::vector<std::pair<std::string, Tensor>> t;
    for (size_t k = 0; k < tbs.size(); ++k) {
      const std::string p = "train." + std::to_string(k) + ".";
      t.push_back({p + "src_ids", tbs[k].src});
      t.push_back({p + "src_mask", tbs[k].src_mask});
      t.push_back({p + "tgt_in", tbs[k].tgt_in});
      t.push_back({p + "tgt_mask", tbs[k].tgt_mask});
      t.push_back({p + "labels", tbs[k].labels});
    }
    std::vector<int64_t> lines;
    for (size_t k = 0; k < dbs.size(); ++k) {
      const std::string p = "decode." + std::to_string(k) + ".";
      t.push_back({p + "src_ids", dbs[k].in.source_ids});
      t.push_back({p + "src_mask", dbs[k].in.source_mask});
      for (size_t l : dbs[k].lines) lines.push_back(static_cast<int64_t>(l));
    }
    t.push_back({"decode.lines", tensor_i64(lines, {static_cast<int64_t>(lines.size())})});
    // qkv's best ids for the first --parity input lines, per beam size (not timed).
    if (A.parity > 0) {
      model->eval();
      const size_t P = std::min<size_t>(N, static_cast<size_t>(A.parity));
      std::vector<size_t> porder;
      auto pb = decode_batches(srcs, P, cfg, porder);
      for (int64_t K : beams) {
        std::vector<int64_t> flat, offsets{0};
        auto hyp = decode_all(*model, pb, beam_options(K, cfg), P);
        for (size_t i = 0; i < P; ++i) {
          flat.insert(flat.end(), hyp[i].begin(), hyp[i].end());
          offsets.push_back(static_cast<int64_t>(flat.size()));
        }
        if (flat.empty()) flat.push_back(-1);  // no empty tensor in the file; the offsets say 0 tokens
        const std::string p = "parity." + decode_case(K) + ".";
        t.push_back({p + "ids", tensor_i64(flat, {static_cast<int64_t>(flat.size())})});
        t.push_back({p + "offsets", tensor_i64(offsets, {static_cast<int64_t>(offsets.size())})});
      }
    }
    // The label-smoothed loss of the first training batch in eval mode (no
    // dropout): the peer's must match it (a check of the weights and the loss).
    std::string loss0 = "";
    if (!tbs.empty()) {
      model->eval();
      NoGradGuard ng;
      Generator g0(0);
      const TrainBatch& b = tbs.front();
      loss0 = fmt("%.9g", models::Transformer::loss(model->forward(b.src, b.src_mask, b.tgt_in, b.tgt_mask, g0),
                                                     b.labels, A.label_smoothing)
                              .item());
    }
    std::map<std::string, std::string> meta{
        {"parity.loss0", loss0},
        {"generator", "bench/qkv_bench_seq2seq.cpp"},
        {"train_batches", std::to_string(tbs.size())},
        {"decode_batches", std::to_string(dbs.size())},
        {"batch_size", std::to_string(A.batch_size)},
        {"label_smoothing", fmt("%.9g", A.label_smoothing)},
        {"lr", fmt("%.9g", A.lr)},
        {"alpha", fmt("%.9g", A.alpha)},
        {"max_len_a", fmt("%.9g", A.max_len_a)},
        {"max_len_b", std::to_string(A.max_len_b)},
        {"max_new_tokens", std::to_string(cfg.max_len)},
        {"shape.train_step", train_shape}};
    for (int64_t K : beams) meta["shape." + decode_case(K)] = decode_shape(K);
    io::save_safetensors(A.dump + "/inputs.safetensors", t, meta);
  }

  for (const std::string& c : cases) {
    if (c == "train_step") {
      std::unique_ptr<models::Transformer> trained = make_model();
      trained->train();
      std::vector<ParamGroup> groups{{.params = trained->parameters()}};
      optim::Adam opt(groups, A.lr, 0.9f, 0.98f, 1e-9f);
      Generator drop_gen(7);
      int64_t tokens = 0;
      for (const auto& b : tbs) tokens += b.target_tokens;
      auto step = [&](const TrainBatch& b) {
        opt.zero_grad();
        Tensor logits = trained->forward(b.src, b.src_mask, b.tgt_in, b.tgt_mask, drop_gen);
        Tensor loss = models::Transformer::loss(logits, b.labels, A.label_smoothing);
        loss.backward();
        opt.step();
        return loss.item();
      };
      for (size_t w = 0; w < std::min<size_t>(2, tbs.size()); ++w) step(tbs[w]);  // warm-up
      std::vector<double> samples;
      float last = 0;
      for (int r = 0; r < A.reps; ++r) {
        const auto t0 = Clock::now();
        for (const auto& b : tbs) last = step(b);
        samples.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count() /
                          static_cast<double>(tbs.size()));
      }
      const bench::Timing t = bench::summarize(samples);
      const double per_sample = static_cast<double>(tokens) / static_cast<double>(tbs.size());  // tokens per step
      report("train_step", train_shape, t,
             fmt(",\"tokens_per_sec\":%.1f,\"tokens_per_sec_median\":%.1f,\"target_tokens_per_step\":%.1f,"
                 "\"dropout\":%.3f,\"last_loss\":%.4f",
                 per_sample / t.best * 1e3, per_sample / t.median * 1e3, per_sample, cfg.dropout, last),
             fmt("%.0f target tokens/s (best), loss %.3f", per_sample / t.best * 1e3, last));
    } else if (c == "decode") {
      model->eval();
      for (int64_t K : beams) {
        const generate::BeamOptions opt = beam_options(K, cfg);
        if (!dbs.empty()) generate::beam_search(*model, dbs.front().in, opt);  // warm-up
        std::vector<double> samples;
        int64_t out_tokens = 0;
        for (int r = 0; r < A.dec_reps; ++r) {
          const auto t0 = Clock::now();
          auto hyp = decode_all(*model, dbs, opt, srcs.size());
          samples.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
          out_tokens = 0;
          for (const auto& h : hyp) out_tokens += static_cast<int64_t>(h.size());
        }
        const bench::Timing t = bench::summarize(samples);
        const double n = static_cast<double>(order.size());
        report(decode_case(K), decode_shape(K), t,
               fmt(",\"sentences_per_sec\":%.2f,\"sentences_per_sec_median\":%.2f,\"sentences\":%zu,"
                   "\"output_tokens\":%ld",
                   n / t.best * 1e3, n / t.median * 1e3, order.size(), (long)out_tokens),
               fmt("%.1f sentences/s (best), %ld output tokens", n / t.best * 1e3, (long)out_tokens));
      }
    } else {
      std::fprintf(stderr, "qkv_bench_seq2seq: unknown case '%s'\n", c.c_str());
      return 1;
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  ensure_wait_policy(argv);
  std::vector<std::string> cases;
  for (int i = 1; i < argc; ++i) {
    const std::string s = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "qkv_bench_seq2seq: %s needs a value\n", s.c_str());
        std::exit(1);
      }
      return argv[++i];
    };
    if (s == "--json") A.json = true;
    else if (s == "--model") A.model_dir = val();
    else if (s == "--config") A.config = val();
    else if (s == "--src") A.src = val();
    else if (s == "--tgt") A.tgt = val();
    else if (s == "--dump") A.dump = val();
    else if (s == "--threads") A.threads = std::atoi(val().c_str());
    else if (s == "--reps") A.reps = std::atoi(val().c_str());
    else if (s == "--dec-reps") A.dec_reps = std::atoi(val().c_str());
    else if (s == "--max-tokens") A.max_tokens = std::atoll(val().c_str());
    else if (s == "--train-batches") A.train_batches = std::atoll(val().c_str());
    else if (s == "--sentences") A.sentences = std::atoll(val().c_str());
    else if (s == "--batch-size") A.batch_size = std::atoll(val().c_str());
    else if (s == "--beams") A.beams = val();
    else if (s == "--parity") A.parity = std::atoll(val().c_str());
    else if (s == "--lr") A.lr = std::strtof(val().c_str(), nullptr);
    else if (s == "-h" || s == "--help") {
      std::printf("usage: qkv_bench_seq2seq --model DIR --src FILE --tgt FILE [--dump OUT] [--config CFG.json]\n"
                  "       [--threads N] [--json] [--reps R] [--dec-reps D] [--max-tokens 4096] [--train-batches 4]\n"
                  "       [--sentences 0] [--batch-size 32] [--beams 1,4] [--parity 20] [--lr 1e-4] CASE...\n"
                  "CASE: train_step decode (default both); see the header of bench/qkv_bench_seq2seq.cpp\n");
      return 0;
    } else cases.push_back(s);
  }
  if (A.model_dir.empty() || A.src.empty() || A.tgt.empty()) {
    std::fprintf(stderr, "qkv_bench_seq2seq: --model, --src and --tgt are required (--help)\n");
    return 1;
  }
  if (A.threads < 1 || A.reps < 1 || A.dec_reps < 1 || A.max_tokens < 1 || A.train_batches < 1 ||
      A.batch_size < 1 || A.sentences < 0 || A.parity < 0) {
    std::fprintf(stderr, "qkv_bench_seq2seq: --threads, --reps, --dec-reps, --max-tokens, --train-batches, "
                         "--batch-size must be >= 1; --sentences, --parity >= 0\n");
    return 1;
  }
  for (int64_t K : parse_list(A.beams))
    if (K < 1) {
      std::fprintf(stderr, "qkv_bench_seq2seq: --beams entries must be >= 1\n");
      return 1;
    }
  if (cases.empty()) cases = {"train_step", "decode"};
  try {
    return run(cases);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "qkv_bench_seq2seq: error: %s\n", e.what());
    return 1;
  }
}
