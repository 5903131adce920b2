// `qkv finetune classify|ner|qa --model DIR --train FILE --dev FILE --out DIR`:
// a BERT (a qkv pretraining run or a Hugging Face directory) fine-tuned with
// a new head, as Hugging Face's run_glue / run_ner / run_qa:
//   classify  SST-2-style TSV (sentence [, second text], label) → BertForSequenceClassification; dev accuracy, macro F1
//   ner       CoNLL-2003 (word … tag per line) → BertForTokenClassification, labels on first sub-words;
//             dev entity F1 as conlleval/seqeval
//   qa        SQuAD JSON → BertForQuestionAnswering over windows with a stride; dev EM/F1 (v1.1, or v2.0
//             with no-answer when the data has impossible questions)
// The best checkpoint by the dev score is kept in OUT/best; the dev
// predictions of the final model are written to OUT/dev_predictions.* in
// the format `qkv eval` reads.
#include <cmath>
#include <filesystem>

#include "commands.h"
#include "config_flags.h"
#include "train_common.h"
#include "qkv/core/file_kind.h"
#include "qkv/data/classification.h"
#include "qkv/data/conll.h"
#include "qkv/data/fingerprint.h"
#include "qkv/data/qa.h"
#include "qkv/data/squad.h"
#include "qkv/data/token_classification.h"
#include "qkv/io/file.h"
#include "qkv/io/json.h"
#include "qkv/metrics/classification.h"
#include "qkv/metrics/seqeval.h"
#include "qkv/metrics/squad.h"
#include "qkv/models/bert.h"
#include "qkv/models/registry.h"
#include "qkv/ops/ops.h"
#include "qkv/tokenizers/tokenizer.h"
#include "qkv/train/encoder_task.h"
#include "qkv/train/trainer.h"

namespace qkv::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

enum class Kind { Classify, Ner, Qa };

struct BertFinetuneArgs {
  Kind kind = Kind::Classify;
  std::string model, train_file, dev_file, test_file, out;
  int64_t max_length = 0, doc_stride = 128, freeze_layers = 0, max_answer_length = 30;
  float epochs = 3.0f, null_threshold = 0.0f;
  bool no_pretrained = false, resume = false;
  int threads = 0;
  std::shared_ptr<ConfigFlags<train::TrainConfig>> train;  // shared: the args are copied to fill in defaults
};

// Hugging Face's fine-tuning recipe (run_glue: AdamW 5e-5, linear decay,
// weight decay 0.01 here, warmup 10%); max_iters and the intervals follow --epochs.
train::TrainConfig finetune_task_defaults() {
  train::TrainConfig t;
  t.lr = 5e-5f;
  t.min_lr = 0.0f;
  t.batch_size = 32;
  t.weight_decay = 0.01f;
  t.grad_clip = 1.0f;
  t.eval_iters = 1;
  t.log_interval = 20;
  return t;
}

// A set the run scores (dev, test): its examples and how their predictions
// are scored.
struct ScoredSet {
  std::vector<train::EncoderExample> examples;
  // Scores predictions ("val_…" keys); also writes them to `predictions_path` when not empty.
  std::function<json(const std::vector<Tensor>&, const std::string& predictions_path)> score;
};

// The data of one task, turned into examples, with what scoring needs.
struct TaskData {
  std::vector<std::string> labels;  // head labels (classify, ner)
  std::vector<train::EncoderExample> train;
  ScoredSet dev, test;  // test.examples empty without --test
  std::string best;
};

train::EncoderExample from_fields(const data::Example& e, std::vector<int64_t> labels) {
  return {e.at("input_ids"), e.has("token_type_ids") ? e.at("token_type_ids") : std::vector<int64_t>{},
          std::move(labels)};
}

int64_t argmax_of(const Tensor& row) { return static_cast<int64_t>(argmax(row, 0).item()); }

