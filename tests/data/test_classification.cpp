// tests/data/test_classification.cpp — label sets and sentence classification
// data (qkv/data/labels.h, qkv/data/classification.h): tiny TSV files written
// here (good rows, a row without a tab, an unknown label), SST-2 when the
// shared data is present, and the encoding with longest_first pair truncation
// on the real BERT vocabulary.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "io/io_test_util.h"
#include "qkv/data/classification.h"

using namespace qkv;
using namespace qkv::data;
using qkv::testing::expect_error;
using qkv::testing::ScratchDir;
using qkv::testing::write_bytes;

namespace {

using Strings = std::vector<std::string>;
using Ids = std::vector<int64_t>;

const std::string kShared = QKV_SHARED_DATA;
const std::string kVocab = kShared + "/tokenizers/bert-base-uncased/vocab.txt";

#define REQUIRE_FILE(path) \
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "shared data not found: " << (path)

const tokenizers::Tokenizer& bert() {
  static tokenizers::Tokenizer t = tokenizers::Tokenizer::from_path(kVocab);
  return t;
}

}  // namespace

TEST(DataLabels, IdsNamesInferenceAndErrors) {
  LabelSet s({"O", "B-PER", "I-PER"});
  EXPECT_EQ(s.id("B-PER"), 1);
  EXPECT_EQ(s.name(2), "I-PER");
  EXPECT_FALSE(s.find("B-LOC"));
  expect_error<ValueError>([&] { s.id("B-FOO"); }, {"unknown label 'B-FOO'", "O, B-PER, I-PER"});
  expect_error<ValueError>([&] { s.name(3); }, {"label id 3", "3 labels"});
  expect_error<ValueError>([&] { s.name(-1); }, {"label id -1"});
  expect_error<ValueError>([] { LabelSet({"a", "b", "a"}); }, {"'a' appears twice", "ids 0 and 2"});
  expect_error<ValueError>([] { LabelSet({"a", ""}); }, {"label 1 is empty"});
  // sorted like run_glue's label_list.sort(): numbers by value, other strings as strings
  EXPECT_EQ(LabelSet::infer({"1", "0", "1", "10", "2", "-1"}).names, (Strings{"-1", "0", "1", "2", "10"}));
  EXPECT_EQ(LabelSet::infer({"pos", "neg", "neutral", "neg"}).names, (Strings{"neg", "neutral", "pos"}));
  EXPECT_EQ(LabelSet::infer({"1", "x", "10", "2"}).names, (Strings{"1", "10", "2", "x"}));
}

TEST(DataClassification, ReadsSentencesAndPairs) {
  ScratchDir d;
  write_bytes(d.file("s.tsv"), "sentence\tlabel\ngood film \t1\nbad\t0\n\nfine\t1\n");
  ClassificationData s = read_classification_tsv(d.file("s.tsv"));
  EXPECT_EQ(s.text_a, (Strings{"good film ", "bad", "fine"}));
  EXPECT_FALSE(s.is_pair());
  EXPECT_EQ(s.labels.names, (Strings{"0", "1"}));
  EXPECT_EQ(s.label_ids, (Ids{1, 0, 1}));
  EXPECT_EQ(s.lines, (Ids{2, 3, 5}));
  // a given label set fixes the ids (here reversed)
  EXPECT_EQ(read_classification_tsv(d.file("s.tsv"), {.labels = {"1", "0"}}).label_ids, (Ids{0, 1, 0}));

  write_bytes(d.file("p.tsv"), "id\tq\ts\tlabel\n7\tWho?\tHim.\tentailment\n8\tWhy?\tNo.\tnot_entailment\n");
  ClassificationData p = read_classification_tsv(d.file("p.tsv"), {.text_columns = {"q", "s"}});
  EXPECT_TRUE(p.is_pair());
  EXPECT_EQ(p.text_a, (Strings{"Who?", "Why?"}));
  EXPECT_EQ(p.text_b, (Strings{"Him.", "No."}));
  EXPECT_EQ(p.labels.names, (Strings{"entailment", "not_entailment"}));
  EXPECT_EQ(p.label_ids, (Ids{0, 1}));
}

