// `qkv train translate`: from raw parallel text to a translation model
// directory in one command — a joint byte-level BPE over both sides, length
// filtering (reported), token-budget batches, the encoder–decoder Transformer
// trained as Vaswani et al. 2017 (Noam schedule, Adam β2 0.98, ε 1e-9, label
// smoothing 0.1), validation loss and BLEU at every evaluation, the best
// checkpoint by BLEU, exact resume. `qkv translate DIR` reads what it writes.
#include <algorithm>
#include <filesystem>
#include <set>

#include "commands.h"
#include "config_flags.h"
#include "trace_output.h"
#include "train_common.h"
#include "qkv/core/file_kind.h"
#include "qkv/data/fingerprint.h"
#include "qkv/data/readers.h"
#include "qkv/models/transformer.h"
#include "qkv/tokenizers/tokenizer.h"
#include "qkv/tokenizers/trainers.h"
#include "qkv/train/trainer.h"
#include "qkv/train/translation_task.h"

namespace qkv::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using tokenizers::Tokenizer;

// The special tokens a translation vocabulary starts with, in id order.
constexpr const char* kPad = "<pad>";
constexpr const char* kBos = "<s>";
constexpr const char* kEos = "</s>";

struct TranslateTrainArgs {
  std::string src, tgt, valid_src, valid_tgt, out, tokenizer, config;
  int64_t vocab_size = 8000, max_tokens = 4096, bleu_beam = 1, bleu_sentences = 0;
  float max_len_ratio = 0.0f, label_smoothing = 0.1f;
  bool resume = false, allow_new_data = false, trace = false;
  int threads = 0;
  std::unique_ptr<ConfigFlags<models::Seq2SeqConfig>> model;
  std::unique_ptr<ConfigFlags<train::TrainConfig>> train;
};

// The trainer defaults of the paper's base model (§5.3, §5.4).
train::TrainConfig translation_defaults() {
  train::TrainConfig t;
  t.lr_schedule = "noam";
  t.lr = 7e-4f;  // 512^-0.5 · 4000^-0.5: the paper's peak
  t.warmup_iters = 4000;
  t.max_iters = 20000;
  t.beta1 = 0.9f, t.beta2 = 0.98f, t.adam_eps = 1e-9f;
  t.weight_decay = 0.0f;
  t.grad_clip = 0.0f;
  t.batch_size = 64;  // sentences per batch of the train-loss estimate (training uses --max-tokens)
  t.eval_interval = 1000;
  t.eval_iters = 10;
  t.log_interval = 50;
  return t;
}

// The special tokens' ids: ValueError naming the missing one.
int64_t special_id(const Tokenizer& tok, const char* token, const std::string& where) {
  if (auto id = tok.token_to_id(token)) return *id;
  throw ValueError(where + ": the tokenizer has no \"" + token + "\" token (a translation vocabulary needs " + kPad +
                   ", " + kBos + " and " + kEos + ")");
}

struct Pairs {
  std::vector<std::string> source_text, target_text;
  train::TranslationData ids;
};

// Reads, tokenizes and filters one parallel corpus; reports what was dropped.
// A pair must fit the model: source ≤ max_len tokens, target + EOS ≤ max_len.
Pairs load_pairs(const Tokenizer& tok, const data::ParallelCorpus& pc, const std::string& src, const std::string& tgt,
                 const std::string& what, const TranslateTrainArgs& a, int64_t max_len) {
  if (pc.size() == 0) throw ValueError(src + ": the " + what + " corpus is empty");
  const auto src_enc = tok.encode_batch(pc.source, {.add_special_tokens = false});
  const auto tgt_enc = tok.encode_batch(pc.target, {.add_special_tokens = false});
  Pairs p;
  size_t empty = 0, too_long = 0, ratio = 0;
  for (size_t i = 0; i < pc.size(); ++i) {
    const auto& s = src_enc[i].ids;
    const auto& t = tgt_enc[i].ids;
    if (s.empty() || t.empty()) {
      ++empty;
      continue;
    }
    if (static_cast<int64_t>(s.size()) > max_len || static_cast<int64_t>(t.size()) + 1 > max_len) {
      ++too_long;
      continue;
    }
    const double r = static_cast<double>(std::max(s.size(), t.size())) / static_cast<double>(std::min(s.size(), t.size()));
    if (a.max_len_ratio > 0 && r > a.max_len_ratio) {
      ++ratio;
      continue;
    }
    p.source_text.push_back(pc.source[i]);
    p.target_text.push_back(pc.target[i]);
    p.ids.source.push_back(s);
    p.ids.target.push_back(t);
  }
  std::fprintf(stderr, "%s: %zu pairs, kept %zu (dropped %zu with an empty side, %zu longer than --max-len %ld",
               what.c_str(), pc.size(), p.ids.size(), empty, too_long, static_cast<long>(max_len));
  if (a.max_len_ratio > 0) std::fprintf(stderr, ", %zu with a length ratio above %.2f", ratio, a.max_len_ratio);
  std::fprintf(stderr, ")\n");
  if (p.ids.size() == 0)
    throw ValueError(what + " (" + src + ", " + tgt + "): no pair is left after filtering");
  return p;
}