std::vector<train::EncoderExample> classification_examples(const data::ClassificationData& cd,
                                                          const tokenizers::Tokenizer& tok, int64_t max_length) {
  std::vector<train::EncoderExample> out;
  const auto ex = data::encode_classification(tok, cd, static_cast<size_t>(max_length));
  for (size_t i = 0; i < ex.size(); ++i) out.push_back(from_fields(ex[i], {cd.label_ids[i]}));
  return out;
}

ScoredSet classification_set(const std::string& path, const data::ClassificationSpec& spec,
                             const tokenizers::Tokenizer& tok, int64_t max_length) {
  const auto cd = data::read_classification_tsv(path, spec);
  ScoredSet set;
  set.examples = classification_examples(cd, tok, max_length);
  std::vector<std::string> gold;
  for (int64_t l : cd.label_ids) gold.push_back(spec.labels[l]);
  set.score = [gold, names = spec.labels](const std::vector<Tensor>& preds, const std::string& path) {
    std::vector<std::string> pred;
    for (const Tensor& p : preds) pred.push_back(names[argmax_of(p)]);
    const auto r = metrics::classification_report(gold, pred, names);
    if (!path.empty()) {
      std::string text = "label\n";
      for (const auto& p : pred) text += p + "\n";
      io::write_file_atomic(path, text);
    }
    return json{{"val_accuracy", 100 * r.accuracy}, {"val_macro_f1", 100 * r.macro.f1}};
  };
  return set;
}

TaskData classify_data(const BertFinetuneArgs& a, const tokenizers::Tokenizer& tok, std::vector<std::string> labels) {
  data::ClassificationSpec spec;
  spec.labels = labels;
  const auto tr = data::read_classification_tsv(a.train_file, spec);
  spec.labels = tr.labels.names;
  TaskData d;
  d.labels = tr.labels.names;
  d.train = classification_examples(tr, tok, a.max_length);
  d.dev = classification_set(a.dev_file, spec, tok, a.max_length);
  if (!a.test_file.empty()) d.test = classification_set(a.test_file, spec, tok, a.max_length);
  d.best = "val_accuracy";
  return d;
}

data::ConllData read_conll_iob2(const std::string& path) {
  data::ConllData cd = data::read_conll(path);
  data::convert_iob1_to_iob2(cd);
  return cd;
}

// The examples of a CoNLL set; word_ids (when given) gets each example's
// token → word map.
std::vector<train::EncoderExample> ner_examples(const data::ConllData& cd, const data::LabelSet& set,
                                                const tokenizers::Tokenizer& tok, int64_t max_length,
                                                std::vector<std::vector<int64_t>>* word_ids) {
  std::vector<train::EncoderExample> out;
  const auto ids = data::tag_ids(cd, set);
  for (size_t s = 0; s < cd.sentences.size(); ++s) {
    auto f = data::tokenize_and_align_labels(tok, cd.sentences[s].words, ids[s], static_cast<size_t>(max_length));
    out.push_back(from_fields(f.example, f.example.at("labels")));
    if (word_ids) word_ids->push_back(f.word_ids);
  }
  return out;
}

ScoredSet ner_set(const data::ConllData& dv, const data::LabelSet& labels, const tokenizers::Tokenizer& tok,
                  int64_t max_length) {
  ScoredSet set;
  auto dev_words = std::make_shared<std::vector<std::vector<int64_t>>>();
  set.examples = ner_examples(dv, labels, tok, max_length, dev_words.get());
  set.score = [dv, dev_words, names = labels.names](const std::vector<Tensor>& preds, const std::string& path) {
    std::vector<std::vector<std::string>> gold, pred;
    std::string text;
    for (size_t s = 0; s < preds.size(); ++s) {
      const auto tokens = argmax(preds[s], 1).to_int_vector();
      const auto& sent = dv.sentences[s];
      // Words past the truncation get no prediction: tagged O, as run_ner leaves them.
      const auto words = data::word_predictions((*dev_words)[s], tokens, sent.words.size(), 0);
      std::vector<std::string> tags;
      for (size_t w = 0; w < words.size(); ++w) tags.push_back(names[words[w] < 0 ? 0 : words[w]]);
      gold.push_back(sent.tags), pred.push_back(tags);
      for (size_t w = 0; w < tags.size(); ++w) text += sent.words[w] + " " + sent.tags[w] + " " + tags[w] + "\n";
      text += "\n";
    }
    if (!path.empty()) io::write_file_atomic(path, text);
    const auto r = metrics::entity_scores(gold, pred);
    json j{{"val_f1", 100 * r.micro.f1}, {"val_precision", 100 * r.micro.precision}, {"val_recall", 100 * r.micro.recall}};
    for (const auto& t : r.per_type) j["val_f1_" + t.type] = 100 * t.f1;
    return j;
  };
  return set;
}

