// tests/data/test_conll.cpp — the CoNLL-2003 reader, tag ids and IOB1 → IOB2
// (qkv/data/conll.h) on tiny files written here, then on the shared
// conll2003 splits (counts checked with awk, see SharedSplitsCounts).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "io/io_test_util.h"
#include "qkv/core/error.h"
#include "qkv/data/conll.h"

using namespace qkv;
using namespace qkv::data;
using qkv::testing::expect_error;
using qkv::testing::ScratchDir;
using qkv::testing::write_bytes;

namespace {

using Strings = std::vector<std::string>;
using Ids = std::vector<int64_t>;

const std::string kConll = std::string(QKV_SHARED_DATA) + "/conll2003";

}  // namespace

TEST(DataConll, ReadsSentencesSkippingDocstart) {
  ScratchDir d;
  write_bytes(d.file("a.txt"),
              "-DOCSTART- -X- -X- O\n\n"
              "EU NNP B-NP B-ORG\nrejects VBZ B-VP O\n\n\n"  // two blank lines: still one boundary
              "Peter NNP B-NP B-PER\r\nBlackburn NNP I-NP I-PER\r\n"
              "-DOCSTART- -X- -X- O\n"                       // a boundary even without a blank line
              "BRUSSELS\tNNP\tB-NP\tB-LOC");                   // tabs, no final newline
  ConllData c = read_conll(d.file("a.txt"));
  ASSERT_EQ(c.sentences.size(), 3u);
  EXPECT_EQ(c.sentences[0].words, (Strings{"EU", "rejects"}));
  EXPECT_EQ(c.sentences[0].tags, (Strings{"B-ORG", "O"}));
  EXPECT_EQ(c.sentences[0].lines, (Ids{3, 4}));
  EXPECT_EQ(c.sentences[1].words, (Strings{"Peter", "Blackburn"}));
  EXPECT_EQ(c.sentences[1].tags, (Strings{"B-PER", "I-PER"}));
  EXPECT_EQ(c.sentences[2].lines, (Ids{10}));
  EXPECT_EQ(c.num_tokens(), 5u);
  EXPECT_EQ(c.all_tags(), (Strings{"B-ORG", "O", "B-PER", "I-PER", "B-LOC"}));
  EXPECT_EQ(tag_ids(c, conll2003_ner_labels()), (std::vector<Ids>{{3, 0}, {1, 2}, {5}}));
  // two columns (word tag) read as well
  write_bytes(d.file("two.txt"), "Paris B-LOC\nis O\n");
  EXPECT_EQ(read_conll(d.file("two.txt")).sentences[0].tags, (Strings{"B-LOC", "O"}));
  write_bytes(d.file("empty.txt"), "\n\n");
  EXPECT_TRUE(read_conll(d.file("empty.txt")).sentences.empty());
}

TEST(DataConll, MalformedLinesAndUnknownTagsNameFileAndLine) {
  ScratchDir d;
  write_bytes(d.file("one.txt"), "EU NNP B-NP B-ORG\nrejects\n");
  expect_error<IOError>([&] { read_conll(d.file("one.txt")); },
                        {d.file("one.txt") + ":2:", "malformed line 'rejects'", "got 1 field"});
  write_bytes(d.file("ragged.txt"), "EU NNP B-NP B-ORG\n\nrejects VBZ O\n");
  expect_error<IOError>([&] { read_conll(d.file("ragged.txt")); },
                        {":3:", "malformed line 'rejects VBZ O'", "expected 4 columns", "got 3"});
  write_bytes(d.file("utf8.txt"), "EU NNP B-NP B-ORG\n\xFF NN O O\n");
  expect_error<IOError>([&] { read_conll(d.file("utf8.txt")); }, {":2:", "invalid UTF-8"});
  expect_error<IOError>([&] { read_conll(d.file("missing.txt")); }, {"cannot open"});
  write_bytes(d.file("tag.txt"), "EU NNP B-NP B-ORG\n\nrejects VBZ B-VP B-FOO\n");
  ConllData c = read_conll(d.file("tag.txt"));
  expect_error<IOError>([&] { tag_ids(c, conll2003_ner_labels()); },
                        {d.file("tag.txt") + ":3:", "unknown tag 'B-FOO'", "O, B-PER, I-PER"});
  // inferring the set from the data accepts it (sorted, as run_ner's get_label_list)
  EXPECT_EQ(LabelSet::infer(c.all_tags()).names, (Strings{"B-FOO", "B-ORG"}));
}

