// Character-level tokenizer: build, encode/decode, errors, save/load (also
// through the general Tokenizer, which must agree).
#include <gtest/gtest.h>

#include <filesystem>

#include "qkv/core/error.h"
#include "qkv/tokenizers/char_tokenizer.h"
#include "qkv/tokenizers/tokenizer.h"
#include "tok_test_util.h"

using namespace qkv::tokenizers;

TEST(TokChar, BuildSortsByCodePoint) {
  auto t = CharTokenizer::build("hello, wörld\n");
  // distinct: '\n' ' ' ',' 'd' 'e' 'h' 'l' 'o' 'r' 'w' 'ö'
  EXPECT_EQ(t.vocab_size(), 11);
  EXPECT_EQ(t.chars().front(), "\n");
  EXPECT_EQ(t.chars().back(), "ö");
  auto ids = t.encode("hello");
  EXPECT_EQ(ids, (std::vector<int64_t>{5, 4, 6, 6, 7}));
  EXPECT_EQ(t.decode(ids), "hello");
  EXPECT_EQ(t.decode(t.encode("wörld, hello\n")), "wörld, hello\n");
  EXPECT_TRUE(t.encode("").empty());
}

TEST(TokChar, UnknownCharacterNamedWithPosition) {
  auto t = CharTokenizer::build("abc");
  try {
    t.encode("abxc");
    FAIL();
  } catch (const qkv::ValueError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("'x'"), std::string::npos) << m;
    EXPECT_NE(m.find("at character index 2 (byte offset 2)"), std::string::npos) << m;
  }
  try {  // after a 2-byte character the two positions differ
    CharTokenizer::build("ab\xC3\xA9").encode("\xC3\xA9" "ax");
    FAIL();
  } catch (const qkv::ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("'x' (U+0078) at character index 2 (byte offset 3)"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(t.encode("ab\xFF"), qkv::ValueError);
  EXPECT_THROW(t.decode({0, 3}), qkv::ValueError);
  EXPECT_THROW(t.decode({-1}), qkv::ValueError);
  EXPECT_THROW(CharTokenizer::build(""), qkv::ValueError);
  EXPECT_THROW(CharTokenizer::build("a\xC3"), qkv::ValueError);
}

TEST(TokChar, SaveLoadRoundTripAndGeneralTokenizerAgrees) {
  std::string corpus = "First Citizen:\nBefore we proceed any further, hear me speak. — ü 😀";
  auto t = CharTokenizer::build(corpus);
  std::string dir = qkv_test::temp_dir("char");
  std::string path = dir + "/tokenizer.json";
  t.save(path);
  auto back = CharTokenizer::load(path);
  EXPECT_EQ(back.chars(), t.chars());
  EXPECT_EQ(back.encode(corpus), t.encode(corpus));
  Tokenizer general = Tokenizer::from_path(path);
  EXPECT_EQ(general.encode_ids(corpus), t.encode(corpus));
  EXPECT_EQ(general.decode(t.encode(corpus)), corpus);
  std::filesystem::remove_all(dir);
}

TEST(TokChar, LoadRejectsNonCharacterVocab) {
  std::string dir = qkv_test::temp_dir("char_bad");
  std::string path = dir + "/tokenizer.json";
  {
    std::ofstream f(path);
    f << R"({"model": {"type": "WordLevel", "vocab": {"ab": 0, "c": 1}, "unk_token": "c"}})";
  }
  EXPECT_THROW(CharTokenizer::load(path), qkv::ValueError);
  EXPECT_THROW(CharTokenizer::load(dir + "/missing.json"), qkv::IOError);
  std::filesystem::remove_all(dir);
}
