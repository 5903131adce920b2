// tests/data/test_readers.cpp — corpus readers (qkv/data/readers.h) on tiny
// files written here (CRLF, no trailing newline, empty files, bad UTF-8,
// malformed rows), then on the shared data sets when they are present.
#include <gtest/gtest.h>

#include <filesystem>

#include "io/io_test_util.h"
#include "qkv/data/readers.h"

using namespace qkv;
using namespace qkv::data;
using qkv::testing::ScratchDir;
using qkv::testing::write_bytes;

namespace {

using Lines = std::vector<std::string>;

template <class E, class Fn>
void expect_error(Fn&& fn, std::initializer_list<std::string> parts) {
  try {
    fn();
    ADD_FAILURE() << "no exception";
  } catch (const E& e) {
    for (const std::string& p : parts) EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "wrong exception type: " << e.what();
  }
}

const std::string kShared = QKV_SHARED_DATA;

}  // namespace

TEST(DataReaders, LinesHandleCrlfMissingNewlineBomAndEmptyFiles) {
  ScratchDir d;
  write_bytes(d.file("a"), "one\r\ntwo\n\nthree");
  EXPECT_EQ(read_lines(d.file("a")), (Lines{"one", "two", "", "three"}));
  write_bytes(d.file("b"), "\xEF\xBB\xBFx\n");
  EXPECT_EQ(read_lines(d.file("b")), (Lines{"x"}));
  write_bytes(d.file("empty"), "");
  EXPECT_TRUE(read_lines(d.file("empty")).empty());
  write_bytes(d.file("nl"), "\n");
  EXPECT_EQ(read_lines(d.file("nl")), (Lines{""}));
  write_bytes(d.file("utf8"), "Männer lädt\n");  // valid multi-byte text
  EXPECT_EQ(read_lines(d.file("utf8"))[0], "Männer lädt");
}

TEST(DataReaders, InvalidUtf8AndMissingFilesNameFileAndLine) {
  ScratchDir d;
  write_bytes(d.file("bad"), "ok\nfine\nab\xC3(z\n");
  expect_error<IOError>([&] { read_lines(d.file("bad")); }, {d.file("bad") + ":3:", "invalid UTF-8", "byte 3"});
  write_bytes(d.file("trunc"), "ok\n\xE2\x82");  // a character cut off at end of file
  expect_error<IOError>([&] { read_lines(d.file("trunc")); }, {":2:", "invalid UTF-8"});
  expect_error<IOError>([&] { read_lines(d.file("nope")); }, {"cannot open", d.file("nope")});
  expect_error<IOError>([&] { read_lines(d.path); }, {"directory"});
}

TEST(DataReaders, TsvWithHeaderSelectsColumnsByName) {
  ScratchDir d;
  write_bytes(d.file("t.tsv"), "id\tsentence\tlabel\r\n1\tgood film\t1\r\n\r\n2\tbad\t0");
  Table all = read_tsv(d.file("t.tsv"));
  EXPECT_EQ(all.columns, (Lines{"id", "sentence", "label"}));
  ASSERT_EQ(all.rows.size(), 2u);
  EXPECT_EQ(all.lines, (std::vector<int64_t>{2, 4}));  // the empty line 3 is skipped
  Table t = read_tsv(d.file("t.tsv"), {.columns = {"label", "sentence"}});
  EXPECT_EQ(t.rows[0], (Lines{"1", "good film"}));
  EXPECT_EQ(t.column("sentence"), (Lines{"good film", "bad"}));
  EXPECT_EQ(t.column_index("label"), 0u);
  expect_error<ValueError>([&] { t.column("id"); }, {"'id'", "label, sentence"});
  expect_error<IOError>([&] { read_tsv(d.file("t.tsv"), {.columns = {"text"}}); },
                        {":1:", "'text'", "id, sentence, label"});
}

TEST(DataReaders, TsvWithoutHeaderAndMalformedRows) {
  ScratchDir d;
  write_bytes(d.file("t.tsv"), "a\t1\nb\t2\n");
  Table t = read_tsv(d.file("t.tsv"), {.header = false, .columns = {"text", "label"}});
  EXPECT_EQ(t.rows.size(), 2u);
  EXPECT_EQ(t.column("label"), (Lines{"1", "2"}));
  write_bytes(d.file("bad.tsv"), "text\tlabel\nx\t1\ny\t1\textra\n");
  expect_error<IOError>([&] { read_tsv(d.file("bad.tsv")); },
                        {d.file("bad.tsv") + ":3:", "expected 2", "(text, label)", "got 3"});
  write_bytes(d.file("empty.tsv"), "");
  expect_error<IOError>([&] { read_tsv(d.file("empty.tsv")); }, {"empty file", "header"});
  EXPECT_TRUE(read_tsv(d.file("empty.tsv"), {.header = false, .columns = {"x"}}).rows.empty());
  expect_error<ValueError>([&] { read_tsv(d.file("t.tsv"), {.header = false, .columns = {}}); }, {"read_tsv", "columns"});
  // a trailing empty field is a field: "z\t" has two
  write_bytes(d.file("trail.tsv"), "z\t\n");
  EXPECT_EQ(read_tsv(d.file("trail.tsv"), {.header = false, .columns = {"a", "b"}}).rows[0], (Lines{"z", ""}));
}