// The joint vocabulary: the run's own when resuming, a given one, or a
// byte-level BPE trained on both sides of the training data.
Tokenizer joint_tokenizer(const TranslateTrainArgs& a, const data::ParallelCorpus& pc) {
  if (a.resume) return Tokenizer::from_path(a.out + "/tokenizer.json");
  if (!a.tokenizer.empty()) return Tokenizer::from_path(a.tokenizer);
  std::vector<std::string> texts = pc.source;
  texts.insert(texts.end(), pc.target.begin(), pc.target.end());
  tokenizers::TrainerOptions o;
  o.vocab_size = static_cast<size_t>(a.vocab_size);
  o.special_tokens = {kPad, kBos, kEos};
  std::fprintf(stderr, "tokenizer: training a joint byte-level BPE of %ld tokens on %zu lines\n",
               static_cast<long>(a.vocab_size), texts.size());
  return tokenizers::train_byte_level_bpe(texts, o);
}

void check_paths(const TranslateTrainArgs& a) {
  for (const auto* p : {&a.src, &a.tgt, &a.valid_src, &a.valid_tgt})
    require_regular_file(*p);
  if (a.allow_new_data && !a.resume) throw ValueError("--allow-new-data applies only with --resume");
  if (a.resume && !fs::exists(a.out + "/tokenizer.json"))
    throw IOError(a.out + ": cannot --resume: missing tokenizer.json");
  prepare_out(a.out, a.resume);
  if (a.max_len_ratio < 0) throw ValueError("--max-len-ratio must be >= 0 (0 = off)");
}

void run_train_translate(const TranslateTrainArgs& a) {
  apply_threads(a.threads);
  check_paths(a);
  auto [model_j, train_j] = merged_configs<models::Seq2SeqConfig>(
      models::Seq2SeqConfig{}.to_json(), translation_defaults().to_json(), a.resume, a.out, a.config, *a.model, *a.train);

  {  // the model flags checked now, before minutes of reading and BPE training (the vocabulary is not known yet)
    nlohmann::json early = model_j;
    early["vocab_size"] = 1 << 20;
    models::Seq2SeqConfig::from_json(early).validate();
  }
  const data::ParallelCorpus train_text = data::read_parallel(a.src, a.tgt);  // read once: BPE and pairs
  const Tokenizer tok = joint_tokenizer(a, train_text);
  const std::string tok_where = a.resume ? a.out + "/tokenizer.json" : a.tokenizer.empty() ? "tokenizer" : a.tokenizer;
  model_j["vocab_size"] = tok.vocab_size();
  model_j["pad_id"] = special_id(tok, kPad, tok_where);
  model_j["bos_id"] = special_id(tok, kBos, tok_where);
  model_j["eos_id"] = special_id(tok, kEos, tok_where);
  const models::Seq2SeqConfig mc = models::Seq2SeqConfig::from_json(model_j);
  mc.validate();
  const train::TrainConfig tc = train::TrainConfig::from_json(train_j);
  tc.validate();
  if (a.max_tokens < mc.max_len)
    throw ValueError("--max-tokens (" + std::to_string(a.max_tokens) + ") must be at least --max-len (" +
                     std::to_string(mc.max_len) + "): a batch must hold the longest pair");

  Pairs train_pairs = load_pairs(tok, train_text, a.src, a.tgt, "train", a, mc.max_len);
  Pairs valid_pairs = load_pairs(tok, data::read_parallel(a.valid_src, a.valid_tgt), a.valid_src, a.valid_tgt, "valid", a,
                                 mc.max_len);

  Generator gen(tc.seed);
  models::Transformer model(mc, gen);
  std::fprintf(stderr,
               "model: %ld parameters (d_model %ld, %ld heads, d_ff %ld, %ld+%ld layers, vocab %ld, %s)\n",
               static_cast<long>(model.num_parameters()), static_cast<long>(mc.d_model), static_cast<long>(mc.n_heads),
               static_cast<long>(mc.d_ff), static_cast<long>(mc.n_encoder_layers),
               static_cast<long>(mc.n_decoder_layers), static_cast<long>(mc.vocab_size),
               mc.norm_first ? "pre-LN" : "post-LN");

  train::TranslationOptions opt;
  opt.collate = {.pad_id = mc.pad_id, .bos_id = mc.bos_id, .eos_id = mc.eos_id, .max_target_len = mc.max_len};
  opt.max_tokens = a.max_tokens;
  opt.label_smoothing = a.label_smoothing;
  opt.seed = tc.seed;
  opt.detokenize = [&tok](const std::vector<int64_t>& ids) { return tok.decode(ids); };
  opt.valid_references = valid_pairs.target_text;
  opt.bleu_beam = a.bleu_beam;
  opt.bleu_sentences = a.bleu_sentences;
  train::TranslationTask task(model, std::move(train_pairs.ids), std::move(valid_pairs.ids), opt);

  train::Trainer trainer(task, tc, a.out);
  trainer.set_data_fingerprint(data::files_fingerprint({a.src, a.tgt}));
  if (a.resume) {
    trainer.resume(a.allow_new_data);
    std::fprintf(stderr, "resuming %s at step %ld\n", a.out.c_str(), static_cast<long>(trainer.step()));
  }
  if (a.trace) {
    const nn::Trace trace(model, trace_printer("one training step of the translation model (forward in training "
                                               "mode, loss, backward; no update, nothing written)"));
    trainer.trace_step(trace);
    return;
  }
  trainer.set_stop_flag(&install_stop_handler());
  if (!trainer.run([&](const std::string& dir) { tok.save(dir + "/tokenizer.json"); }))
    throw Error("interrupted at step " + std::to_string(trainer.step()) + "; the checkpoint in " + a.out +
                " holds it: continue with --resume");
  std::fprintf(stderr, "done: best val BLEU %.2f; model in %s (best in %s/best%s), log in %s/log.jsonl\n",
               trainer.best_score(), a.out.c_str(), a.out.c_str(),
               tc.average_last > 0 ? (", averaged in " + a.out + "/averaged").c_str() : "", a.out.c_str());
}