TaskData ner_data(const BertFinetuneArgs& a, const tokenizers::Tokenizer& tok, std::vector<std::string> labels) {
  const data::ConllData tr = read_conll_iob2(a.train_file), dv = read_conll_iob2(a.dev_file);
  const data::ConllData te = a.test_file.empty() ? data::ConllData{} : read_conll_iob2(a.test_file);
  // The tags of all files (a small training file may lack a tag the dev file has).
  std::vector<std::string> tags = tr.all_tags();
  for (const data::ConllData* other : {&dv, &te}) {
    const auto more = other->all_tags();
    tags.insert(tags.end(), more.begin(), more.end());
  }
  const data::LabelSet set = labels.empty() ? data::LabelSet::infer(tags) : data::LabelSet(labels);
  TaskData d;
  d.labels = set.names;
  d.train = ner_examples(tr, set, tok, a.max_length, nullptr);
  d.dev = ner_set(dv, set, tok, a.max_length);
  if (!a.test_file.empty()) d.test = ner_set(te, set, tok, a.max_length);
  d.best = "val_f1";
  return d;
}

ScoredSet qa_set(const BertFinetuneArgs& a, const std::string& path, const tokenizers::Tokenizer& tok,
                 const data::QaFeatureOptions& fo) {
  auto dv = std::make_shared<std::vector<data::SquadExample>>(data::read_squad(path));
  ScoredSet set;
  auto dev_feats = std::make_shared<std::vector<data::QaFeature>>(data::prepare_qa_features(tok, *dv, fo));
  for (const auto& f : *dev_feats) set.examples.push_back(from_fields(f.example, {f.start_position, f.end_position}));
  bool v2 = false;
  for (const auto& e : *dv) v2 = v2 || e.is_impossible;
  data::QaPostprocessOptions po;
  po.version_2_with_negative = v2;
  po.max_answer_length = static_cast<size_t>(a.max_answer_length);
  po.null_score_diff_threshold = a.null_threshold;
  set.score = [dv, dev_feats, po, v2](const std::vector<Tensor>& preds, const std::string& path) {
    std::vector<std::vector<float>> starts, ends;
    for (const Tensor& p : preds) starts.push_back(p.select(1, 0).contiguous().to_vector()), ends.push_back(p.select(1, 1).contiguous().to_vector());
    const auto answers = data::postprocess_qa_predictions(*dv, *dev_feats, starts, ends, po);
    metrics::SquadPredictions map;
    json out = json::object();
    for (const auto& p : answers) map[p.id] = p.text, out[p.id] = p.text;
    if (!path.empty()) io::write_json_atomic(path, out);
    std::vector<metrics::SquadQuestion> qs;
    for (const auto& e : *dv) {
      metrics::SquadQuestion q{e.id, {}};
      for (const auto& ans : e.answers) q.answers.push_back(ans.text);
      qs.push_back(q);
    }
    if (!v2) {
      const auto r = metrics::squad_v1_evaluate(qs, map);
      return json{{"val_exact_match", r.exact_match}, {"val_f1", r.f1}};
    }
    const auto r = metrics::squad_v2_evaluate(qs, map);
    return json{{"val_exact_match", r.all.exact}, {"val_f1", r.all.f1}};
  };
  return set;
}

