#include "qkv/train/trainer.h"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "qkv/autograd/autograd.h"
#include "qkv/io/file.h"
#include "qkv/io/json.h"
#include "qkv/io/safetensors.h"
#include "qkv/nn/param_groups.h"
#include "qkv/ops/ops.h"
#include "qkv/optim/clip.h"
#include "qkv/train/checkpoint.h"
#include "qkv/viz/plot.h"

namespace qkv::train {

namespace fs = std::filesystem;
using nlohmann::json;

// ---------------------------------------------------------------- helpers

namespace {

std::string rng_to_hex(const Generator& g) {
  std::ostringstream o;
  for (uint64_t w : g.state()) {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(w));
    o << buf;
  }
  return o.str();
}

void rng_from_hex(Generator& g, const std::string& hex, const std::string& what) {
  if (hex.size() != 64) throw ValueError("trainer_state.json: " + what + " must be 64 hex digits");
  std::array<uint64_t, 4> s{};
  for (int i = 0; i < 4; ++i) {
    try {
      size_t used = 0;
      s[i] = std::stoull(hex.substr(i * 16, 16), &used, 16);
      if (used != 16) throw std::invalid_argument("hex");
    } catch (const std::exception&) {
      throw ValueError("trainer_state.json: " + what + " is not hexadecimal");
    }
  }
  g.set_state(s);
}

std::string format_duration(double sec) {
  if (!std::isfinite(sec) || sec < 0) return "?";
  int s = static_cast<int>(sec + 0.5);
  char buf[32];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%dh%02dm", s / 3600, (s / 60) % 60);
  else if (s >= 60) std::snprintf(buf, sizeof buf, "%dm%02ds", s / 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%ds", s);
  return buf;
}

// Fields that may change between a run and its resume.
json comparable(const TrainConfig& c) {
  json j = c.to_json();
  for (const char* k : {"max_iters", "eval_interval", "eval_iters", "log_interval"}) j.erase(k);
  return j;
}

}  // namespace

// ---------------------------------------------------------------- trainer

Trainer::Trainer(models::GPT& model, const TrainConfig& cfg, std::vector<int64_t> tokens, std::string out_dir)
    : model_(model), cfg_(cfg), dir_(std::move(out_dir)), data_gen_(cfg.seed), dropout_gen_(cfg.seed ^ 0x5eedULL) {
  cfg_.validate();
  const int64_t V = model_.config.vocab_size, block = model_.config.block_size;
  for (size_t i = 0; i < tokens.size(); ++i)
    if (tokens[i] < 0 || tokens[i] >= V)
      throw ValueError("training data: token " + std::to_string(tokens[i]) + " at position " + std::to_string(i) +
                       " is outside the model's vocabulary of " + std::to_string(V));
  const size_t n_train = static_cast<size_t>(static_cast<double>(tokens.size()) * (1.0 - cfg_.val_fraction));
  train_.assign(tokens.begin(), tokens.begin() + n_train);
  val_.assign(tokens.begin() + n_train, tokens.end());
  for (auto [split, name] : {std::pair{&train_, "train"}, std::pair{&val_, "val"}})
    if (static_cast<int64_t>(split->size()) < block + 1)
      throw ValueError("training data: the " + std::string(name) + " split has " + std::to_string(split->size()) +
                       " tokens, fewer than block_size + 1 = " + std::to_string(block + 1) +
                       " (corpus of " + std::to_string(tokens.size()) + " tokens; use a longer corpus or a smaller --block-size)");
  // AdamW with nanoGPT's decay rule (model.py, configure_optimizers): every
  // dim >= 2 tensor decays — matmul weights and, with decay_embeddings, the
  // embedding tables (wte, tied to the output projection, and wpe) — and no
  // bias or LayerNorm parameter. (On nanoGPT's Tiny Shakespeare configuration
  // the choice moves the full-validation loss by < 0.001: bench/RESULTS.md.)
  opt_ = std::make_unique<optim::AdamW>(nn::decay_groups(model_, cfg_.weight_decay, cfg_.decay_embeddings), cfg_.lr,
                                        cfg_.beta1, cfg_.beta2);
  schedule_ = cfg_.decay_lr ? optim::warmup_cosine(cfg_.lr, cfg_.min_lr, cfg_.warmup_iters, cfg_.lr_decay_iters)
                            : optim::constant_lr(cfg_.lr);
}

void Trainer::get_batch(bool train, Generator& gen, Tensor& x, Tensor& y) const {
  const std::vector<int64_t>& data = train ? train_ : val_;
  const int64_t B = cfg_.batch_size, T = model_.config.block_size;
  const uint64_t span = data.size() - T;  // offsets 0 … len − T − 1
  x = Tensor::empty({B, T}, DType::Int64);
  y = Tensor::empty({B, T}, DType::Int64);
  int64_t* xp = x.data<int64_t>();
  int64_t* yp = y.data<int64_t>();
  for (int64_t b = 0; b < B; ++b) {
    const int64_t o = static_cast<int64_t>(gen.next_u64() % span);
    std::copy(data.begin() + o, data.begin() + o + T, xp + b * T);
    std::copy(data.begin() + o + 1, data.begin() + o + T + 1, yp + b * T);
  }
}

std::pair<float, float> Trainer::estimate_loss() {
  NoGradGuard ng;
  model_.eval();
  float out[2];
  // Eval batches come from their own stream seeded by the step, so evaluating
  // never changes the training batches (and a resumed run sees the same).
  Generator gen(cfg_.seed * 1000003ULL + static_cast<uint64_t>(step_));
  for (int split = 0; split < 2; ++split) {
    double total = 0;
    for (int64_t i = 0; i < cfg_.eval_iters; ++i) {
      Tensor x, y;
      get_batch(split == 0, gen, x, y);
      total += models::GPT::loss(model_.forward(x, dropout_gen_), y).item();
    }
    out[split] = static_cast<float>(total / static_cast<double>(cfg_.eval_iters));
  }
  model_.train();
  return {out[0], out[1]};
}

void Trainer::save(const std::function<void(const std::string&)>& extra, bool best) {
  fs::create_directories(dir_);
  // Order: optimizer, model, trainer_state.json last (the commit marker).
  io::save_safetensors(dir_ + "/optimizer.safetensors", opt_->state(), {{"step", std::to_string(step_)}});
  save_model(dir_, model_, step_);
  if (extra) extra(dir_);
  json st = {{"step", step_},
             {"best_val_loss", best_val_},
             {"data_rng", rng_to_hex(data_gen_)},
             {"dropout_rng", rng_to_hex(dropout_gen_)},
             {"train_config", cfg_.to_json()},
             {"model_config", model_.config.to_json()}};
  io::write_json_atomic(dir_ + "/trainer_state.json", st);
  if (best) {
    // The best model as a whole directory: written beside, then swapped in.
    const std::string tmp = dir_ + "/.best.tmp", old = dir_ + "/.best.old", target = dir_ + "/best";
    fs::remove_all(tmp);
    save_model(tmp, model_, step_);
    if (extra) extra(tmp);
    fs::remove_all(old);
    if (fs::exists(target)) fs::rename(target, old);
    fs::rename(tmp, target);
    fs::remove_all(old);
  }
}

void Trainer::resume() {
  const std::string state_path = dir_ + "/trainer_state.json";
  for (const char* f : {"trainer_state.json", "optimizer.safetensors", "model.safetensors", "config.json"})
    if (!fs::exists(dir_ + "/" + f))
      throw IOError(dir_ + ": cannot resume: missing " + f + " (was this directory made by `qkv train`?)");
  json st = io::read_json(state_path);
  auto field = [&](const char* k) -> const json& {
    if (!st.contains(k)) throw ValueError(state_path + ": missing field \"" + k + "\"");
    return st[k];
  };
  models::GPTConfig saved_model = models::GPTConfig::from_json(field("model_config"));
  if (!(saved_model == model_.config))
    throw ValueError("cannot resume: " + dir_ + " was trained with model config " + saved_model.to_json().dump() +
                     ", this run asks for " + model_.config.to_json().dump());
  TrainConfig saved_train = TrainConfig::from_json(field("train_config"));
  if (comparable(saved_train) != comparable(cfg_))
    throw ValueError("cannot resume: " + dir_ + " was trained with trainer config " + comparable(saved_train).dump() +
                     ", this run asks for " + comparable(cfg_).dump() +
                     " (only max_iters, eval_interval, eval_iters and log_interval may change)");
  const int64_t step = field("step").get<int64_t>();
  const int64_t ms = safetensors_step(dir_ + "/model.safetensors");
  const int64_t os = safetensors_step(dir_ + "/optimizer.safetensors");
  if (ms != step || os != step)
    throw ValueError("cannot resume: " + dir_ + " is inconsistent (trainer_state.json step " + std::to_string(step) +
                     ", model.safetensors step " + std::to_string(ms) + ", optimizer.safetensors step " +
                     std::to_string(os) + "): a save was interrupted");
  io::NamedTensors m = io::load_safetensors(dir_ + "/model.safetensors");
  model_.load_state_dict(m.tensors, true);
  io::NamedTensors o = io::load_safetensors(dir_ + "/optimizer.safetensors");
  opt_->load_state(o.tensors);
  rng_from_hex(data_gen_, field("data_rng").get<std::string>(), "data_rng");
  rng_from_hex(dropout_gen_, field("dropout_rng").get<std::string>(), "dropout_rng");
  best_val_ = field("best_val_loss").get<float>();
  step_ = step;
  // Earlier evals, for the loss plot.
  std::ifstream log(dir_ + "/log.jsonl");
  std::string line;
  while (std::getline(log, line)) {
    try {
      json r = json::parse(line);
      if (r["step"].get<int64_t>() > step_) continue;
      evals_.push_back({r["step"].get<int64_t>(), r["train_loss"].get<float>(), r["val_loss"].get<float>(),
                        r["lr"].get<float>(), r["ms_per_iter"].get<double>(), r["tokens_per_sec"].get<double>()});
    } catch (const std::exception&) {
      // a torn last line from an interrupted run: ignore
    }
  }
}

bool Trainer::run(const std::function<void(const std::string& dir)>& extra) {
  using Clock = std::chrono::steady_clock;
  const bool tty = isatty(fileno(stderr));
  const int64_t tokens_per_step = cfg_.batch_size * model_.config.block_size * cfg_.grad_accum;
  const int64_t start_step = step_;
  model_.train();
  auto t_start = Clock::now(), t_window = Clock::now();
  int64_t window_steps = 0;
  float last_loss = NAN;
  for (;; ++step_) {
    const float lr = schedule_->lr(step_);
    opt_->set_lr(lr);
    const bool final = step_ >= cfg_.max_iters;
    // A resumed run does not repeat the evaluation its checkpoint was saved
    // at (an interrupted run's checkpoint may sit between evaluations).
    const bool evaluated_here = !evals_.empty() && evals_.back().step == step_;
    if ((step_ % cfg_.eval_interval == 0 || final) && !evaluated_here) {
      auto [tl, vl] = estimate_loss();
      double tps = ms_per_iter_ > 0 ? 1000.0 * tokens_per_step / ms_per_iter_ : 0.0;
      EvalRecord r{step_, tl, vl, lr, ms_per_iter_, tps};
      evals_.push_back(r);
      json line = {{"step", r.step}, {"train_loss", r.train_loss}, {"val_loss", r.val_loss}, {"lr", r.lr},
                   {"ms_per_iter", r.ms_per_iter}, {"tokens_per_sec", r.tokens_per_sec}};
      {
        fs::create_directories(dir_);
        std::ofstream log(dir_ + "/log.jsonl", std::ios::app);
        log << line.dump() << "\n";
        if (!log) throw IOError(dir_ + "/log.jsonl: write failed");
      }
      if (tty) std::fprintf(stderr, "\r\033[K");
      std::fprintf(stderr, "step %ld: train loss %.4f, val loss %.4f\n", static_cast<long>(step_), tl, vl);
      const bool best = vl < best_val_;
      if (best) best_val_ = vl;
      save(extra, best);
      std::vector<viz::Series> curves{{"train", {}, {}}, {"val", {}, {}}};
      for (const auto& e : evals_) {
        curves[0].x.push_back(static_cast<double>(e.step));
        curves[0].y.push_back(e.train_loss);
        curves[1].x.push_back(static_cast<double>(e.step));
        curves[1].y.push_back(e.val_loss);
      }
      viz::line_plot_svg(dir_ + "/loss.svg", curves, "loss", "step", "cross-entropy");
      t_window = Clock::now();  // evaluation time is not training time
      window_steps = 0;
    }
    if (final) break;
    // One optimizer step over grad_accum micro-batches.
    opt_->zero_grad();
    double loss_sum = 0;
    for (int64_t micro = 0; micro < cfg_.grad_accum; ++micro) {
      Tensor x, y;
      get_batch(true, data_gen_, x, y);
      Tensor loss = models::GPT::loss(model_.forward(x, dropout_gen_), y);
      loss_sum += loss.item();
      mul(loss, 1.0f / static_cast<float>(cfg_.grad_accum)).backward();
    }
    if (cfg_.grad_clip > 0) optim::clip_grad_norm(model_.parameters(), cfg_.grad_clip);
    opt_->step();
    last_loss = static_cast<float>(loss_sum / static_cast<double>(cfg_.grad_accum));
    step_losses_.push_back(last_loss);
    if (stop_ && stop_->load() && step_ + 1 < cfg_.max_iters) {  // keep the finished step, then stop
      ++step_;
      save(extra, false);
      if (tty) std::fprintf(stderr, "\n");
      return false;
    }
    ++window_steps;
    const double window_ms = std::chrono::duration<double, std::milli>(Clock::now() - t_window).count();
    const int64_t done = step_ + 1 - start_step, total = cfg_.max_iters - start_step;
    if (tty || (step_ + 1) % cfg_.log_interval == 0) {
      ms_per_iter_ = window_ms / static_cast<double>(window_steps);
      const double elapsed = std::chrono::duration<double>(Clock::now() - t_start).count();
      const double eta = elapsed / static_cast<double>(done) * static_cast<double>(total - done);
      const double tps = 1000.0 * tokens_per_step / ms_per_iter_;
      if (tty) {
        const int width = 24, fill = static_cast<int>(width * done / std::max<int64_t>(total, 1));
        std::fprintf(stderr, "\r\033[K[%.*s%*s] step %ld/%ld  loss %.4f  %.0f tok/s  ETA %s",
                     fill, "########################", width - fill, "", static_cast<long>(step_ + 1),
                     static_cast<long>(cfg_.max_iters), last_loss, tps, format_duration(eta).c_str());
      } else {
        std::fprintf(stderr, "step %ld/%ld  loss %.4f  lr %.2e  %.1f ms/iter  %.0f tok/s  ETA %s\n",
                     static_cast<long>(step_ + 1), static_cast<long>(cfg_.max_iters), last_loss, lr, ms_per_iter_,
                     tps, format_duration(eta).c_str());
      }
      std::fflush(stderr);
      t_window = Clock::now();
      window_steps = 0;
    }
  }
  if (tty) std::fprintf(stderr, "\n");
  return true;
}

}  // namespace qkv::train
