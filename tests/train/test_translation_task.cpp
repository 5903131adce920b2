// Translation through the model-agnostic trainer: a tiny Transformer learns
// a handful of fixed pairs until greedy decoding reproduces them exactly
// (the notes' "let's go" → "vamos"); epochs of token-budget batches resume
// exactly; the whole-validation loss is token-weighted; Noam's schedule,
// BLEU-selected best checkpoints and checkpoint averaging do what they say;
// bad data is refused with the pair named.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "qkv/autograd/autograd.h"
#include "qkv/io/json.h"
#include "qkv/io/safetensors.h"
#include "qkv/models/registry.h"
#include "qkv/models/transformer.h"
#include "qkv/ops/ops.h"
#include "qkv/train/trainer.h"
#include "qkv/train/translation_task.h"

using namespace qkv;
namespace fs = std::filesystem;

namespace {

std::string tmpdir(const std::string& name) {
  std::string d = (fs::temp_directory_path() / ("qkv_translate_" + name + "_" + std::to_string(::getpid()))).string();
  fs::remove_all(d);
  return d;
}

// A word vocabulary: 0 <pad>, 1 <s>, 2 </s>, then the words.
struct Vocab {
  std::vector<std::string> words{"<pad>", "<s>", "</s>"};
  std::map<std::string, int64_t> ids;
  std::vector<int64_t> encode(const std::string& text) {
    std::vector<int64_t> out;
    std::istringstream in(text);
    for (std::string w; in >> w;) {
      auto [it, added] = ids.emplace(w, static_cast<int64_t>(words.size()));
      if (added) words.push_back(w);
      out.push_back(it->second);
    }
    return out;
  }
  std::string decode(const std::vector<int64_t>& ids_) const {
    std::string out;
    for (int64_t id : ids_) out += (out.empty() ? "" : " ") + words.at(static_cast<size_t>(id));
    return out;
  }
};

const std::vector<std::pair<std::string, std::string>> kPairs = {
    {"let's go", "vamos"},
    {"good morning", "buenos días"},
    {"thank you very much", "muchas gracias"},
    {"where is the station ?", "¿ dónde está la estación ?"},
    {"I like green tea", "me gusta el té verde"},
    {"see you tomorrow", "hasta mañana"},
};

models::Seq2SeqConfig tiny_config(int64_t vocab) {
  models::Seq2SeqConfig c;
  c.vocab_size = vocab, c.d_model = 32, c.n_heads = 4, c.d_ff = 64, c.n_encoder_layers = 2, c.n_decoder_layers = 2;
  c.dropout = 0.0f, c.max_len = 16;
  return c;
}

train::TrainConfig noam_config(int64_t iters) {
  train::TrainConfig t;
  t.lr_schedule = "noam";
  t.lr = 3e-3f, t.warmup_iters = 20;
  t.beta2 = 0.98f, t.adam_eps = 1e-9f, t.weight_decay = 0.0f, t.grad_clip = 0.0f;
  t.max_iters = iters, t.eval_interval = 40, t.eval_iters = 2, t.batch_size = 4, t.log_interval = 1000;
  return t;
}

struct TinyRun {
  Vocab vocab;
  train::TranslationData data;
  std::vector<std::string> refs;
  Generator gen;
  std::unique_ptr<models::Transformer> model;
  std::unique_ptr<train::TranslationTask> task;
  TinyRun(int64_t max_tokens, uint64_t seed = 5) : gen(seed) {
    for (const auto& [s, t] : kPairs) {
      data.source.push_back(vocab.encode(s));
      data.target.push_back(vocab.encode(t));
      refs.push_back(t);
    }
    model = std::make_unique<models::Transformer>(tiny_config(static_cast<int64_t>(vocab.words.size())), gen);
    train::TranslationOptions opt;
    opt.collate = {.pad_id = 0, .bos_id = 1, .eos_id = 2, .max_target_len = 16};
    opt.max_tokens = max_tokens;
    opt.label_smoothing = 0.1f;
    opt.detokenize = [this](const std::vector<int64_t>& ids) { return vocab.decode(ids); };
    opt.valid_references = refs;
    task = std::make_unique<train::TranslationTask>(*model, data, data, opt);
  }
};

std::vector<nlohmann::json> log_lines(const std::string& dir) {
  std::vector<nlohmann::json> out;
  std::ifstream in(dir + "/log.jsonl");
  for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
  return out;
}

}  // namespace