TaskData qa_data(const BertFinetuneArgs& a, const tokenizers::Tokenizer& tok) {
  const auto tr = data::read_squad(a.train_file);
  data::QaFeatureOptions fo;
  fo.max_length = static_cast<size_t>(a.max_length), fo.doc_stride = static_cast<size_t>(a.doc_stride);
  TaskData d;
  for (const auto& f : data::prepare_qa_features(tok, tr, fo))
    d.train.push_back(from_fields(f.example, {f.start_position, f.end_position}));
  d.dev = qa_set(a, a.dev_file, tok, fo);
  if (!a.test_file.empty()) d.test = qa_set(a, a.test_file, tok, fo);
  d.best = "val_f1";
  return d;
}

// The model to fine-tune: a new head on the pretrained encoder `base` (or,
// with --no-pretrained, the same architecture from random weights).
std::unique_ptr<models::Bert> build_model(const BertFinetuneArgs& a, std::unique_ptr<models::Bert> base,
                                          models::BertHead head, const std::vector<std::string>& labels,
                                          uint64_t seed) {
  if (a.resume) return base;  // the run's own model, head included
  models::BertConfig c = base->config;
  c.head = head;
  c.labels = labels;
  Generator gen(seed);
  auto m = std::make_unique<models::Bert>(c, gen);
  if (!a.no_pretrained) m->load_encoder_from(*base);
  return m;
}

models::BertHead bert_head(Kind kind) {
  return kind == Kind::Classify ? models::BertHead::SequenceClassification
         : kind == Kind::Ner    ? models::BertHead::TokenClassification
                                : models::BertHead::QuestionAnswering;
}

train::EncoderHead encoder_head(Kind kind) {
  return kind == Kind::Classify ? train::EncoderHead::Sequence
         : kind == Kind::Ner    ? train::EncoderHead::Token
                                : train::EncoderHead::Span;
}

// {"val_f1": …} → {"test_f1": …}
json with_prefix(const json& scores, const std::string& prefix) {
  json out = json::object();
  for (const auto& [k, v] : scores.items()) out[prefix + (k.rfind("val_", 0) == 0 ? k.substr(4) : k)] = v;
  return out;
}

// run_ner's --do_predict: the checkpoint chosen on dev (OUT/best; the final
// model when no evaluation kept one) scores the test set once, after
// training: OUT/test_predictions.EXT and OUT/test_results.json.
void score_test_set(const BertFinetuneArgs& a, const TaskData& d, const std::string& ext) {
  const std::string dir = fs::exists(a.out + "/best/config.json") ? a.out + "/best" : a.out;
  auto model = models::load_model_as<models::Bert>(dir, "qkv finetune --test");
  train::EncoderTaskOptions opt;
  train::EncoderFinetuneTask task(*model, encoder_head(a.kind), d.test.examples, d.test.examples, opt);
  json scores = with_prefix(d.test.score(task.predict(d.test.examples), a.out + "/test_predictions" + ext), "test_");
  scores["model"] = dir;
  io::write_json_atomic(a.out + "/test_results.json", scores);
  std::fprintf(stderr, "test (%s, %zu examples): %s; predictions in %s/test_predictions%s\n", dir.c_str(),
               d.test.examples.size(), scores.dump().c_str(), a.out.c_str(), ext.c_str());
}

