// tests/data/test_pretraining_sampler.cpp — BERT pretraining batches
// (qkv/data/pretraining_sampler.h): the fields and padding, every instance
// once per epoch, same seed → same batches, a resumed cursor → the same
// continuation, dynamic vs static masks, bad inputs, and Tiny Shakespeare.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>

#include "data/pretraining_test_util.h"
#include "qkv/data/pretraining_sampler.h"

using namespace qkv;
using namespace qkv::data;
using qkv::testing::expect_error;
using qkv_test::counting_corpus;
using Ids = std::vector<int64_t>;

namespace {

BertPretrainingSampler make_sampler(PretrainingOptions o = {}, int64_t docs = 12) {
  PretrainingCorpus c = counting_corpus(docs, 8, 3, 12);
  const int64_t vocab = c.num_tokens() + 10;
  if (o.instances.max_seq_length == 128) o.instances.max_seq_length = 32;
  return BertPretrainingSampler(std::move(c), qkv_test::toy_vocab(vocab, vocab), o);
}

void expect_same_batch(const Batch& a, const Batch& b, const std::string& what) {
  EXPECT_EQ(a.input_ids.shape(), b.input_ids.shape()) << what;
  EXPECT_EQ(a.input_ids.to_int_vector(), b.input_ids.to_int_vector()) << what;
  EXPECT_EQ(a.labels.to_int_vector(), b.labels.to_int_vector()) << what;
  EXPECT_EQ(a.attention_mask.to_int_vector(), b.attention_mask.to_int_vector()) << what;
  EXPECT_EQ(a.get("token_type_ids").to_int_vector(), b.get("token_type_ids").to_int_vector()) << what;
  EXPECT_EQ(a.extra.count("next_sentence_label"), b.extra.count("next_sentence_label")) << what;
  if (a.extra.count("next_sentence_label") && b.extra.count("next_sentence_label")) {
    EXPECT_EQ(a.get("next_sentence_label").to_int_vector(), b.get("next_sentence_label").to_int_vector()) << what;
  }
}

// Row r of a batch: (the unmasked ids, the labels), without padding.
std::pair<Ids, Ids> unmasked_row(const Batch& b, int64_t r) {
  const int64_t T = b.input_ids.size(1);
  const Ids x = b.input_ids.to_int_vector(), y = b.labels.to_int_vector(), m = b.attention_mask.to_int_vector();
  Ids ids, labels;
  for (int64_t t = 0; t < T; ++t)
    if (m[static_cast<size_t>(r * T + t)]) {
      const int64_t l = y[static_cast<size_t>(r * T + t)];
      ids.push_back(l == kIgnoreIndex ? x[static_cast<size_t>(r * T + t)] : l);
      labels.push_back(l);
    }
  return {ids, labels};
}

// The whole of epoch e in one batch (row r is instance epoch_order(e)[r]).
Batch whole_epoch(BertPretrainingSampler& s, int64_t e, Generator& gen) {
  DataCursor c;
  c.epoch = e;
  return s.next(s.epoch_size(e), c, gen);
}

}  // namespace

