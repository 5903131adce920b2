// tokenizer.json load/save round trips and every bad-file error: each names the
// file and the line or key at fault.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "qkv/core/error.h"
#include "qkv/tokenizers/tokenizer.h"
#include "tok_test_util.h"

using namespace qkv::tokenizers;

namespace {

struct TempDir {
  std::string path = qkv_test::temp_dir("files");
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string write(const std::string& name, const std::string& content) const {
    std::string p = path + "/" + name;
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }
};

// Expects ValueError whose message contains every one of parts.
template <class Fn>
void expect_error(Fn&& fn, std::initializer_list<std::string> parts) {
  try {
    fn();
    ADD_FAILURE() << "expected qkv::Error";
  } catch (const qkv::Error& e) {
    for (const std::string& p : parts) EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
  }
}

}  // namespace

TEST(TokFiles, SaveLoadRoundTripGpt2AndBert) {
  QKV_REQUIRE_DATA(qkv_test::tokenizer_data() + "/gpt2/vocab.json");
  TempDir d;
  std::string text = "Hello world! Ünïcödé 北京 [MASK] <|endoftext|> isn't it?\n\tok";
  for (std::string src : {qkv_test::tokenizer_data() + "/gpt2", qkv_test::tokenizer_data() + "/bert-base-uncased"}) {
    Tokenizer a = Tokenizer::from_path(src);
    std::string out = d.path + "/tokenizer.json";
    a.save(out);
    Tokenizer b = Tokenizer::from_path(d.path);  // a directory with tokenizer.json
    for (bool special : {false, true}) {
      Encoding ea = a.encode(text, {.add_special_tokens = special}), eb = b.encode(text, {.add_special_tokens = special});
      EXPECT_EQ(ea.ids, eb.ids) << src;
      EXPECT_EQ(ea.offsets, eb.offsets) << src;
      EXPECT_EQ(a.decode(ea.ids), b.decode(eb.ids)) << src;
    }
    EXPECT_EQ(a.to_json(), b.to_json()) << src;  // saving again gives the same file
    EXPECT_EQ(a.vocab_size(), b.vocab_size());
  }
}

TEST(TokFiles, WordLevelAndBpeWithUnkFromJson) {
  Tokenizer w = Tokenizer::from_json(R"({"model": {"type": "WordLevel", "vocab": {"[UNK]": 0, "hello": 1, "world": 2},
    "unk_token": "[UNK]"}, "pre_tokenizer": {"type": "Whitespace"}, "normalizer": {"type": "Lowercase"}})");
  EXPECT_EQ(w.encode_ids("Hello big World"), (std::vector<int64_t>{1, 0, 2}));
  Tokenizer b = Tokenizer::from_json(R"({"model": {"type": "BPE", "vocab": {"<unk>": 0, "a": 1, "b": 2, "ab": 3},
    "merges": [["a", "b"]], "unk_token": "<unk>", "fuse_unk": true}})");
  EXPECT_EQ(b.encode_ids("abxyab"), (std::vector<int64_t>{3, 0, 3}));
}

TEST(TokFiles, VocabJsonNotJson) {
  TempDir d;
  std::string v = d.write("vocab.json", "{\"a\": 0,\n \"b\": }");
  d.write("merges.txt", "#version: 0.2\n");
  expect_error([&] { Tokenizer::from_path(d.path); }, {"vocab.json", "not valid JSON", "line 2"});
}

TEST(TokFiles, MergesReferencingUnknownTokens) {
  TempDir d;
  d.write("vocab.json", R"({"a": 0, "b": 1, "ab": 2})");
  d.write("merges.txt", "#version: 0.2\na b\nb c\n");
  expect_error([&] { Tokenizer::from_path(d.path); }, {"merges.txt line 3", "'c'", "not in the vocabulary"});
  d.write("merges.txt", "a b\nab\n");
  expect_error([&] { Tokenizer::from_path(d.path); }, {"merges.txt line 2", "two tokens"});
  expect_error([&] { Tokenizer::from_json(R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a q"]}})", "t.json"); },
               {"t.json", "merge 1", "'q'"});
}