TEST(DataConll, Iob1ToIob2) {
  // IOB1: I- starts an entity unless it continues one of the same type; B- separates adjacent ones
  EXPECT_EQ(iob1_to_iob2({"I-PER", "I-PER", "O", "I-LOC", "B-LOC", "I-LOC", "I-ORG", "I-MISC"}),
            (Strings{"B-PER", "I-PER", "O", "B-LOC", "B-LOC", "I-LOC", "B-ORG", "B-MISC"}));
  EXPECT_EQ(iob1_to_iob2({"B-PER", "I-PER", "O"}), (Strings{"B-PER", "I-PER", "O"}));  // IOB2 stays
  EXPECT_EQ(iob1_to_iob2({}), Strings{});
  expect_error<ValueError>([] { iob1_to_iob2({"O", "PER"}); }, {"position 1", "tag 'PER'"});
  expect_error<ValueError>([] { iob1_to_iob2({"B-"}); }, {"position 0", "'B-'"});
  expect_error<ValueError>([] { iob1_to_iob2({"E-LOC"}); }, {"'E-LOC'"});
  ScratchDir d;
  write_bytes(d.file("iob1.txt"), "Peter NNP I-NP I-PER\nBlackburn NNP I-NP I-PER\n\nX NN O S-LOC\n");
  ConllData c = read_conll(d.file("iob1.txt"));
  expect_error<IOError>([&] { convert_iob1_to_iob2(c); }, {d.file("iob1.txt") + ":4:", "tag 'S-LOC'"});
  c.sentences.pop_back();
  convert_iob1_to_iob2(c);
  EXPECT_EQ(c.sentences[0].tags, (Strings{"B-PER", "I-PER"}));
}

TEST(DataConll, SharedSplitsCounts) {
  // counted with: awk 'NF==0{if(n)s++;n=0;next}{t++;n++;c[$4]++}END{if(n)s++;print s,t,c["B-PER"]}' FILE
  // (matches SOURCES.md and the standard CoNLL-2003 English splits)
  struct Split {
    const char* file;
    size_t sentences, tokens;
    int64_t b_per;
  };
  const Split splits[] = {{"train.txt", 14041, 203621, 6600}, {"valid.txt", 3250, 51362, 1842},
                          {"test.txt", 3453, 46435, 1617}};
  if (!std::filesystem::exists(kConll + "/train.txt")) GTEST_SKIP() << "shared data not found: " << kConll;
  const LabelSet labels = conll2003_ner_labels();
  for (const Split& s : splits) {
    ConllData c = read_conll(kConll + "/" + s.file);
    EXPECT_EQ(c.sentences.size(), s.sentences) << s.file;
    EXPECT_EQ(c.num_tokens(), s.tokens) << s.file;
    auto ids = tag_ids(c, labels);  // every tag is one of the 9
    int64_t b_per = 0;
    for (const auto& sent : ids) b_per += std::count(sent.begin(), sent.end(), labels.id("B-PER"));
    EXPECT_EQ(b_per, s.b_per) << s.file;
    // the files are IOB2 already: converting changes nothing
    size_t changed = 0;
    for (const ConllSentence& sent : c.sentences) changed += iob1_to_iob2(sent.tags) != sent.tags;
    EXPECT_EQ(changed, 0u) << s.file;
  }
  ConllData test = read_conll(kConll + "/test.txt");
  EXPECT_EQ(test.sentences[1].words, (Strings{"Nadim", "Ladki"}));
  EXPECT_EQ(test.sentences[1].lines, (Ids{14, 15}));
}