TEST(BertPretrainingSampler, BatchFieldsMatchTheInstances) {
  BertPretrainingSampler s = make_sampler();
  DataCursor cursor;
  Generator gen(3);
  const Batch b = s.next(6, cursor, gen);
  const auto& set = s.instance_set(0);
  const auto& order = s.epoch_order(0);
  ASSERT_EQ(b.input_ids.size(0), 6);
  EXPECT_EQ(b.input_ids.dtype(), DType::Int64);
  EXPECT_EQ(b.labels.dtype(), DType::Int64);
  EXPECT_EQ(b.attention_mask.dtype(), DType::Bool);
  EXPECT_EQ(b.get("next_sentence_label").shape(), (Shape{6}));
  int64_t longest = 0;
  const int64_t T = b.input_ids.size(1);
  const Ids x = b.input_ids.to_int_vector(), y = b.labels.to_int_vector(), m = b.attention_mask.to_int_vector();
  const Ids types = b.get("token_type_ids").to_int_vector(), nsp = b.get("next_sentence_label").to_int_vector();
  for (int64_t r = 0; r < 6; ++r) {
    const PretrainingInstance& in = set[static_cast<size_t>(order[static_cast<size_t>(r)])];
    const int64_t n = static_cast<int64_t>(in.input_ids.size());
    longest = std::max(longest, n);
    EXPECT_EQ(unmasked_row(b, r).first, in.input_ids) << "row " << r;
    EXPECT_EQ(nsp[static_cast<size_t>(r)], in.next_sentence_label);
    const Ids want_types = in.token_type_ids();
    for (int64_t t = 0; t < T; ++t) {
      const size_t i = static_cast<size_t>(r * T + t);
      EXPECT_EQ(m[i] != 0, t < n) << "row " << r << " column " << t;
      if (t >= n) {
        EXPECT_EQ(x[i], 0) << "padding is [PAD]";
        EXPECT_EQ(y[i], kIgnoreIndex) << "no loss on padding";
        EXPECT_EQ(types[i], 0);
      } else {
        EXPECT_EQ(types[i], want_types[static_cast<size_t>(t)]);
        if (in.input_ids[static_cast<size_t>(t)] <= 4) {
          EXPECT_EQ(y[i], kIgnoreIndex) << "no loss on specials";
        }
      }
    }
  }
  EXPECT_EQ(T, longest) << "padded to the batch's longest";
}

TEST(BertPretrainingSampler, EachEpochServesEveryInstanceOnce) {
  BertPretrainingSampler s = make_sampler();
  const int64_t n = s.epoch_size(0);
  ASSERT_GT(n, 20);
  DataCursor cursor;
  Generator gen(1);
  std::vector<Ids> served;
  int64_t batches = 0;
  while (cursor.epoch == 0 && cursor.position < n) {
    const Batch b = s.next(7, cursor, gen);
    for (int64_t r = 0; r < b.input_ids.size(0); ++r) served.push_back(unmasked_row(b, r).first);
    EXPECT_EQ(b.input_ids.size(0), std::min<int64_t>(7, n - 7 * batches)) << "the last batch is the rest";
    ++batches;
  }
  EXPECT_EQ(cursor.epoch, 0);
  EXPECT_EQ(cursor.position, n);
  std::vector<Ids> want;
  for (const auto& in : s.instance_set(0)) want.push_back(in.input_ids);
  std::sort(served.begin(), served.end());
  std::sort(want.begin(), want.end());
  EXPECT_EQ(served, want);
  s.next(7, cursor, gen);
  EXPECT_EQ(cursor.epoch, 1);
  EXPECT_EQ(cursor.position, 7);
  Ids o0 = s.epoch_order(0), o1 = s.epoch_order(1);
  EXPECT_NE(o0, o1) << "each epoch has its own order";
  std::sort(o1.begin(), o1.end());
  for (int64_t i = 0; i < n; ++i) EXPECT_EQ(o1[static_cast<size_t>(i)], i);
}

TEST(BertPretrainingSampler, SameSeedSameBatches) {
  for (bool dynamic : {true, false}) {
    PretrainingOptions o;
    o.dynamic_masking = dynamic;
    o.dupe_factor = 3;
    BertPretrainingSampler a = make_sampler(o), b = make_sampler(o);
    DataCursor ca, cb;
    Generator ga(5), gb(5);
    for (int i = 0; i < 40; ++i) expect_same_batch(a.next(8, ca, ga), b.next(8, cb, gb), "batch " + std::to_string(i));
    EXPECT_EQ(ca.epoch, cb.epoch);
    EXPECT_EQ(ca.position, cb.position);
    EXPECT_GE(ca.epoch, 2);
  }
  PretrainingOptions o;
  BertPretrainingSampler a = make_sampler(o);
  o.seed = 99;
  BertPretrainingSampler b = make_sampler(o);
  EXPECT_NE(a.epoch_order(0), b.epoch_order(0)) << "another seed, another stream";
}

