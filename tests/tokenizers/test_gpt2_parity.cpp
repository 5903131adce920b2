// GPT-2 byte-level BPE against the reference encodings (tiktoken's gpt2,
// checked identical with Hugging Face) in shared/data/tokenizers/cases/gpt2.jsonl.
#include <gtest/gtest.h>
#include <unistd.h>

#include "qkv/core/error.h"
#include "qkv/tokenizers/tokenizer.h"
#include "tok_test_util.h"

using namespace qkv::tokenizers;

namespace {

const Tokenizer& gpt2() {
  static Tokenizer t = Tokenizer::from_path(qkv_test::tokenizer_data() + "/gpt2");
  return t;
}

}  // namespace

TEST(TokGpt2, EveryCaseEveryId) {
  const std::string path = qkv_test::tokenizer_data() + "/cases/gpt2.jsonl";
  QKV_REQUIRE_DATA(path);
  auto rows = qkv_test::read_jsonl(path);
  ASSERT_GT(rows.size(), 80u);
  size_t ok = 0;
  for (const auto& row : rows) {
    std::string text = row["text"];
    Encoding e = gpt2().encode(text, {.add_special_tokens = false, .parse_special = false});
    std::vector<int64_t> want = row["ids"].get<std::vector<int64_t>>();
    std::vector<std::string> want_tokens = row["tokens"].get<std::vector<std::string>>();
    EXPECT_EQ(e.ids, want) << "case " << row["case"] << " (" << row["category"] << "): " << text;
    EXPECT_EQ(e.tokens, want_tokens) << "case " << row["case"];
    EXPECT_EQ(gpt2().decode(e.ids), text) << "case " << row["case"];
    EXPECT_EQ(gpt2().encode_ids(text, {.parse_special = false}), want) << "case " << row["case"];
    ok += e.ids == want;
  }
  EXPECT_EQ(ok, rows.size());
  std::printf("[ gpt2 parity ] %zu/%zu cases\n", ok, rows.size());
}

TEST(TokGpt2, OffsetsCoverTheInputBytes) {
  QKV_REQUIRE_DATA(qkv_test::tokenizer_data() + "/gpt2/vocab.json");
  std::string text = "Héllo, wörld! 😀 tab\there";
  Encoding e = gpt2().encode(text);
  uint32_t at = 0;
  for (size_t i = 0; i < e.size(); ++i) {
    EXPECT_EQ(e.offsets[i].first, at) << i;
    EXPECT_GT(e.offsets[i].second, e.offsets[i].first) << i;
    at = e.offsets[i].second;
  }
  EXPECT_EQ(at, text.size());
}

TEST(TokGpt2, SpecialTokenOnlyWhenEnabled) {
  QKV_REQUIRE_DATA(qkv_test::tokenizer_data() + "/gpt2/vocab.json");
  std::string text = "Hello<|endoftext|> world";
  auto plain = gpt2().encode_ids(text, {.parse_special = false});
  auto special = gpt2().encode_ids(text, {.parse_special = true});
  EXPECT_EQ(special, (std::vector<int64_t>{15496, 50256, 995}));
  EXPECT_NE(plain, special);
  EXPECT_EQ(std::count(plain.begin(), plain.end(), 50256), 0);
  EXPECT_EQ(gpt2().decode(special, /*skip_special_tokens=*/false), text);
  EXPECT_EQ(gpt2().decode(special, /*skip_special_tokens=*/true), "Hello world");
}

TEST(TokGpt2, RoundTripRandomBytesIncludingInvalidUtf8) {
  QKV_REQUIRE_DATA(qkv_test::tokenizer_data() + "/gpt2/vocab.json");
  uint64_t state = 0x9E3779B97F4A7C15ULL;  // fixed seed: xorshift64
  auto next = [&] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  const char* alphabet[] = {"a", " ", "'s", "\n", "é", "😀", "1", "\xC3", "\xF0\x9F", "\xFF", "\x80", " \xE2\x80"};
  for (int trial = 0; trial < 2000; ++trial) {
    std::string s;
    size_t len = next() % 40;
    for (size_t i = 0; i < len; ++i) {
      if (next() % 3 == 0) s += alphabet[next() % std::size(alphabet)];
      else s += char(next() & 0xFF);
    }
    auto ids = gpt2().encode_ids(s, {.parse_special = false});
    ASSERT_EQ(gpt2().decode(ids), s) << "trial " << trial;
  }
}

TEST(TokGpt2, EmptyAndHugeInput) {
  QKV_REQUIRE_DATA(qkv_test::tokenizer_data() + "/gpt2/vocab.json");
  EXPECT_TRUE(gpt2().encode("").ids.empty());
  EXPECT_EQ(gpt2().decode({}), "");
  std::string big(10 << 20, 'a');  // one 10 MB word: the heap merge keeps this O(n log n)
  auto ids = gpt2().encode_ids(big);
  EXPECT_GT(ids.size(), 0u);
  EXPECT_EQ(gpt2().decode(ids), big);
}

TEST(TokGpt2, DecodeRejectsUnknownId) {
  QKV_REQUIRE_DATA(qkv_test::tokenizer_data() + "/gpt2/vocab.json");
  try {
    gpt2().decode({15496, 99999});
    FAIL() << "expected ValueError";
  } catch (const qkv::ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("99999"), std::string::npos) << e.what();
  }
}
