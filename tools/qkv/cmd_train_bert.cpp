// `qkv train bert --data FILES… --tokenizer DIR --out DIR`: pretrain a BERT
// from scratch by masked-LM (+ next-sentence prediction) on plain text, on
// the generic trainer (exact resume, log.jsonl with the MLM/NSP losses and
// accuracies, the loss plot). Files: one sentence per line, documents
// separated by blank lines (BERT's create_pretraining_data.py format);
// --data-lines files hold one document per line (SST-2 phrases, captions);
// a .tsv file's "sentence" column is read.
#include <filesystem>

#include "commands.h"
#include "config_flags.h"
#include "trace_output.h"
#include "train_common.h"
#include "qkv/core/file_kind.h"
#include "qkv/core/json_parse.h"
#include "qkv/io/json.h"
#include "qkv/data/fingerprint.h"
#include "qkv/data/pretraining_sampler.h"
#include "qkv/models/bert.h"
#include "qkv/tokenizers/tokenizer.h"
#include "qkv/train/bert_pretraining_task.h"
#include "qkv/train/trainer.h"

namespace qkv::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct BertTrainArgs {
  std::vector<std::string> data, data_lines;
  std::string tokenizer, out, config;
  int64_t max_seq_length = 128, max_doc_sentences = 0, dupe_factor = 1;
  float mlm_probability = 0.15f, short_seq_prob = 0.1f, val_documents = 0.01f;
  bool no_nsp = false, whole_word = false, static_masking = false, resume = false, allow_new_data = false;
  bool trace = false;
  int threads = 0;
  std::shared_ptr<ConfigFlags<models::BertConfig>> model;  // shared: resume copies the args
  std::shared_ptr<ConfigFlags<train::TrainConfig>> train;
};

// BERT's pretraining recipe, scaled to a small model on a CPU (§A.2: Adam
// with warmup and linear decay, weight decay 0.01, dropout 0.1).
train::TrainConfig pretraining_defaults() {
  train::TrainConfig t;
  t.lr = 5e-4f;
  t.min_lr = 5e-5f;
  t.warmup_iters = 200;
  t.max_iters = 5000;
  t.lr_decay_iters = 5000;
  t.beta1 = 0.9f, t.beta2 = 0.999f;
  t.weight_decay = 0.01f;
  t.grad_clip = 1.0f;
  t.batch_size = 32;
  t.eval_interval = 250;
  t.eval_iters = 10;
  t.log_interval = 10;
  return t;
}

data::PretrainingCorpus read_corpus(const BertTrainArgs& a, const tokenizers::Tokenizer& tok) {
  data::PretrainingCorpus corpus;
  bool any = false;
  auto add = [&](const std::vector<std::string>& files, data::DocumentRule rule) {
    if (files.empty()) return;
    data::CorpusOptions o;
    o.rule = rule;
    o.max_sentences_per_document = a.max_doc_sentences;
    data::PretrainingCorpus part = data::read_pretraining_corpus(files, tok, o);
    if (!any) corpus = std::move(part);
    else corpus.append(part);
    any = true;
  };
  add(a.data, data::DocumentRule::BlankLine);
  add(a.data_lines, data::DocumentRule::Line);
  if (!any) throw ValueError("give the text to pretrain on: --data FILE… and/or --data-lines FILE…");
  return corpus;
}

// The data options of a run, saved in OUT/pretraining_data.json: a resumed
// run reads the same stream (its flags for these are not consulted).
json data_options_json(const BertTrainArgs& a) {
  return {{"data", a.data}, {"data_lines", a.data_lines}, {"max_seq_length", a.max_seq_length},
          {"max_doc_sentences", a.max_doc_sentences}, {"dupe_factor", a.dupe_factor},
          {"mlm_probability", a.mlm_probability}, {"short_seq_prob", a.short_seq_prob},
          {"val_documents", a.val_documents}, {"whole_word", a.whole_word}, {"static_masking", a.static_masking}};
}

void load_data_options(const std::string& path, BertTrainArgs& a) {
  try {
    const json j = io::read_json(path);
    a.max_seq_length = j.at("max_seq_length"), a.max_doc_sentences = j.at("max_doc_sentences");
    a.dupe_factor = j.at("dupe_factor"), a.mlm_probability = j.at("mlm_probability");
    a.short_seq_prob = j.at("short_seq_prob"), a.val_documents = j.at("val_documents");
    a.whole_word = j.at("whole_word"), a.static_masking = j.at("static_masking");
  } catch (const json::exception& e) {
    throw IOError(path + ": " + strip_json_prefix(e.what()));
  }
}

