// qkv_bench_bert — qkv's side of the BERT benchmark (issue #10, "Speed:
// inference (sequences/s, length 128, batch 1 and 32) and a fine-tuning step
// for a BERT-base shape (12 × 768) against the same model in PyTorch in the
// same run"), next to the peer bench/peers/torch_bert.py; bench/run_bert.sh
// runs both in one command and prints ratios with bench/compare.py.
//
//   qkv_bench_bert --threads N [--json] [--reps R] [--seq 128] [--batches 1,32]
//                  [--train-batch 32] [--layers 12] [--dump DIR] CASE...
//   CASE: infer train_step   (default both); `dump` alone: write --dump, time nothing
//
// The model: BertForSequenceClassification of BERT-base's shape (V30522, 12
// layers, C768, 12 heads, FF 3072, 512 positions, 2 labels, GELU (erf),
// dropout 0.1 as Hugging Face's defaults), Hugging Face's init with seed 1337
// (the weights do not change the speed; --layers shrinks it for smoke tests).
// Inputs (seed 0): random ids in [1, V), token types 0 for the first half and
// 1 for the second (a sentence pair), and an attention mask that is either
// all true ("full") or true for a random length in [T/4, T] per row, ids 0
// after it ("padded": the batch still T wide, as padding="max_length").
//
//   infer       eval mode, under NoGradGuard: hidden + sequence_logits, for
//               each batch size in --batches and both masks; sequences/s = B / time.
//   train_step  training mode (dropout on), full mask, batch --train-batch × T:
//               zero_grad + hidden + sequence_logits + cross-entropy (random
//               labels in {0, 1}) + backward + clip_grad_norm(1.0) + AdamW
//               (lr 2e-5, β 0.9/0.999, ε 1e-8, weight decay 0.01 on every
//               matmul weight and embedding table, not biases/LayerNorm — the
//               Hugging Face Trainer's split and its max_grad_norm).
//   --dump DIR  before timing: DIR/config.json + DIR/model.safetensors (the
//               weights benchmarked) and DIR/inputs.safetensors (every batch,
//               the shape strings, and qkv's eval-mode hidden states and logits
//               of the batch-1 inputs for the peer's parity check).
//
// Timing: 2 warm-up calls, then R samples (bench/bench_util.h time_it); a
// batch-1 sample repeats the call until it lasts ≥ 200 ms. ms_best = minimum,
// ms_median = median.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "bench_util.h"
#include "qkv/io/safetensors.h"
#include "qkv/models/bert.h"
#include "qkv/models/registry.h"
#include "qkv/nn/param_groups.h"
#include "qkv/optim/adam.h"
#include "qkv/optim/clip.h"
#include "qkv/qkv.h"

using namespace qkv;