void run_finetune_bert(const BertFinetuneArgs& a) {
  apply_threads(a.threads);
  require_regular_file(a.train_file);
  require_regular_file(a.dev_file);
  if (!a.test_file.empty()) require_regular_file(a.test_file);
  prepare_out(a.out, a.resume);
  if (!(a.epochs > 0)) throw ValueError("--epochs must be > 0");
  const std::string tok_dir = a.resume ? a.out : a.model;
  const tokenizers::Tokenizer tok = tokenizers::Tokenizer::from_path(tok_dir);
  auto base = models::load_model_as<models::Bert>(a.resume ? a.out : a.model, "qkv finetune");
  BertFinetuneArgs args = a;
  if (args.max_length == 0)
    args.max_length = std::min<int64_t>(a.kind == Kind::Qa ? 384 : 128, base->config.max_position_embeddings);
  if (base->config.max_position_embeddings < args.max_length)
    throw ValueError("--max-length " + std::to_string(args.max_length) + " is longer than the model reads (" +
                     std::to_string(base->config.max_position_embeddings) + ")");
  // Labels: those of the run when resuming, else from the training data.
  std::vector<std::string> labels;
  if (a.resume) labels = models::BertConfig::from_json(io::read_json(a.out + "/config.json")).labels;
  TaskData d = a.kind == Kind::Classify ? classify_data(args, tok, labels)
               : a.kind == Kind::Ner    ? ner_data(args, tok, labels)
                                        : qa_data(args, tok);
  const models::BertHead head = bert_head(a.kind);
  json train_j = finetune_task_defaults().to_json();
  if (a.resume) train_j = train::TrainConfig::upgrade_saved_json(io::read_json(a.out + "/trainer_state.json").at("train_config"));
  json with_flags = train_j;
  a.train->apply_given(with_flags);
  const int64_t batch = with_flags["batch_size"].get<int64_t>();
  const int64_t per_epoch = (static_cast<int64_t>(d.train.size()) + batch - 1) / batch;
  if (!a.resume) {
    const int64_t iters = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(a.epochs * per_epoch)));
    train_j["max_iters"] = iters, train_j["lr_decay_iters"] = iters;
    train_j["warmup_iters"] = iters / 10;
    train_j["eval_interval"] = std::max<int64_t>(1, std::min<int64_t>(per_epoch, iters));
  }
  a.train->apply_given(train_j);
  const train::TrainConfig tc = train::TrainConfig::from_json(train_j);
  tc.validate();
  auto model = build_model(args, std::move(base), head, d.labels, tc.seed);
  train::freeze_bottom_layers(*model, a.freeze_layers);
  std::fprintf(stderr, "fine-tuning %s: %zu train and %zu dev examples, %ld steps (%.3g epochs of %ld), labels %zu%s\n",
               models::bert_head_name(head), d.train.size(), d.dev.examples.size(), static_cast<long>(tc.max_iters),
               static_cast<double>(tc.max_iters) / static_cast<double>(per_epoch), static_cast<long>(per_epoch),
               d.labels.size(), a.no_pretrained ? " (no pretrained weights)" : "");
  train::EncoderTaskOptions opt;
  opt.seed = tc.seed;
  opt.metrics = [&](const std::vector<Tensor>& p) { return d.dev.score(p, ""); };
  opt.best_metric = d.best;
  train::EncoderFinetuneTask task(*model, encoder_head(a.kind), d.train, d.dev.examples, opt);
  train::Trainer trainer(task, tc, a.out);
  trainer.set_data_fingerprint(data::files_fingerprint({a.train_file, a.dev_file}));
  if (a.resume) trainer.resume(false);
  trainer.set_stop_flag(&install_stop_handler());
  if (!trainer.run([&](const std::string& dir) { tok.save(dir + "/tokenizer.json"); }))
    throw Error("interrupted at step " + std::to_string(trainer.step()) + "; the checkpoint in " + a.out +
                " holds it: continue with --resume");
  const std::string ext = a.kind == Kind::Classify ? ".tsv" : a.kind == Kind::Ner ? ".conll" : ".json";
  const json final_scores = d.dev.score(task.predict(d.dev.examples), a.out + "/dev_predictions" + ext);
  std::fprintf(stderr, "done: dev %s; best %s %.2f in %s/best; dev predictions in %s/dev_predictions%s\n",
               final_scores.dump().c_str(), d.best.c_str(), trainer.best_score(), a.out.c_str(), a.out.c_str(),
               ext.c_str());
  if (!d.test.examples.empty()) score_test_set(a, d, ext);
}

