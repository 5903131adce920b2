// tests/data/test_padding_collate.cpp — padding, masks and collators
// (qkv/data/padding.h, qkv/data/collate.h): exact tensors on tiny inputs.
#include <gtest/gtest.h>

#include <optional>
#include <utility>

#include "qkv/data/collate.h"
#include "qkv/data/padding.h"

using namespace qkv;
using namespace qkv::data;

namespace {

std::vector<int64_t> ints(const Tensor& t) { return t.to_int_vector(); }
std::vector<int64_t> I(std::initializer_list<int64_t> v) { return v; }
constexpr int64_t X = kIgnoreIndex;

// Options set field by field (GCC warns on designated initializers that
// leave trailing members out).
CausalLMCollatorOptions causal(int64_t pad_id, std::optional<int64_t> max_len = std::nullopt) {
  CausalLMCollatorOptions o;
  o.pad_id = pad_id;
  o.max_len = max_len;
  return o;
}
Seq2SeqCollatorOptions s2s(std::optional<int64_t> max_source_len = std::nullopt,
                           std::optional<int64_t> max_target_len = std::nullopt) {
  Seq2SeqCollatorOptions o;
  o.pad_id = 0;
  o.bos_id = 1;
  o.eos_id = 2;
  o.max_source_len = max_source_len;
  o.max_target_len = max_target_len;
  return o;
}

template <class Fn>
void expect_value_error(Fn&& fn, std::initializer_list<std::string> parts) {
  try {
    fn();
    ADD_FAILURE() << "no exception";
  } catch (const ValueError& e) {
    for (const std::string& p : parts) EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
  }
}

}  // namespace

TEST(DataPadding, RightPaddingAndBoolMask) {
  Padded p = pad_sequences({{5, 6, 7}, {8}, {}}, 0, PadSide::Right);
  EXPECT_EQ(p.ids.shape(), (Shape{3, 3}));
  EXPECT_EQ(p.ids.dtype(), DType::Int64);
  EXPECT_EQ(p.mask.dtype(), DType::Bool);
  EXPECT_EQ(ints(p.ids), I({5, 6, 7, 8, 0, 0, 0, 0, 0}));
  EXPECT_EQ(ints(p.mask), I({1, 1, 1, 1, 0, 0, 0, 0, 0}));
}

TEST(DataPadding, LeftPaddingEndsEveryRowAtTheLastColumn) {
  Padded p = pad_sequences({{5, 6, 7}, {8}}, 9, PadSide::Left);
  EXPECT_EQ(ints(p.ids), I({5, 6, 7, 9, 9, 8}));
  EXPECT_EQ(ints(p.mask), I({1, 1, 1, 0, 0, 1}));
}

TEST(DataPadding, TruncationCutsOnThePaddingSide) {
  // Right keeps the first max_len tokens, Left the last (a prompt's end).
  Padded r = pad_sequences({{1, 2, 3, 4}, {5}}, 0, PadSide::Right, 2);
  EXPECT_EQ(ints(r.ids), I({1, 2, 5, 0}));
  Padded l = pad_sequences({{1, 2, 3, 4}, {5}}, 0, PadSide::Left, 2);
  EXPECT_EQ(ints(l.ids), I({3, 4, 0, 5}));
  EXPECT_EQ(ints(l.mask), I({1, 1, 0, 1}));
  // max_len above the longest row does not pad further
  EXPECT_EQ(pad_sequences({{1, 2}}, 0, PadSide::Right, 10).ids.shape(), (Shape{1, 2}));
  expect_value_error([] { pad_sequences({{1}}, 0, PadSide::Right, 0); }, {"pad_sequences", "max_len", "0"});
}

TEST(DataPadding, EmptyBatchGivesZeroByZero) {
  Padded p = pad_sequences({}, 0);
  EXPECT_EQ(p.ids.shape(), (Shape{0, 0}));
  EXPECT_EQ(p.mask.shape(), (Shape{0, 0}));
}

TEST(DataPadding, PadValuesLinesUpWithPadSequences) {
  Tensor t = pad_values({{1, 1, 1}, {1}}, kIgnoreIndex, PadSide::Left);
  EXPECT_EQ(ints(t), I({1, 1, 1, X, X, 1}));
}

TEST(DataPadding, EncodingsToBatchWithTypeIdsAndTheirOwnMask) {
  tokenizers::Encoding a, b;
  a.ids = {101, 7, 102, 8, 102};
  a.type_ids = {0, 0, 0, 1, 1};
  b.ids = {101, 9, 102, 0};  // already padded by the tokenizer
  b.type_ids = {0, 0, 0, 0};
  b.attention_mask = {1, 1, 1, 0};
  Batch batch = batch_from_encodings({a, b}, 0);
  EXPECT_EQ(ints(batch.input_ids), I({101, 7, 102, 8, 102, 101, 9, 102, 0, 0}));
  EXPECT_EQ(ints(batch.attention_mask), I({1, 1, 1, 1, 1, 1, 1, 1, 0, 0}));
  EXPECT_EQ(ints(batch.get("token_type_ids")), I({0, 0, 0, 1, 1, 0, 0, 0, 0, 0}));
  EXPECT_FALSE(batch.labels.defined());
  EXPECT_EQ(batch.batch_size(), 2);
  // no type_ids anywhere → no token_type_ids tensor
  tokenizers::Encoding c;
  c.ids = {1, 2};
  EXPECT_EQ(batch_from_encodings({c}, 0).extra.count("token_type_ids"), 0u);
  c.type_ids = {0};
  expect_value_error([&] { batch_from_encodings({a, c}, 0); }, {"encoding 1", "2 ids", "1 type_ids"});
  expect_value_error([&] { batch.get("labels_x"); }, {"labels_x", "token_type_ids"});
}

