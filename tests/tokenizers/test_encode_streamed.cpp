// Tokenizer::encode_streamed (the long-line path of `qkv tokenize`): a text
// encoded in pieces gives exactly encode(text) — ids, tokens and offsets —
// on lines of a few MB of real text (shared/data) through GPT-2's byte-level
// BPE and BERT's WordPiece; text it cannot cut is refused before anything is
// written.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <sstream>

#include "qkv/core/error.h"
#include "qkv/tokenizers/tokenizer.h"
#include "tok_test_util.h"

using namespace qkv::tokenizers;

namespace {

const std::string kBible = std::string(QKV_SHARED_DATA) + "/bible-en-es/en.txt";

const Tokenizer& gpt2() {
  static Tokenizer t = Tokenizer::from_path(qkv_test::tokenizer_data() + "/gpt2");
  return t;
}
const Tokenizer& bert() {
  static Tokenizer t = Tokenizer::from_path(qkv_test::tokenizer_data() + "/bert-base-uncased/vocab.txt");
  return t;
}

// Under AddressSanitizer (make test-asan) the whole-line encodes are ~10x
// slower: 1 MB there keeps the suite's time, the Release run takes it all.
#if defined(__SANITIZE_ADDRESS__)
constexpr size_t kLineBytes = size_t(1) << 20;
#else
constexpr size_t kLineBytes = SIZE_MAX;
#endif

// The lines of a file joined by single spaces: one line of (here) 3.9 MB.
std::string one_line(const std::string& path) {
  std::ifstream f(path);
  std::string line, out;
  while (out.size() < kLineBytes && std::getline(f, line)) {
    if (!out.empty()) out += ' ';
    out += line;
  }
  return out;
}

struct Streamed {
  Encoding all;
  size_t pieces = 0;
  size_t widest = 0;  // the largest byte span one piece's offsets cover
};

Streamed streamed(const Tokenizer& t, std::string_view text, Tokenizer::StreamOptions o) {
  Streamed s;
  t.encode_streamed(text, o, [&](const Encoding& e) {
    EXPECT_EQ(e.tokens.size(), e.ids.size());
    EXPECT_EQ(e.offsets.size(), e.ids.size());
    s.all.ids.insert(s.all.ids.end(), e.ids.begin(), e.ids.end());
    s.all.tokens.insert(s.all.tokens.end(), e.tokens.begin(), e.tokens.end());
    s.all.offsets.insert(s.all.offsets.end(), e.offsets.begin(), e.offsets.end());
    uint32_t lo = UINT32_MAX, hi = 0;
    for (auto [a, b] : e.offsets)
      if (b > a) lo = std::min(lo, a), hi = std::max(hi, b);
    if (hi > lo) s.widest = std::max(s.widest, size_t(hi - lo));
    ++s.pieces;
  });
  return s;
}

void expect_same(const Encoding& got, const Encoding& want) {
  ASSERT_EQ(got.ids.size(), want.ids.size());
  EXPECT_TRUE(got.ids == want.ids);  // (not EXPECT_EQ: a million ids in a failure message)
  EXPECT_TRUE(got.tokens == want.tokens);
  EXPECT_TRUE(got.offsets == want.offsets);
  for (size_t i = 0; i < got.ids.size(); ++i)
    if (got.ids[i] != want.ids[i] || got.offsets[i] != want.offsets[i]) {
      ADD_FAILURE() << "first difference at token " << i << ": id " << got.ids[i] << " vs " << want.ids[i];
      break;
    }
}

}  // namespace

TEST(TokStreamed, Gpt2MegabytesLineEqualsTheWholeLine) {
  QKV_REQUIRE_DATA(kBible);
  QKV_REQUIRE_DATA(qkv_test::tokenizer_data() + "/gpt2/vocab.json");
  const std::string text = one_line(kBible);
  ASSERT_GT(text.size(), std::min(kLineBytes, size_t(3) << 20));
  ASSERT_TRUE(gpt2().streamable());
  const Streamed s = streamed(gpt2(), text, {.chunk_bytes = 64 << 10});
  expect_same(s.all, gpt2().encode(text));
  EXPECT_GE(s.pieces, text.size() / (64 << 10));
  EXPECT_LT(s.widest, size_t(65 << 10));  // a piece ends at the first space after 64 KiB
}