void run_train_bert(const BertTrainArgs& given) {
  apply_threads(given.threads);
  BertTrainArgs a = given;
  const std::string options_path = a.out + "/pretraining_data.json";
  if (a.resume) {
    if (!fs::exists(options_path)) throw IOError(a.out + ": cannot --resume: missing pretraining_data.json");
    load_data_options(options_path, a);
  }
  for (const auto* files : {&a.data, &a.data_lines})
    for (const auto& f : *files) require_regular_file(f);
  if (a.allow_new_data && !a.resume) throw ValueError("--allow-new-data applies only with --resume");
  prepare_out(a.out, a.resume);
  if (!(a.val_documents > 0 && a.val_documents < 0.5f)) throw ValueError("--val-documents must be in (0, 0.5)");
  models::BertConfig defaults;
  defaults.head = a.no_nsp ? models::BertHead::MaskedLM : models::BertHead::PreTraining;
  auto [model_j, train_j] = merged_configs<models::BertConfig>(defaults.to_json(), pretraining_defaults().to_json(),
                                                                a.resume, a.out, a.config, *a.model, *a.train);
  if (!a.resume && a.tokenizer.empty()) throw ValueError("--tokenizer DIR is required (a WordPiece vocabulary: "
                                                         "tokenizer.json or BERT's vocab.txt)");
  const tokenizers::Tokenizer tok = tokenizers::Tokenizer::from_path(a.resume ? a.out + "/tokenizer.json" : a.tokenizer);
  model_j["vocab_size"] = tok.vocab_size();
  if (auto pad = tok.token_to_id("[PAD]")) model_j["pad_token_id"] = *pad;
  const models::BertConfig mc = models::BertConfig::from_json(model_j);
  const train::TrainConfig tc = train::TrainConfig::from_json(train_j);
  tc.validate();
  if (a.max_seq_length > mc.max_position_embeddings)
    throw ValueError("--max-seq-length " + std::to_string(a.max_seq_length) + " is longer than --max-position-embeddings " +
                     std::to_string(mc.max_position_embeddings));

  data::PretrainingCorpus corpus = read_corpus(a, tok);
  const int64_t D = corpus.num_documents();
  const int64_t n_val = std::max<int64_t>(2, static_cast<int64_t>(static_cast<double>(D) * a.val_documents));
  if (D < n_val + 2)
    throw ValueError("the corpus has " + std::to_string(D) + " documents: too few to hold out " + std::to_string(n_val) +
                     " for validation and train on the rest");
  std::fprintf(stderr, "data: %ld documents, %ld sentences, %ld tokens (validation: the last %ld documents)\n",
               static_cast<long>(D), static_cast<long>(corpus.num_sentences()), static_cast<long>(corpus.num_tokens()),
               static_cast<long>(n_val));
  data::PretrainingOptions po;
  po.instances.max_seq_length = a.max_seq_length;
  po.instances.short_seq_prob = a.short_seq_prob;
  po.instances.next_sentence = mc.head == models::BertHead::PreTraining;
  po.masking.mlm_probability = a.mlm_probability;
  po.masking.whole_word = a.whole_word;
  po.dynamic_masking = !a.static_masking;
  po.dupe_factor = a.dupe_factor;
  po.seed = tc.seed;
  const data::MlmVocab vocab = data::MlmVocab::from_tokenizer(tok);
  data::BertPretrainingSampler train_s(corpus.slice(0, D - n_val), vocab, po);
  data::BertPretrainingSampler val_s(corpus.slice(D - n_val, D), vocab, po);

  Generator gen(tc.seed);
  models::Bert model(mc, gen);
  std::fprintf(stderr, "model: %s, %ld parameters (%ld layers, hidden %ld, %ld heads, vocab %ld)\n",
               models::bert_head_name(mc.head), static_cast<long>(model.num_parameters()),
               static_cast<long>(mc.num_hidden_layers), static_cast<long>(mc.hidden_size),
               static_cast<long>(mc.num_attention_heads), static_cast<long>(mc.vocab_size));
  train::BertPretrainingTask task(model, std::move(train_s), std::move(val_s), tc.eval_iters, tc.batch_size);
  train::Trainer trainer(task, tc, a.out);
  std::vector<std::string> files = a.data;
  files.insert(files.end(), a.data_lines.begin(), a.data_lines.end());
  trainer.set_data_fingerprint(data::files_fingerprint(files));
  if (a.resume) {
    trainer.resume(a.allow_new_data);
    std::fprintf(stderr, "resuming %s at step %ld\n", a.out.c_str(), static_cast<long>(trainer.step()));
  }
  if (a.trace) {
    const nn::Trace trace(model, trace_printer("one pre-training step of BERT (forward in training mode, loss, "
                                               "backward; no update, nothing written)"));
    trainer.trace_step(trace);
    return;
  }
  if (!a.resume) {
    fs::create_directories(a.out);
    io::write_json_atomic(options_path, data_options_json(a));
  }
  trainer.set_stop_flag(&install_stop_handler());
  if (!trainer.run([&](const std::string& dir) { tok.save(dir + "/tokenizer.json"); }))
    throw Error("interrupted at step " + std::to_string(trainer.step()) + "; the checkpoint in " + a.out +
                " holds it: continue with --resume");
  std::fprintf(stderr, "done: best val loss %.4f; model in %s (best in %s/best), log in %s/log.jsonl\n",
               trainer.best_val_loss(), a.out.c_str(), a.out.c_str(), a.out.c_str());
}