TEST(DataCollate, CausalLMShiftsLabelsAndIgnoresPadding) {
  CausalLMCollator c(causal(0));
  Generator gen(1);
  Batch b = c.collate({{{"input_ids", {1, 2, 3, 4}}}, {{"input_ids", {5, 6}}}}, gen);
  EXPECT_EQ(b.input_ids.shape(), (Shape{2, 3}));
  EXPECT_EQ(ints(b.input_ids), I({1, 2, 3, 5, 0, 0}));
  EXPECT_EQ(ints(b.labels), I({2, 3, 4, 6, X, X}));
  EXPECT_EQ(ints(b.attention_mask), I({1, 1, 1, 1, 0, 0}));
  // truncation keeps inputs and labels aligned
  CausalLMCollator t(causal(0, 2));
  Batch bt = t.collate({{{"input_ids", {1, 2, 3, 4}}}}, gen);
  EXPECT_EQ(ints(bt.input_ids), I({1, 2}));
  EXPECT_EQ(ints(bt.labels), I({2, 3}));
}

TEST(DataCollate, CausalLMErrorsNameTheExample) {
  CausalLMCollator c;
  Generator gen(1);
  expect_value_error([&] { c.collate({{{"input_ids", {1, 2}}}, {{"input_ids", {1}}}}, gen); },
                     {"CausalLMCollator", "example 1", "1 token"});
  expect_value_error([&] { c.collate({{{"ids", {1, 2}}}}, gen); }, {"example 0", "'input_ids'"});
  expect_value_error([] { CausalLMCollator(causal(0, 0)); }, {"max_len"});
}

TEST(DataCollate, Seq2SeqAddsBosToDecoderInputsAndEosToLabels) {
  Seq2SeqCollator c(s2s());
  Generator gen(1);
  Batch b = c.collate({{{"input_ids", {7, 8, 9}}, {"target_ids", {4, 5}}},
                       {{"input_ids", {10}}, {"target_ids", {6, 6, 6}}}},
                      gen);
  EXPECT_EQ(b.input_ids.shape(), (Shape{2, 3}));  // (B,S)
  EXPECT_EQ(ints(b.input_ids), I({7, 8, 9, 10, 0, 0}));
  EXPECT_EQ(ints(b.attention_mask), I({1, 1, 1, 1, 0, 0}));
  EXPECT_EQ(b.get("decoder_input_ids").shape(), (Shape{2, 4}));  // (B,T)
  EXPECT_EQ(ints(b.get("decoder_input_ids")), I({1, 4, 5, 0, 1, 6, 6, 6}));
  EXPECT_EQ(ints(b.labels), I({4, 5, 2, X, 6, 6, 6, 2}));
  EXPECT_EQ(ints(b.get("decoder_attention_mask")), I({1, 1, 1, 0, 1, 1, 1, 1}));
  EXPECT_EQ(b.get("decoder_attention_mask").dtype(), DType::Bool);
}

TEST(DataCollate, Seq2SeqTruncationKeepsBosAndEos) {
  Seq2SeqCollator c(s2s(2, 3));
  Generator gen(1);
  Batch b = c.collate({{{"input_ids", {7, 8, 9}}, {"target_ids", {4, 5, 6, 7}}}}, gen);
  EXPECT_EQ(ints(b.input_ids), I({7, 8}));
  EXPECT_EQ(ints(b.get("decoder_input_ids")), I({1, 4, 5}));
  EXPECT_EQ(ints(b.labels), I({4, 5, 2}));
  // an empty target still trains the decoder to stop: BOS → EOS
  Batch e = c.collate({{{"input_ids", {7}}, {"target_ids", {}}}}, gen);
  EXPECT_EQ(ints(e.get("decoder_input_ids")), I({1}));
  EXPECT_EQ(ints(e.labels), I({2}));
  expect_value_error([&] { c.collate({{{"input_ids", {7}}}}, gen); }, {"Seq2SeqCollator", "example 0", "target_ids"});
  expect_value_error([] { Seq2SeqCollator(s2s(std::nullopt, 1)); }, {"max_target_len", "at least 2"});
}

// The interface a masked-LM collator (BERT) will implement: randomness comes
// from the Generator handed to collate, so batches are reproducible.
TEST(DataCollate, InterfaceCarriesTheGeneratorForRandomCollators) {
  struct MaskEveryOther : Collator {
    Batch collate(const std::vector<Example>& ex, Generator& gen) override {
      std::vector<std::vector<int64_t>> ids, labels;
      for (const Example& e : ex) {
        ids.push_back(e.at("input_ids"));
        labels.emplace_back(ids.back().size(), kIgnoreIndex);
        for (size_t i = 0; i < ids.back().size(); ++i)
          if (gen.uniform() < 0.5f) labels.back()[i] = std::exchange(ids.back()[i], 103);
      }
      Batch b;
      Padded p = pad_sequences(ids, 0);
      b.input_ids = p.ids;
      b.attention_mask = p.mask;
      b.labels = pad_values(labels, kIgnoreIndex);
      return b;
    }
  } mlm;
  Collator& c = mlm;
  std::vector<Example> ex = {{{"input_ids", {5, 6, 7, 8, 9, 10, 11, 12}}}};
  Generator g1(7), g2(7);
  EXPECT_EQ(ints(c.collate(ex, g1).labels), ints(c.collate(ex, g2).labels));
}