TEST(TranslationTask, TinyModelLearnsFixedPairsExactly) {
  const std::string dir = tmpdir("tiny");
  TinyRun r(24);
  train::Trainer trainer(*r.task, noam_config(80), dir);
  ASSERT_TRUE(trainer.run());
  r.model->eval();
  const auto hyps = r.task->translate(r.data.source);
  for (size_t i = 0; i < kPairs.size(); ++i) EXPECT_EQ(r.vocab.decode(hyps[i]), kPairs[i].second) << kPairs[i].first;
  // BLEU was logged at every evaluation; the last is perfect, and it picked the best.
  const auto log = log_lines(dir);
  ASSERT_EQ(log.size(), 3u);  // steps 0, 40, 80
  EXPECT_LT(log.front()["val_bleu"].get<double>(), 5.0);
  EXPECT_DOUBLE_EQ(log.back()["val_bleu"].get<double>(), 100.0);
  EXPECT_DOUBLE_EQ(trainer.best_score(), 100.0);
  EXPECT_TRUE(fs::exists(dir + "/best/model.safetensors"));
  fs::remove_all(dir);
}

TEST(TranslationTask, EpochsCoverEveryPairOnceWithinTheTokenBudget) {
  TinyRun r(12);
  const auto e0 = r.task->epoch_batches(0, 4), e0_again = r.task->epoch_batches(0, 4), e1 = r.task->epoch_batches(1, 4);
  EXPECT_EQ(e0, e0_again);
  EXPECT_NE(e0, e1);
  std::multiset<int64_t> seen;
  for (const auto& b : e0) {
    int64_t longest = 0;
    for (int64_t i : b) {
      seen.insert(i);
      longest = std::max<int64_t>({longest, static_cast<int64_t>(r.data.source[i].size()),
                                   static_cast<int64_t>(r.data.target[i].size()) + 1});
    }
    EXPECT_LE(longest * static_cast<int64_t>(b.size()), 12);
  }
  EXPECT_EQ(seen, (std::multiset<int64_t>{0, 1, 2, 3, 4, 5}));
  // The cursor walks the epoch, then the next one.
  data::DataCursor c;
  Generator g(1);
  for (size_t i = 0; i < e0.size(); ++i) r.task->train_batch(4, c, g);
  EXPECT_EQ(c.epoch, 0);
  EXPECT_EQ(c.position, static_cast<int64_t>(e0.size()));
  const data::Batch b = r.task->train_batch(4, c, g);
  EXPECT_EQ(c.epoch, 1);
  EXPECT_EQ(c.position, 1);
  EXPECT_EQ(b.batch_size(), static_cast<int64_t>(e1[0].size()));
}

TEST(TranslationTask, ResumeAcrossEpochsReproducesTheUninterruptedRun) {
  const std::string a = tmpdir("full"), b = tmpdir("split");
  train::TrainConfig tc = noam_config(14);
  tc.eval_interval = 5;
  std::vector<float> full, first, second;
  {
    TinyRun r(12);
    train::Trainer t(*r.task, tc, a);
    t.run();
    full = t.step_losses();
    EXPECT_GE(t.data_cursor().epoch, 2);  // several epochs of ~4 batches
  }
  {
    TinyRun r(12);
    tc.max_iters = 7;
    train::Trainer t(*r.task, tc, b);
    t.run();
    first = t.step_losses();
  }
  {
    TinyRun r(12, 99);  // other initial weights: resume must overwrite them
    tc.max_iters = 14;
    train::Trainer t(*r.task, tc, b);
    t.resume();
    t.run();
    second = t.step_losses();
  }
  ASSERT_EQ(first.size() + second.size(), full.size());
  for (size_t i = 0; i < first.size(); ++i) EXPECT_EQ(first[i], full[i]) << i;
  for (size_t i = 0; i < second.size(); ++i) EXPECT_EQ(second[i], full[first.size() + i]) << first.size() + i;
  fs::remove_all(a);
  fs::remove_all(b);
}