TEST(BertPretrainingSampler, ResumedCursorContinuesTheSameStream) {
  for (bool dynamic : {true, false}) {
    PretrainingOptions o;
    o.dynamic_masking = dynamic;
    o.dupe_factor = 2;
    BertPretrainingSampler a = make_sampler(o);
    DataCursor ca;
    Generator ga(42);
    for (int i = 0; i < 11; ++i) a.next(5, ca, ga);
    const nlohmann::json saved = DataCursor::capture(ca.epoch, ca.position, ga).to_json();
    std::vector<Batch> rest;
    for (int i = 0; i < 25; ++i) rest.push_back(a.next(5, ca, ga));  // crosses epochs
    // A new process: a new sampler, the cursor from JSON, a Generator restored.
    BertPretrainingSampler b = make_sampler(o);
    DataCursor cb = DataCursor::from_json(saved);
    Generator gb(0);
    cb.restore(gb);
    for (int i = 0; i < 25; ++i)
      expect_same_batch(rest[static_cast<size_t>(i)], b.next(5, cb, gb), "resumed batch " + std::to_string(i));
    EXPECT_EQ(ca.epoch, cb.epoch);
    EXPECT_EQ(ca.position, cb.position);
    EXPECT_EQ(ga.state(), gb.state());
  }
}

TEST(BertPretrainingSampler, DynamicMasksChangeEachEpochStaticOnesDoNot) {
  auto masks_by_instance = [](BertPretrainingSampler& s, int64_t e, Generator& gen) {
    const Batch b = whole_epoch(s, e, gen);
    std::vector<std::pair<Ids, Ids>> out(static_cast<size_t>(b.input_ids.size(0)));
    const auto& order = s.epoch_order(e);
    for (int64_t r = 0; r < b.input_ids.size(0); ++r) out[static_cast<size_t>(order[static_cast<size_t>(r)])] = unmasked_row(b, r);
    return out;
  };
  Generator gen(8);
  BertPretrainingSampler dyn = make_sampler();
  const auto d0 = masks_by_instance(dyn, 0, gen), d1 = masks_by_instance(dyn, 1, gen);
  int64_t changed = 0;
  for (size_t j = 0; j < d0.size(); ++j) {
    ASSERT_EQ(d0[j].first, d1[j].first) << "dupe_factor 1: the same instances every epoch";
    changed += d0[j].second != d1[j].second;
  }
  EXPECT_GT(changed, static_cast<int64_t>(d0.size()) * 8 / 10) << "dynamic: fresh masks per epoch";

  PretrainingOptions o;
  o.dynamic_masking = false;
  o.dupe_factor = 2;
  BertPretrainingSampler st = make_sampler(o);
  const auto before = gen.state();
  const auto s0 = masks_by_instance(st, 0, gen), s1 = masks_by_instance(st, 1, gen),
             s2 = masks_by_instance(st, 2, gen);
  EXPECT_EQ(gen.state(), before) << "static masks draw nothing from the stream's Generator";
  EXPECT_EQ(s0, s2) << "epoch 2 serves set 0 again, with the same masks";
  EXPECT_NE(s0, s1) << "epoch 1 serves set 1: other pairs";
  int64_t masked = 0;
  for (const auto& [ids, labels] : s0)
    masked += std::count_if(labels.begin(), labels.end(), [](int64_t l) { return l != kIgnoreIndex; });
  EXPECT_GT(masked, 0);
}

TEST(BertPretrainingSampler, SampleIsReproducibleAndStaticMasksMatchTheEpoch) {
  PretrainingOptions o;
  o.dynamic_masking = false;
  BertPretrainingSampler s = make_sampler(o);
  Generator g1(4), g2(4);
  const Batch a = s.sample(9, g1), b = s.sample(9, g2);
  expect_same_batch(a, b, "sample");
  EXPECT_EQ(a.input_ids.size(0), 9);
  Generator g(0);
  const Batch e = whole_epoch(s, 0, g);
  std::vector<std::pair<Ids, Ids>> epoch_rows;
  for (int64_t r = 0; r < e.input_ids.size(0); ++r) epoch_rows.push_back(unmasked_row(e, r));
  for (int64_t r = 0; r < 9; ++r)
    EXPECT_NE(std::find(epoch_rows.begin(), epoch_rows.end(), unmasked_row(a, r)), epoch_rows.end())
        << "row " << r << " is an instance of set 0 with its static mask";
}