namespace {

struct Args {
  bool json = false;
  int threads = 1, reps = 5;
  int64_t seq = 128, train_batch = 32, layers = 12;
  std::string batches = "1,32", dump;
} A;

std::vector<int64_t> parse_list(const std::string& s) {
  std::vector<int64_t> out;
  for (size_t a = 0, b; a <= s.size(); a = b + 1) {
    b = std::min(s.find(',', a), s.size());
    if (b > a) out.push_back(std::atoll(s.substr(a, b - a).c_str()));
  }
  return out;
}

std::string fmt(const char* f, auto... v) {
  char buf[256];
  std::snprintf(buf, sizeof buf, f, v...);
  return buf;
}

models::BertConfig base_config() {
  models::BertConfig c;  // vocab 30522, 512 positions, dropout 0.1, GELU: the defaults
  c.hidden_size = 768, c.num_hidden_layers = A.layers, c.num_attention_heads = 12, c.intermediate_size = 3072;
  c.head = models::BertHead::SequenceClassification;
  c.labels = {"LABEL_0", "LABEL_1"};
  return c;
}

// One batch of B rows × T; `padded`: each row real for a random length in [T/4, T].
models::BertInputs make_batch(int64_t B, int64_t T, bool padded, int64_t V, Generator& g) {
  Tensor ids = randint(1, V, {B, T}, g);
  std::vector<int64_t> id = ids.to_int_vector(), types(B * T, 0);
  std::vector<bool> real(B * T, true);
  for (int64_t b = 0; b < B; ++b) {
    const int64_t len = padded ? randint(T / 4, T + 1, {1}, g).to_int_vector()[0] : T;
    for (int64_t t = 0; t < T; ++t) {
      types[b * T + t] = t >= T / 2 && t < len ? 1 : 0;
      if (t >= len) real[b * T + t] = false, id[b * T + t] = 0;
    }
  }
  return {tensor_i64(id, {B, T}), tensor_i64(types, {B, T}), tensor_bool(real, {B, T})};
}

void report(const std::string& c, const std::string& shape, bench::Timing t, const std::string& ej,
            const std::string& et) {
  bench::report(A.json, A.threads, c, shape, t, ej, et, 12, 40);
}

int run(const std::vector<std::string>& cases) {
  set_num_threads(A.threads);
  const models::BertConfig cfg = base_config();
  Generator init_gen(1337);
  models::Bert model(cfg, init_gen);
  const int64_t T = A.seq, V = cfg.vocab_size;
  const std::string model_shape = fmt("bert V%ld L%ld C%ld", (long)V, (long)cfg.num_hidden_layers,
                                      (long)cfg.hidden_size);
  auto shape_of = [&](int64_t B, const char* mask) { return model_shape + fmt(" B%ld T%ld %s", (long)B, (long)T, mask); };

  // Every batch, drawn once in a fixed order (the dump gives the peer the same).
  Generator data_gen(0);
  std::map<std::string, models::BertInputs> batches;
  std::vector<std::pair<std::string, std::string>> infer_runs;  // (batch key, shape)
  for (int64_t B : parse_list(A.batches))
    for (const char* mask : {"full", "padded"}) {
      const std::string key = fmt("b%ld_%s", (long)B, mask);
      batches[key] = make_batch(B, T, std::string(mask) == "padded", V, data_gen);
      infer_runs.push_back({key, shape_of(B, mask)});
    }
  batches["train"] = make_batch(A.train_batch, T, false, V, data_gen);
  const Tensor labels = randint(0, 2, {A.train_batch}, data_gen);
  const std::string train_shape = shape_of(A.train_batch, "full");

  if (!A.dump.empty()) {
    std::filesystem::create_directories(A.dump);
    models::save_model(A.dump, model, 0);
    std::vector<std::pair<std::string, Tensor>> t;
    std::map<std::string, std::string> meta{{"generator", "bench/qkv_bench_bert.cpp"},
                                            {"shape.train_step", train_shape}};
    for (const auto& [key, in] : batches) {
      t.push_back({key + ".input_ids", in.input_ids});
      t.push_back({key + ".token_type_ids", in.token_type_ids});
      t.push_back({key + ".attention_mask", in.attention_mask});
    }
    t.push_back({"train.labels", labels});
    std::string infer_keys;
    for (const auto& [key, shape] : infer_runs) {
      meta["shape." + key] = shape;
      infer_keys += (infer_keys.empty() ? "" : ",") + key;
    }
    meta["infer"] = infer_keys;
    // Parity (not timed): eval-mode hidden states and logits of the batch-1 inputs.
    model.eval();
    NoGradGuard ng;
    Generator g0(0);
    for (const char* key : {"b1_full", "b1_padded"})
      if (batches.count(key)) {
        Tensor h = model.hidden(batches[key], g0);
        t.push_back({std::string("parity.") + key + ".hidden", h});
        t.push_back({std::string("parity.") + key + ".logits", model.sequence_logits(h, g0)});
      }
    io::save_safetensors(A.dump + "/inputs.safetensors", t, meta);
  }

  for (const std::string& c : cases) {
    if (c == "dump") {
      if (A.dump.empty()) throw ValueError("the case 'dump' needs --dump DIR");
    } else if (c == "infer") {
      model.eval();
      Generator g(0);
      for (const auto& [key, shape] : infer_runs) {
        const models::BertInputs& in = batches[key];
        const int64_t B = in.input_ids.size(0);
        const bench::Timing t = bench::time_it(
            [&] {
              NoGradGuard ng;
              model.sequence_logits(model.hidden(in, g), g);
            },
            2, A.reps, B == 1 ? 200.0 : 0.0);
        const double n = static_cast<double>(B);
        report("infer", shape, t,
               fmt(",\"sequences_per_sec\":%.2f,\"sequences_per_sec_median\":%.2f", n / t.best * 1e3,
                   n / t.median * 1e3),
               fmt("%.2f sequences/s (best)", n / t.best * 1e3));
      }
    } else if (c == "train_step") {
      model.train();
      optim::AdamW opt(nn::decay_groups(model, 0.01f, /*decay_embeddings=*/true), 2e-5f, 0.9f, 0.999f, 1e-8f);
      Generator drop_gen(7);
      const models::BertInputs& in = batches["train"];
      float last = 0;
      const bench::Timing t = bench::time_it(
          [&] {
            opt.zero_grad();
            Tensor loss = cross_entropy(model.sequence_logits(model.hidden(in, drop_gen), drop_gen), labels);
            loss.backward();
            optim::clip_grad_norm(model.parameters(), 1.0f);
            opt.step();
            last = loss.item();
          },
          2, A.reps, 0.0);
      const double n = static_cast<double>(A.train_batch);
      report("train_step", train_shape, t,
             fmt(",\"sequences_per_sec\":%.2f,\"sequences_per_sec_median\":%.2f,\"last_loss\":%.4f",
                 n / t.best * 1e3, n / t.median * 1e3, last),
             fmt("%.2f sequences/s (best), loss %.3f", n / t.best * 1e3, last));
    } else {
      std::fprintf(stderr, "qkv_bench_bert: unknown case '%s'\n", c.c_str());
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
        std::fprintf(stderr, "qkv_bench_bert: %s needs a value\n", s.c_str());
        std::exit(1);
      }
      return argv[++i];
    };
    if (s == "--json") A.json = true;
    else if (s == "--threads") A.threads = std::atoi(val().c_str());
    else if (s == "--reps") A.reps = std::atoi(val().c_str());
    else if (s == "--seq") A.seq = std::atoll(val().c_str());
    else if (s == "--batches") A.batches = val();
    else if (s == "--train-batch") A.train_batch = std::atoll(val().c_str());
    else if (s == "--layers") A.layers = std::atoll(val().c_str());
    else if (s == "--dump") A.dump = val();
    else if (s == "-h" || s == "--help") {
      std::printf("usage: qkv_bench_bert --threads N [--json] [--reps R] [--seq 128] [--batches 1,32]\n"
                  "       [--train-batch 32] [--layers 12] [--dump DIR] CASE...\n"
                  "CASE: infer train_step (default both), or dump (only --dump); see bench/qkv_bench_bert.cpp\n");
      return 0;
    } else cases.push_back(s);
  }
  bool ok = A.threads >= 1 && A.reps >= 1 && A.seq >= 4 && A.seq <= 512 && A.train_batch >= 1 && A.layers >= 1;
  for (int64_t B : parse_list(A.batches)) ok = ok && B >= 1;
  if (!ok) {
    std::fprintf(stderr, "qkv_bench_bert: --threads, --reps, --train-batch, --layers, --batches entries must be "
                         ">= 1; --seq in 4..512\n");
    return 1;
  }
  if (cases.empty()) cases = {"infer", "train_step"};
  try {
    return run(cases);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "qkv_bench_bert: error: %s\n", e.what());
    return 1;
  }
}