TEST(TokStreamed, BertMegabytesLineEqualsTheWholeLine) {
  QKV_REQUIRE_DATA(kBible);
  QKV_REQUIRE_DATA(qkv_test::tokenizer_data() + "/bert-base-uncased/vocab.txt");
  const std::string text = one_line(kBible);
  ASSERT_TRUE(bert().streamable());
  const Streamed s = streamed(bert(), text, {.chunk_bytes = 64 << 10});
  expect_same(s.all, bert().encode(text));
  EXPECT_GE(s.pieces, text.size() / (64 << 10));
  // With the template: [CLS] first, [SEP] last, the same tokens between (on
  // 512 KB: the whole-line encode is what makes this test slow).
  const std::string_view part = std::string_view(text).substr(0, 512 << 10);
  const Streamed t = streamed(bert(), part, {.encode = {.add_special_tokens = true}, .chunk_bytes = 64 << 10});
  expect_same(t.all, bert().encode(part, {.add_special_tokens = true}));
  EXPECT_EQ(t.all.ids.front(), 101);
  EXPECT_EQ(t.all.ids.back(), 102);
}

// Chunks of one byte: a cut at every space between two ASCII letters or
// digits, over every text of the parity case files (Unicode, controls,
// contractions, digits, added tokens, CJK) joined into one line.
TEST(TokStreamed, CutAtEverySafeSpaceOfTheParityCases) {
  for (const char* name : {"gpt2", "bert_uncased"}) {
    const std::string path = qkv_test::tokenizer_data() + "/cases/" + name + ".jsonl";
    QKV_REQUIRE_DATA(path);
    std::string text;
    for (const auto& row : qkv_test::read_jsonl(path)) text += row["text"].get<std::string>() + " it's 42 x ";
    text += "a<|endoftext|>b [MASK] c [SEP]d";
    const Tokenizer& t = std::string(name) == "gpt2" ? gpt2() : bert();
    for (bool parse_special : {true, false}) {
      const EncodeOptions e{.parse_special = parse_special};
      const Streamed s = streamed(t, text, {.encode = e, .chunk_bytes = 1});
      SCOPED_TRACE(std::string(name) + (parse_special ? " parse_special" : ""));
      expect_same(s.all, t.encode(text, e));
      EXPECT_GT(s.pieces, 100u);
    }
  }
}

// A stretch without a safe space longer than max_piece_bytes is refused
// before fn sees anything (`qkv tokenize` writes nothing of the line).
TEST(TokStreamed, UncuttableStretchIsRefusedNamingTheLimit) {
  QKV_REQUIRE_DATA(qkv_test::tokenizer_data() + "/gpt2/vocab.json");
  const std::string text = "a b c " + std::string(5000, 'x') + " d";
  size_t calls = 0;
  try {
    gpt2().encode_streamed(text, {.chunk_bytes = 16, .max_piece_bytes = 1000}, [&](const Encoding&) { ++calls; });
    ADD_FAILURE() << "no error";
  } catch (const qkv::ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("no space between two ASCII letters or digits"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("at most 1000 bytes"), std::string::npos) << e.what();
  }
  EXPECT_EQ(calls, 0u);
  // Under the limit the same text is one long piece, and equal to encode().
  expect_same(streamed(gpt2(), text, {.chunk_bytes = 16, .max_piece_bytes = 6000}).all, gpt2().encode(text));
}

// A pipeline encode_streamed cannot cut (no pre-tokenizer: the text is one
// word) encodes texts up to max_piece_bytes whole and refuses longer ones.
TEST(TokStreamed, UnstreamableTokenizerEncodesUpToTheLimit) {
  QKV_REQUIRE_DATA(qkv_test::tokenizer_data() + "/bert-base-uncased/vocab.txt");
  Tokenizer t = bert();
  t.pre_tokenizer.reset();
  EXPECT_FALSE(t.streamable());
  const std::string text = "hello world again";
  expect_same(streamed(t, text, {.chunk_bytes = 4, .max_piece_bytes = 100}).all, t.encode(text));
  try {
    streamed(t, text, {.chunk_bytes = 4, .max_piece_bytes = 10});
    ADD_FAILURE() << "no error";
  } catch (const qkv::ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot be encoded in pieces"), std::string::npos) << e.what();
  }
  Tokenizer strip = bert();
  strip.normalizer = Normalizer{.kind = Normalizer::Kind::Strip};
  EXPECT_FALSE(strip.streamable());
}