TEST(DataReaders, JsonlSelectsFieldsAndReportsBadLines) {
  ScratchDir d;
  write_bytes(d.file("x.jsonl"), "{\"text\": \"hi\", \"label\": 1, \"id\": 7}\r\n\n  \n{\"text\": \"yo\", \"label\": 0}");
  JsonRecords r = read_jsonl(d.file("x.jsonl"), {"text", "label"});
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_EQ(r.rows[0], (nlohmann::json{{"text", "hi"}, {"label", 1}}));
  EXPECT_EQ(r.lines, (std::vector<int64_t>{1, 4}));
  EXPECT_TRUE(read_jsonl(d.file("x.jsonl")).rows[0].contains("id"));
  expect_error<IOError>([&] { read_jsonl(d.file("x.jsonl"), {"id"}); }, {":4:", "missing field 'id'"});
  write_bytes(d.file("bad.jsonl"), "{\"a\": 1}\n{\"a\": \n");
  expect_error<IOError>([&] { read_jsonl(d.file("bad.jsonl")); }, {d.file("bad.jsonl") + ":2:", "invalid JSON"});
  write_bytes(d.file("arr.jsonl"), "[1, 2]\n");
  expect_error<IOError>([&] { read_jsonl(d.file("arr.jsonl")); }, {":1:", "object", "array"});
  write_bytes(d.file("deep.jsonl"), "{\"a\": " + std::string(100000, '[') + "\n");
  expect_error<IOError>([&] { read_jsonl(d.file("deep.jsonl")); }, {":1:", "invalid JSON"});
  write_bytes(d.file("u.jsonl"), "{\"a\": \"\xFF\"}\n");
  expect_error<IOError>([&] { read_jsonl(d.file("u.jsonl")); }, {":1:", "invalid UTF-8"});
  write_bytes(d.file("e.jsonl"), "");
  EXPECT_TRUE(read_jsonl(d.file("e.jsonl")).rows.empty());
}

TEST(DataReaders, ParallelCorpusCountsMustMatch) {
  ScratchDir d;
  write_bytes(d.file("s.de"), "Hallo\nWelt\n");
  write_bytes(d.file("s.en"), "Hello\r\nWorld");  // CRLF and no final newline: still 2 lines
  ParallelCorpus pc = read_parallel(d.file("s.de"), d.file("s.en"));
  EXPECT_EQ(pc.size(), 2u);
  EXPECT_EQ(pc.target[1], "World");
  write_bytes(d.file("t.en"), "Hello\nWorld\nAgain\n");
  expect_error<IOError>([&] { read_parallel(d.file("s.de"), d.file("t.en")); },
                        {"s.de has 2 lines", "t.en has 3"});
}

// ---- the shared data sets (../shared/data); skipped in a fresh clone

TEST(DataReadersShared, Sst2Dev) {
  const std::string path = kShared + "/sst2/dev.tsv";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "shared data not found: " << path;
  Table t = read_tsv(path, {.columns = {"sentence", "label"}});
  EXPECT_EQ(t.rows.size(), 872u);  // GLUE SST-2 dev
  EXPECT_EQ(t.rows[0][0], "it 's a charming and often affecting journey . ");
  for (const auto& row : t.rows) ASSERT_TRUE(row[1] == "0" || row[1] == "1") << row[1];
}

TEST(DataReadersShared, Multi30kValidation) {
  const std::string de = kShared + "/multi30k/val.de", en = kShared + "/multi30k/val.en";
  if (!std::filesystem::exists(de) || !std::filesystem::exists(en)) GTEST_SKIP() << "shared data not found: " << de;
  ParallelCorpus pc = read_parallel(de, en);
  EXPECT_EQ(pc.size(), 1014u);  // Multi30k val (WMT16 task 1)
  EXPECT_EQ(pc.source[0], "Eine Gruppe von Männern lädt Baumwolle auf einen Lastwagen");
  EXPECT_EQ(pc.target[0], "A group of men are loading cotton onto a truck");
}

TEST(DataReaders, SplitLinesFollowsTheFileRulesOnText) {
  EXPECT_EQ(qkv::data::split_lines("\xEF\xBB\xBF" "a\r\n\nb", "stdin"), (std::vector<std::string>{"a", "", "b"}));
  EXPECT_TRUE(qkv::data::split_lines("", "stdin").empty());
  try {
    qkv::data::split_lines("ok\nbad \xff\n", "stdin");
    ADD_FAILURE();
  } catch (const qkv::IOError& e) {
    EXPECT_EQ(std::string(e.what()), "stdin:2: invalid UTF-8 at byte 5 of the line");
  }
}