// A number too large for a double is nlohmann's out_of_range, not a
// parse_error: it escaped from_json unworded (libFuzzer, tokenizer_json
// target, 2026-12-07: "777…e777…" in added_tokens).
TEST(TokFiles, ANumberTooLargeIsAClearError) {
  expect_error([] { Tokenizer::from_json(R"({"added_tokens": [{"id": 7e777}], "model": {"type": "BPE"}})", "t.json"); },
               {"t.json", "invalid JSON", "number overflow"});
}

// vocab.json ids are bounded as tokenizer.json's: a 3 KB vocab.json with id
// 722,222,229 took 22 GB and 98 s before failing (libFuzzer, vocab_merges).
TEST(TokFiles, AHugeVocabJsonIdIsRefusedBeforeAllocating) {
  TempDir d;
  d.write("vocab.json", R"({"a": 0, "b": 722222229})");
  d.write("merges.txt", "#version: 0.2\n");
  expect_error([&] { Tokenizer::from_path(d.path); }, {"vocab.json", "'b'", "id 722222229 is outside [0, 16777216)"});
}

TEST(TokFiles, UnsupportedModelTypeAndSections) {
  expect_error([] { Tokenizer::from_json(R"({"model": {"type": "Unigram", "vocab": []}})", "x/tokenizer.json"); },
               {"x/tokenizer.json", "model", "Unigram", "not supported"});
  expect_error([] { Tokenizer::from_json(R"({"model": {"type": "BPE", "vocab": {}, "merges": []},
      "normalizer": {"type": "Precompiled"}})", "t.json"); },
               {"t.json", "normalizer.type", "Precompiled"});
  expect_error([] { Tokenizer::from_json(R"({"model": {"type": "BPE", "vocab": {}, "merges": []},
      "pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "UnicodeScripts"}]}})", "t.json"); },
               {"pre_tokenizer.pretokenizers[0].type", "UnicodeScripts"});
  expect_error([] { Tokenizer::from_json(R"({"model": {"type": "BPE", "vocab": {"a": "zero"}, "merges": []}})", "t.json"); },
               {"model.vocab['a']", "integer"});
  expect_error([] { Tokenizer::from_json(R"([1, 2])", "t.json"); }, {"t.json", "expected an object"});
  expect_error([] { Tokenizer::from_json(R"({"version": "1.0"})", "t.json"); }, {"t.json", "missing field 'model'"});
}

TEST(TokFiles, DuplicateIds) {
  TempDir d;
  d.write("vocab.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\n[UNK]\n");
  expect_error([&] { Tokenizer::from_path(d.path); }, {"vocab.txt line 6", "duplicate token '[UNK]'"});
  expect_error([] { Tokenizer::from_json(R"({"model": {"type": "WordLevel", "vocab": {"a": 0, "b": 0}, "unk_token": "a"}})", "t.json"); },
               {"t.json", "model.vocab['b']", "duplicate id 0"});
  expect_error([] { Tokenizer::from_json(R"({"model": {"type": "WordLevel", "vocab": {"a": 0}, "unk_token": "a"},
      "added_tokens": [{"id": 5, "content": "<x>"}, {"id": 5, "content": "<y>"}]})", "t.json"); },
               {"added_tokens[1]", "duplicate id 5"});
}

TEST(TokFiles, MissingPathsAreIOErrors) {
  TempDir d;
  EXPECT_THROW(Tokenizer::from_path(d.path + "/nope"), qkv::IOError);
  EXPECT_THROW(Tokenizer::from_path(d.path), qkv::IOError);  // empty directory
}

// Found by fuzz/fuzz_vocab_txt: a token that is not UTF-8 became U+FFFD in the
// saved tokenizer.json (two such tokens collide, an id is lost on reload).
TEST(TokFiles, VocabTxtWithInvalidUtf8IsRefusedNamingTheLine) {
  TempDir d;
  const std::string path = d.write("vocab.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\ncaf\x8a\ncaf\xff\n");
  expect_error([&] { Tokenizer::bert(path); }, {"vocab.txt line 5", "not valid UTF-8"});
}