void add_train_bert_command(CLI::App& train) {
  static BertTrainArgs a;
  auto* g = train.add_subcommand(
      "bert", "Pretrain a BERT from scratch: masked LM (15% of tokens, 80/10/10) + next-sentence prediction "
              "(Hugging Face's BertConfig names: --hidden-size, --num-hidden-layers, …)");
  g->option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  g->add_option("--data", a.data, "Text files: a sentence per line, a blank line between documents (.tsv: its "
                                  "\"sentence\" column)")
      ->default_str("none")
      ->expected(1, -1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  g->add_option("--data-lines", a.data_lines, "Text files whose every line is a document of its own")
      ->default_str("none")
      ->expected(1, -1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  g->add_option("--tokenizer", a.tokenizer, "WordPiece tokenizer: DIR, tokenizer.json or vocab.txt")->default_str("none");
  g->add_option("--out", a.out, "Output model directory")->required();
  g->add_option("--config", a.config, "JSON file with model and trainer fields (flags override it)")->default_str("none");
  g->add_option("--max-seq-length", a.max_seq_length, "Tokens per instance, [CLS] and [SEP]s included")
      ->capture_default_str();
  g->add_option("--max-doc-sentences", a.max_doc_sentences,
                "Cut documents into parts of at most this many lines (0 = no limit; for files without blank lines)")
      ->capture_default_str();
  g->add_option("--mlm-probability", a.mlm_probability, "Share of tokens chosen for the masked LM")->capture_default_str();
  g->add_option("--short-seq-prob", a.short_seq_prob, "Share of instances with a shorter random target length")
      ->capture_default_str();
  g->add_option("--dupe-factor", a.dupe_factor, "Instance sets cycled over epochs (different pairs and splits)")
      ->capture_default_str();
  g->add_option("--val-documents", a.val_documents, "Share of documents (the last ones) held out for validation")
      ->capture_default_str();
  g->add_flag("--no-nsp", a.no_nsp, "Masked LM only (RoBERTa's full sentences; a BertForMaskedLM)");
  g->add_flag("--whole-word", a.whole_word, "Whole-word masking (a word and its ## pieces together)");
  g->add_flag("--static-masking", a.static_masking, "Masks fixed per instance set (BERT) instead of fresh each epoch");
  g->add_flag("--resume", a.resume,
              "Continue the run in --out exactly where it stopped (with its data options, pretraining_data.json)");
  g->add_flag("--allow-new-data", a.allow_new_data, "With --resume: continue although the data files changed");
  g->add_flag("--trace", a.trace,
              "Run one step and stop: print every layer's tensor shapes and norms for one micro-batch "
              "((B,T,C) → (B,NH,T,hs) …), the loss and each parameter's gradient norm; writes nothing");
  g->add_option("--threads", a.threads, "Threads (0 = physical cores)")->capture_default_str();
  a.model = std::make_shared<ConfigFlags<models::BertConfig>>(*g, models::BertConfig::fields(),
                                                              std::set<std::string>{"vocab_size", "pad_token_id"}, "Model");
  a.train = std::make_shared<ConfigFlags<train::TrainConfig>>(*g, train::TrainConfig::fields(), std::set<std::string>{},
                                                              "Training", pretraining_defaults());
  g->callback([] { run_train_bert(a); });
}

}  // namespace

QKV_REGISTER_SUBCOMMAND("train", "bert", 20, add_train_bert_command);

}  // namespace qkv::cli