TEST(TranslationTask, ValidationLossIsTheTokenWeightedMeanOverEveryPair) {
  TinyRun r(12);
  r.model->eval();
  NoGradGuard ng;
  const double whole = *r.task->split_loss(train::Split::Val, 4);
  // One batch of all pairs: cross_entropy's mean is over every label.
  data::Seq2SeqCollator c({.pad_id = 0, .bos_id = 1, .eos_id = 2, .max_target_len = 16});
  std::vector<data::Example> ex;
  for (size_t i = 0; i < r.data.size(); ++i) ex.push_back({{"input_ids", r.data.source[i]}, {"target_ids", r.data.target[i]}});
  Generator g(0);
  const data::Batch all = c.collate(ex, g);
  EXPECT_NEAR(whole, r.task->loss(all, g).item(), 1e-5);
  EXPECT_FALSE(r.task->split_loss(train::Split::Train, 4).has_value());
  EXPECT_EQ(r.task->tokens(all), 2 + 3 + 3 + 7 + 6 + 3);  // target words + EOS
}

TEST(TranslationTask, NoamScheduleAndCheckpointAveraging) {
  const std::string dir = tmpdir("avg");
  TinyRun r(24);
  train::TrainConfig tc = noam_config(12);
  tc.eval_interval = 3;
  tc.average_last = 2;
  train::Trainer t(*r.task, tc, dir);
  t.run();
  // lr = peak · min((n/w)^-½, n/w), n = step + 1, w = 20.
  for (const auto& line : log_lines(dir)) {
    const double n = line["step"].get<double>() + 1.0;
    EXPECT_NEAR(line["lr"].get<double>(), 3e-3 * std::min(std::pow(n / 20.0, -0.5), n / 20.0), 1e-9) << line;
  }
  // The last two evaluations (steps 9 and 12) are kept and averaged.
  std::set<std::string> kept;
  for (const auto& e : fs::directory_iterator(dir + "/checkpoints")) kept.insert(e.path().filename().string());
  EXPECT_EQ(kept, (std::set<std::string>{"step_9.safetensors", "step_12.safetensors"}));
  const auto s9 = io::load_safetensors(dir + "/checkpoints/step_9.safetensors");
  const auto s12 = io::load_safetensors(dir + "/checkpoints/step_12.safetensors");
  const auto avg = io::load_safetensors(dir + "/averaged/model.safetensors");
  ASSERT_FALSE(avg.tensors.empty());
  for (const auto& [name, w] : avg.tensors) {
    const auto a = s9.at(name).to_vector(), b = s12.at(name).to_vector(), m = w.to_vector();
    ASSERT_EQ(a.size(), m.size()) << name;
    for (size_t i = 0; i < m.size(); ++i) ASSERT_NEAR(m[i], 0.5f * (a[i] + b[i]), 1e-6f) << name;
  }
  EXPECT_EQ(io::read_json(dir + "/averaged/averaged_from.json")["steps"], nlohmann::json({9, 12}));
  // The averaged directory loads as a model; the trained weights are untouched.
  EXPECT_EQ(models::load_model(dir + "/averaged")->model_type(), "transformer");
  const auto last = io::load_safetensors(dir + "/model.safetensors");
  EXPECT_EQ(last.at("shared.weight").to_vector(), s12.at("shared.weight").to_vector());
  EXPECT_EQ(r.model->shared->weight.to_vector(), s12.at("shared.weight").to_vector());
  fs::remove_all(dir);
}

TEST(TranslationTask, BadDataIsRefusedNamingThePair) {
  TinyRun r(24);
  train::TranslationOptions opt;
  opt.collate = {.pad_id = 0, .bos_id = 1, .eos_id = 2};
  auto make = [&](train::TranslationData d, train::TranslationOptions o) {
    train::TranslationTask t(*r.model, d, r.data, o);
  };
  auto expect_error = [&](train::TranslationData d, train::TranslationOptions o, const std::string& what) {
    try {
      make(std::move(d), std::move(o));
      ADD_FAILURE() << "no error; expected " << what;
    } catch (const ValueError& e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  };
  expect_error({}, opt, "training data: no sentence pairs");
  expect_error({{{3}}, {}}, opt, "1 sources but 0 targets");
  expect_error({{{3}, {}}, {{4}, {5}}}, opt, "pair 2 has an empty source");
  expect_error({{{3, 999}}, {{4}}}, opt, "pair 1 has token id 999 outside the model's vocabulary");
  train::TranslationOptions small = opt;
  small.max_tokens = 3;
  expect_error(r.data, small, "training pair 3 is 4 tokens long, more than max_tokens 3");
  train::TranslationOptions refs = opt;
  refs.detokenize = [](const std::vector<int64_t>&) { return std::string(); };
  refs.valid_references = {"one"};
  expect_error(r.data, refs, "1 lines for 6 validation pairs");
}