void add_task(CLI::App& finetune, const char* name, Kind kind, const char* help, const char* data_help) {
  static BertFinetuneArgs args[3];
  BertFinetuneArgs& a = args[static_cast<int>(kind)];
  a.kind = kind;
  auto* c = finetune.add_subcommand(name, help);
  c->option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  c->add_option("--model", a.model, "Pretrained BERT directory (qkv train bert, or a Hugging Face bert)")
      ->default_str("none");
  c->add_option("--train", a.train_file, data_help)->required();
  c->add_option("--dev", a.dev_file, "Development set, same format: scored at every evaluation")->required();
  c->add_option("--test", a.test_file,
                "Test set, same format: scored once at the end by the best checkpoint on dev "
                "(OUT/test_results.json, OUT/test_predictions.*; with --resume of a finished run, no training)")
      ->default_str("none");
  c->add_option("--out", a.out, "Output model directory")->required();
  c->add_option("--epochs", a.epochs, "Passes over the training set (sets max_iters)")->capture_default_str();
  c->add_option("--max-length", a.max_length,
                "Tokens per input, special tokens included (0 = 128, qa 384, or the model's maximum if shorter)")
      ->capture_default_str();
  if (kind == Kind::Qa) {
    c->add_option("--doc-stride", a.doc_stride, "Tokens shared by neighbouring context windows")->capture_default_str();
    c->add_option("--max-answer-length", a.max_answer_length, "Longest answer span in tokens")->capture_default_str();
    c->add_option("--null-score-diff-threshold", a.null_threshold, "SQuAD 2.0: answer \"\" when null − best > this")
        ->capture_default_str();
  }
  c->add_option("--freeze-layers", a.freeze_layers, "Freeze the embeddings and the first N encoder layers")
      ->capture_default_str();
  c->add_flag("--no-pretrained", a.no_pretrained, "Same architecture, random initial weights (the baseline)");
  c->add_flag("--resume", a.resume, "Continue the run in --out exactly where it stopped");
  c->add_option("--threads", a.threads, "Threads (0 = physical cores)")->capture_default_str();
  a.train = std::make_shared<ConfigFlags<train::TrainConfig>>(*c, train::TrainConfig::fields(), std::set<std::string>{},
                                                              "Training", finetune_task_defaults());
  c->callback([&a] {
    if (!a.resume && a.model.empty()) throw ValueError("--model DIR is required (the pretrained BERT)");
    run_finetune_bert(a);
  });
}

void add_finetune_classify(CLI::App& f) {
  add_task(f, "classify", Kind::Classify,
           "Fine-tune BERT for sequence classification (SST-2-style TSV); dev accuracy and macro F1",
           "Training TSV with a header: sentence (and a second text column) and label");
}
void add_finetune_ner(CLI::App& f) {
  add_task(f, "ner", Kind::Ner, "Fine-tune BERT for named entities (CoNLL-2003 files); dev entity F1 (conlleval)",
           "Training file in CoNLL format: a word and its tag (last column) per line, blank lines between sentences");
}
void add_finetune_qa(CLI::App& f) {
  add_task(f, "qa", Kind::Qa, "Fine-tune BERT for extractive question answering (SQuAD JSON); dev EM and F1",
           "Training file in SQuAD JSON (v1.1, or v2.0 with impossible questions)");
}

}  // namespace

QKV_REGISTER_SUBCOMMAND("finetune", "classify", 10, add_finetune_classify);
QKV_REGISTER_SUBCOMMAND("finetune", "ner", 20, add_finetune_ner);
QKV_REGISTER_SUBCOMMAND("finetune", "qa", 30, add_finetune_qa);

}  // namespace qkv::cli