TEST(BertPretrainingSampler, WithoutNspNoLabelAndOneSegment) {
  PretrainingOptions o;
  o.instances.next_sentence = false;
  BertPretrainingSampler s = make_sampler(o, 1);  // one document is enough
  DataCursor c;
  Generator gen(2);
  const Batch b = s.next(4, c, gen);
  EXPECT_EQ(b.extra.count("next_sentence_label"), 0u);
  for (int64_t t : b.get("token_type_ids").to_int_vector()) EXPECT_EQ(t, 0);
  EXPECT_LE(b.input_ids.size(1), 32);
}

TEST(BertPretrainingSamplerBadInput, ClearErrors) {
  expect_error<ValueError>([] { make_sampler({}, 1); }, {"at least 2 documents"});
  PretrainingOptions o;
  o.dupe_factor = 0;
  expect_error<ValueError>([&] { make_sampler(o); }, {"dupe_factor", "got 0"});
  o = {};
  o.masking.mlm_probability = 1.0;
  expect_error<ValueError>([&] { make_sampler(o); }, {"mlm_probability"});
  o = {};
  o.instances.max_seq_length = 3;
  expect_error<ValueError>([&] { make_sampler(o); }, {"max_seq_length", "got 3"});
  BertPretrainingSampler s = make_sampler();
  DataCursor c;
  Generator gen(1);
  expect_error<ValueError>([&] { s.next(0, c, gen); }, {"batch_size", "got 0"});
  expect_error<ValueError>([&] { s.sample(-1, gen); }, {"batch_size", "got -1"});
  MlmVocab small = qkv_test::toy_vocab(20, 20);  // the corpus's ids go past 20
  expect_error<ValueError>([&] { BertPretrainingSampler t(counting_corpus(3, 3, 2, 3), small, {}); },
                           {"token id 20", "<memory>", "outside the vocabulary [0, 20)"});
}

// ---- the shared data sets (../shared/data); skipped in a fresh clone

TEST(BertPretrainingSamplerShared, TinyShakespeareWithBertVocab) {
  const std::string s = qkv_test::kSharedData, text = s + "/tinyshakespeare/input.txt",
                    vocab = s + "/tokenizers/bert-base-uncased/vocab.txt";
  for (const auto& f : {text, vocab})
    if (!std::filesystem::exists(f)) GTEST_SKIP() << "shared data not found: " << f;
  auto tok = tokenizers::Tokenizer::from_path(vocab);
  const auto t0 = std::chrono::steady_clock::now();
  PretrainingCorpus corpus = read_pretraining_corpus({text}, tok);
  const auto t1 = std::chrono::steady_clock::now();
  BertPretrainingSampler sampler(std::move(corpus), MlmVocab::from_tokenizer(tok), {});
  const auto t2 = std::chrono::steady_clock::now();
  const auto& set = sampler.instance_set(0);
  int64_t not_next = 0;
  for (const auto& in : set) not_next += in.next_sentence_label;
  std::cout << "[ bert data] Tiny Shakespeare: read " << std::chrono::duration<double>(t1 - t0).count()
            << " s, " << set.size() << " instances in " << std::chrono::duration<double>(t2 - t1).count()
            << " s, NotNext " << static_cast<double>(not_next) / static_cast<double>(set.size()) << "\n";
  DataCursor c;
  Generator gen(1337);
  const Batch b = sampler.next(32, c, gen);
  EXPECT_EQ(b.input_ids.size(0), 32);
  EXPECT_LE(b.input_ids.size(1), 128);
  const Ids first = unmasked_row(b, 0).first;
  EXPECT_EQ(first.front(), 101);  // [CLS]
  EXPECT_EQ(first.back(), 102);   // [SEP]
  EXPECT_NE(tok.decode(first).find_first_not_of(' '), std::string::npos);
}