void add_train_translate_command(CLI::App& train) {
  auto* t = train.add_subcommand(
      "translate", "Train an encoder-decoder Transformer on parallel text (tokenizer included)");
  static TranslateTrainArgs a;
  t->option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  t->add_option("--src", a.src, "Training sources, one sentence per line (UTF-8)")->required();
  t->add_option("--tgt", a.tgt, "Training targets, line-aligned with --src")->required();
  t->add_option("--valid-src", a.valid_src, "Validation sources")->required();
  t->add_option("--valid-tgt", a.valid_tgt, "Validation targets (the BLEU references)")->required();
  t->add_option("--out", a.out, "Output model directory")->required();
  t->add_option("--vocab-size", a.vocab_size, "Joint BPE vocabulary size (special tokens included)")
      ->capture_default_str();
  t->add_option("--tokenizer", a.tokenizer, "Use this tokenizer (DIR or tokenizer.json) instead of training one")
      ->default_str("train one");
  t->add_option("--max-tokens", a.max_tokens, "Padded tokens per batch (sentences of similar length together)")
      ->capture_default_str();
  t->add_option("--max-len-ratio", a.max_len_ratio, "Drop pairs whose token-length ratio exceeds this (0 = off)")
      ->capture_default_str();
  t->add_option("--label-smoothing", a.label_smoothing, "Label smoothing ε")->capture_default_str();
  t->add_option("--bleu-beam", a.bleu_beam, "Beam size of the validation BLEU decoding (1 = greedy)")
      ->capture_default_str();
  t->add_option("--bleu-sentences", a.bleu_sentences, "Validation sentences decoded for BLEU (0 = all)")
      ->capture_default_str();
  t->add_option("--config", a.config, "JSON file with model and trainer fields (flags override it)")
      ->default_str("none");
  t->add_flag("--resume", a.resume, "Continue the run in --out exactly where it stopped");
  t->add_flag("--allow-new-data", a.allow_new_data, "With --resume: continue on other training files");
  t->add_flag("--trace", a.trace,
              "Run one step and stop: print every layer's tensor shapes and norms for one micro-batch "
              "((B,T,C) → (B,NH,T,hs) …), the loss and each parameter's gradient norm; writes nothing");
  t->add_option("--threads", a.threads, "Threads (0 = physical cores)")->capture_default_str();
  a.model = std::make_unique<ConfigFlags<models::Seq2SeqConfig>>(
      *t, models::Seq2SeqConfig::fields(), std::set<std::string>{"vocab_size", "pad_id", "bos_id", "eos_id"}, "Model");
  a.train = std::make_unique<ConfigFlags<train::TrainConfig>>(*t, train::TrainConfig::fields(),
                                                              std::set<std::string>{"val_fraction"}, "Training",
                                                              translation_defaults());
  t->callback([] { run_train_translate(a); });
}

}  // namespace

QKV_REGISTER_SUBCOMMAND("train", "translate", 20, add_train_translate_command);

}  // namespace qkv::cli