TEST(DataClassification, BadRowsNameFileLineAndValue) {
  ScratchDir d;
  write_bytes(d.file("notab.tsv"), "sentence\tlabel\ngood\t1\nno tab on this row 1\n");
  expect_error<IOError>([&] { read_classification_tsv(d.file("notab.tsv")); },
                        {d.file("notab.tsv") + ":3:", "expected 2 tab-separated fields", "got 1",
                         "'no tab on this row 1'"});
  write_bytes(d.file("label.tsv"), "sentence\tlabel\ngood\t1\nbad\t0\nmeh\t2\n");
  expect_error<IOError>([&] { read_classification_tsv(d.file("label.tsv"), {.labels = {"0", "1"}}); },
                        {d.file("label.tsv") + ":4:", "label '2'", "column 'label'", "(0, 1)"});
  write_bytes(d.file("space.tsv"), "sentence\tlabel\ngood\t1 \n");  // a stray space is a different label
  expect_error<IOError>([&] { read_classification_tsv(d.file("space.tsv"), {.labels = {"0", "1"}}); },
                        {":2:", "label '1 '"});
  expect_error<IOError>([&] { read_classification_tsv(d.file("label.tsv"), {.label_column = "gold"}); },
                        {":1:", "no column 'gold'", "sentence, label"});
  expect_error<ValueError>([&] { read_classification_tsv(d.file("label.tsv"), {.text_columns = {}}); },
                           {"one or two text columns"});
  expect_error<IOError>([&] { read_classification_tsv(d.file("missing.tsv")); }, {"cannot open"});
  // a long row is quoted shortened, cut on a character boundary
  write_bytes(d.file("long.tsv"), "sentence\tlabel\n" + std::string(76, 'a') + "ééé" + std::string(50, 'b') + "\n");
  expect_error<IOError>([&] { read_classification_tsv(d.file("long.tsv")); },
                        {":2:", "'" + std::string(76, 'a') + "...'"});
}

TEST(DataClassification, Sst2DevCounts) {
  const std::string path = kShared + "/sst2/dev.tsv";
  REQUIRE_FILE(path);
  ClassificationData d = read_classification_tsv(path);
  ASSERT_EQ(d.size(), 872u);  // SOURCES.md: 872 rows, 444 positive, 428 negative
  EXPECT_EQ(d.labels.names, (Strings{"0", "1"}));
  EXPECT_EQ(std::count(d.label_ids.begin(), d.label_ids.end(), 1), 444);
  EXPECT_EQ(std::count(d.label_ids.begin(), d.label_ids.end(), 0), 428);
  EXPECT_EQ(d.text_a[0], "it 's a charming and often affecting journey . ");
  EXPECT_EQ(d.lines.back(), 873);
}

TEST(DataClassification, EncodesWithTemplateAndTruncates) {
  REQUIRE_FILE(kVocab);
  ClassificationData d;
  d.text_a = {"Hello there", "a b c d e f g h"};
  d.label_ids = {1, 0};
  d.labels = LabelSet({"neg", "pos"});
  auto ex = encode_classification(bert(), d, 6);
  ASSERT_EQ(ex.size(), 2u);
  // [CLS] hello there [SEP]; vocab.txt line − 1: hello 7592, there 2045
  EXPECT_EQ(ex[0].at("input_ids"), (Ids{101, 7592, 2045, 102}));
  EXPECT_EQ(ex[0].at("token_type_ids"), (Ids{0, 0, 0, 0}));
  EXPECT_EQ(ex[0].at("labels"), (Ids{1}));
  // a single text keeps its first max_length − 2 tokens: [CLS] a b c d [SEP]
  EXPECT_EQ(ex[1].at("input_ids"), (Ids{101, 1037, 1038, 1039, 1040, 102}));
  expect_error<ValueError>([&] { encode_classification(bert(), d, 2); }, {"max_length 2", "2 special tokens"});
}

TEST(DataClassification, PairLongerThanMaxLengthIsCutLongestFirst) {
  REQUIRE_FILE(kVocab);
  ClassificationData d;
  d.labels = LabelSet({"0", "1"});
  // 8 + 4 tokens, max_length 10 → 7 for text: HF's rule gives (4, 3); 4 + 4 in 10 → (3, 4)
  d.text_a = {"a b c d e f g h", "a b c d"};
  d.text_b = {"w x y z", "w x y z"};
  d.label_ids = {0, 1};
  auto ex = encode_classification(bert(), d, 10);
  const int64_t a = 1037, w = 1059, x = 1060, y = 1061, z = 1062, CLS = 101, SEP = 102;
  EXPECT_EQ(ex[0].at("input_ids"), (Ids{CLS, a, a + 1, a + 2, a + 3, SEP, w, x, y, SEP}));
  EXPECT_EQ(ex[0].at("token_type_ids"), (Ids{0, 0, 0, 0, 0, 0, 1, 1, 1, 1}));
  EXPECT_EQ(ex[1].at("input_ids"), (Ids{CLS, a, a + 1, a + 2, SEP, w, x, y, z, SEP}));
  EXPECT_EQ(ex[1].at("labels"), (Ids{1}));
  // a pair that fits is untouched
  EXPECT_EQ(encode_classification(bert(), d, 15)[0].at("input_ids").size(), 15u);
  expect_error<ValueError>([&] { encode_classification(bert(), d, 3); }, {"max_length 3", "3 special tokens"});
}
