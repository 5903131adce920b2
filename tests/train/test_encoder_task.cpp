// EncoderFinetuneTask (train/encoder_task.h): a tiny BERT learns three toy
// problems with each head (is token 7 in the sequence; each token's parity;
// the span from token 7 to token 8), epochs serve every example once in a
// seeded order that a cursor resumes, the dev loss and metrics callback see
// the whole dev set, and bad examples are refused by name.
#include <gtest/gtest.h>

#include <set>

#include "io/io_test_util.h"
#include "qkv/autograd/autograd.h"
#include "qkv/nn/param_groups.h"
#include "qkv/ops/ops.h"
#include "qkv/optim/adam.h"
#include "qkv/train/encoder_task.h"

using namespace qkv;
using qkv::testing::expect_error;

namespace {

std::unique_ptr<models::Bert> tiny(models::BertHead head, int64_t labels) {
  models::BertConfig c;
  c.vocab_size = 12, c.hidden_size = 32, c.num_attention_heads = 4, c.num_hidden_layers = 2;
  c.intermediate_size = 64, c.max_position_embeddings = 12, c.head = head;
  c.hidden_dropout_prob = 0.0f, c.attention_probs_dropout_prob = 0.0f;
  for (int64_t i = 0; i < labels; ++i) c.labels.push_back("L" + std::to_string(i));
  Generator gen(5);
  return std::make_unique<models::Bert>(c, gen);
}

// Random sequences [CLS]=1 w… [SEP]=2 of 3–8 words from ids 3..11.
std::vector<std::vector<int64_t>> sequences(int n, uint64_t seed) {
  Generator g(seed);
  std::vector<std::vector<int64_t>> out;
  for (int i = 0; i < n; ++i) {
    std::vector<int64_t> s{1};
    const int len = 3 + static_cast<int>(g.next_u64() % 6);
    for (int t = 0; t < len; ++t) s.push_back(3 + static_cast<int64_t>(g.next_u64() % 9));
    s.push_back(2);
    out.push_back(s);
  }
  return out;
}

std::vector<train::EncoderExample> sequence_examples(int n, uint64_t seed) {
  std::vector<train::EncoderExample> ex;
  for (auto& s : sequences(n, seed))
    ex.push_back({s, {}, {std::find(s.begin(), s.end(), 7) != s.end() ? 1 : 0}});
  return ex;
}

std::vector<train::EncoderExample> token_examples(int n, uint64_t seed) {
  std::vector<train::EncoderExample> ex;
  for (auto& s : sequences(n, seed)) {
    std::vector<int64_t> labels;
    for (size_t t = 0; t < s.size(); ++t) labels.push_back(t == 0 || t + 1 == s.size() ? -100 : s[t] % 2);
    ex.push_back({s, {}, labels});
  }
  return ex;
}

std::vector<train::EncoderExample> span_examples(int n, uint64_t seed) {
  std::vector<train::EncoderExample> ex;
  Generator g(seed + 99);
  for (auto& s : sequences(n, seed)) {
    for (auto& v : s)
      if (v == 7 || v == 8) v = 9;
    const int64_t words = static_cast<int64_t>(s.size()) - 2;
    const int64_t a = 1 + static_cast<int64_t>(g.next_u64() % words);
    const int64_t b = a + static_cast<int64_t>(g.next_u64() % (words - a + 1));
    s[a] = 7;
    if (b > a) s[b] = 8;
    ex.push_back({s, {}, {a, b}});
  }
  return ex;
}

// Trains with AdamW; returns the final dev loss.
double fit(train::EncoderFinetuneTask& task, int steps) {
  auto& model = task.model();
  model.train();
  optim::AdamW opt(nn::decay_groups(model, 0.01f), 3e-3f);
  data::DataCursor cursor;
  Generator gen(1);
  for (int i = 0; i < steps; ++i) {
    opt.zero_grad();
    task.loss(task.train_batch(16, cursor, gen), gen).backward();
    opt.step();
  }
  model.eval();
  return *task.split_loss(train::Split::Val, 16);
}

double accuracy(const std::vector<Tensor>& preds, const std::vector<train::EncoderExample>& dev, bool span) {
  int right = 0, total = 0;
  for (size_t i = 0; i < preds.size(); ++i) {
    const auto& labels = dev[i].labels;
    if (span) {
      right += argmax(preds[i].select(1, 0), 0).item() == labels[0] && argmax(preds[i].select(1, 1), 0).item() == labels[1];
      ++total;
    } else if (preds[i].dim() == 1) {
      right += argmax(preds[i], 0).item() == labels[0], ++total;
    } else {
      auto am = argmax(preds[i], 1).to_int_vector();
      for (size_t t = 0; t < am.size(); ++t)
        if (labels[t] != -100) right += am[t] == labels[t], ++total;
    }
  }
  return static_cast<double>(right) / total;
}

}  // namespace

TEST(EncoderTask, EachHeadLearnsItsToyProblem) {
  struct Case {
    models::BertHead head;
    train::EncoderHead task_head;
    std::vector<train::EncoderExample> (*make)(int, uint64_t);
    int64_t labels;
    int steps;
  };
  for (const Case& c : {Case{models::BertHead::SequenceClassification, train::EncoderHead::Sequence, sequence_examples, 2, 150},
                        Case{models::BertHead::TokenClassification, train::EncoderHead::Token, token_examples, 2, 100},
                        Case{models::BertHead::QuestionAnswering, train::EncoderHead::Span, span_examples, 0, 150}}) {
    SCOPED_TRACE(models::bert_head_name(c.head));
    auto m = tiny(c.head, c.labels);
    auto dev = c.make(64, 2);
    int calls = 0;
    train::EncoderTaskOptions opt;
    opt.metrics = [&](const std::vector<Tensor>& p) {
      ++calls;
      EXPECT_EQ(p.size(), dev.size());
      return nlohmann::json{{"val_accuracy", 100 * accuracy(p, dev, c.task_head == train::EncoderHead::Span)}};
    };
    train::EncoderFinetuneTask task(*m, c.task_head, c.make(400, 1), dev, opt);
    const double before = *task.split_loss(train::Split::Val, 16);
    const double after = fit(task, c.steps);
    EXPECT_LT(after, before * 0.3) << before << " → " << after;
    EXPECT_GE(task.eval_metrics()["val_accuracy"].get<double>(), 90.0);
    EXPECT_EQ(calls, 1);
  }
}

TEST(EncoderTask, EpochsServeEveryExampleOnceAndResumeFromTheCursor) {
  auto m = tiny(models::BertHead::SequenceClassification, 2);
  auto train_set = sequence_examples(37, 3);
  train::EncoderFinetuneTask task(*m, train::EncoderHead::Sequence, train_set, sequence_examples(5, 4), {});
  data::DataCursor cursor;
  Generator gen(0);
  std::multiset<std::vector<int64_t>> seen;
  std::vector<Tensor> epoch1;
  for (int b = 0; b < 4; ++b) {  // 10 + 10 + 10 + 7
    data::Batch batch = task.train_batch(10, cursor, gen);
    for (int64_t r = 0; r < batch.batch_size(); ++r) {
      auto row = batch.input_ids.select(0, r).to_int_vector();
      auto mask = batch.attention_mask.select(0, r).to(DType::Int64).to_int_vector();
      row.resize(std::count(mask.begin(), mask.end(), 1));
      seen.insert(row);
    }
  }
  EXPECT_EQ(cursor.position, 37);
  std::multiset<std::vector<int64_t>> all;
  for (auto& e : train_set) all.insert(e.input_ids);
  EXPECT_EQ(seen, all);
  // Epoch 2 begins on the next call, in another order; a copy of the cursor replays it.
  data::DataCursor saved = cursor;
  Tensor a = task.train_batch(10, cursor, gen).input_ids;
  EXPECT_EQ(cursor.epoch, 1);
  train::EncoderFinetuneTask again(*m, train::EncoderHead::Sequence, train_set, sequence_examples(5, 4), {});
  Tensor b = again.train_batch(10, saved, gen).input_ids;
  EXPECT_EQ(a.to_int_vector(), b.to_int_vector());
}

TEST(EncoderTask, BadExamplesAndHeadsAreRefusedByName) {
  auto m = tiny(models::BertHead::SequenceClassification, 2);
  auto ok = sequence_examples(4, 1);
  auto bad_label = ok;
  bad_label[2].labels = {5};
  expect_error<ValueError>([&] { train::EncoderFinetuneTask(*m, train::EncoderHead::Sequence, bad_label, ok, {}); },
                           {"train example 3", "[0, 2)"});
  auto too_long = ok;
  too_long[0].input_ids.assign(13, 3);
  expect_error<ValueError>([&] { train::EncoderFinetuneTask(*m, train::EncoderHead::Sequence, ok, too_long, {}); },
                           {"dev example 1", "13 tokens"});
  expect_error<ValueError>([&] { train::EncoderFinetuneTask(*m, train::EncoderHead::Token, ok, ok, {}); },
                           {"BertForTokenClassification", "BertForSequenceClassification"});
  expect_error<ValueError>([&] { train::EncoderFinetuneTask(*m, train::EncoderHead::Sequence, {}, ok, {}); },
                           {"train set is empty"});
}

TEST(EncoderTask, FreezingTheBottomLayersLeavesTheirWeightsAlone) {
  auto m = tiny(models::BertHead::SequenceClassification, 2);
  train::freeze_bottom_layers(*m, 1);
  EXPECT_FALSE(m->bert->embeddings->word_embeddings->weight.requires_grad());
  EXPECT_FALSE(m->bert->encoder->layer->items[0]->output->dense->weight.requires_grad());
  EXPECT_TRUE(m->bert->encoder->layer->items[1]->output->dense->weight.requires_grad());
  EXPECT_TRUE(m->classifier->weight.requires_grad());
  expect_error<ValueError>([&] { train::freeze_bottom_layers(*m, 3); }, {"has 2 layers"});
}
