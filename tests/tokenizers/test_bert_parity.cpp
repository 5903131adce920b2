// BERT uncased WordPiece against Hugging Face's BERT pipeline
// (shared/data/tokenizers/cases/bert_uncased.jsonl), plus pairs, offsets,
// truncation/padding and the WordPiece decoder.
#include <gtest/gtest.h>

#include "qkv/core/error.h"
#include "qkv/tokenizers/tokenizer.h"
#include "qkv/tokenizers/utf8.h"
#include "tok_test_util.h"

using namespace qkv::tokenizers;

namespace {

const std::string kVocab = qkv_test::tokenizer_data() + "/bert-base-uncased/vocab.txt";

const Tokenizer& bert() {
  static Tokenizer t = Tokenizer::from_path(kVocab);
  return t;
}

}  // namespace

TEST(TokBert, EveryCaseEveryId) {
  const std::string path = qkv_test::tokenizer_data() + "/cases/bert_uncased.jsonl";
  QKV_REQUIRE_DATA(path);
  auto rows = qkv_test::read_jsonl(path);
  ASSERT_GT(rows.size(), 80u);
  size_t ok = 0;
  for (const auto& row : rows) {
    std::string text = row["text"];
    Encoding e = bert().encode(text);
    Encoding s = bert().encode(text, {.add_special_tokens = true});
    auto want = row["ids"].get<std::vector<int64_t>>();
    auto want_special = row["ids_with_special"].get<std::vector<int64_t>>();
    EXPECT_EQ(e.ids, want) << "case " << row["case"] << " (" << row["category"] << "): " << text;
    EXPECT_EQ(e.tokens, row["tokens"].get<std::vector<std::string>>()) << "case " << row["case"];
    EXPECT_EQ(s.ids, want_special) << "case " << row["case"];
    EXPECT_EQ(s.tokens, row["tokens_with_special"].get<std::vector<std::string>>()) << "case " << row["case"];
    EXPECT_EQ(s.type_ids, std::vector<int64_t>(s.size(), 0));
    ok += e.ids == want && s.ids == want_special;
  }
  EXPECT_EQ(ok, rows.size());
  std::printf("[ bert parity ] %zu/%zu cases\n", ok, rows.size());
}

TEST(TokBert, PairTemplateAndTypeIds) {
  QKV_REQUIRE_DATA(kVocab);
  Encoding e = bert().encode_pair("Hello there", "General Kenobi!", {.add_special_tokens = true});
  EXPECT_EQ(e.tokens, (std::vector<std::string>{"[CLS]", "hello", "there", "[SEP]", "general", "ken", "##ob", "##i",
                                                "!", "[SEP]"}));
  EXPECT_EQ(e.type_ids, (std::vector<int64_t>{0, 0, 0, 0, 1, 1, 1, 1, 1, 1}));
  EXPECT_EQ(e.special_tokens_mask, (std::vector<int64_t>{1, 0, 0, 1, 0, 0, 0, 0, 0, 1}));
}

TEST(TokBert, OffsetsPointIntoTheOriginalText) {
  QKV_REQUIRE_DATA(kVocab);
  std::string text = "Héllo Wörld, 北京!";
  Encoding e = bert().encode(text);
  ASSERT_EQ(e.tokens, (std::vector<std::string>{"hello", "world", ",", "北", "京", "!"}));
  std::vector<std::string> spans;
  for (auto [s, f] : e.offsets) spans.push_back(text.substr(s, f - s));
  EXPECT_EQ(spans, (std::vector<std::string>{"Héllo", "Wörld", ",", "北", "京", "!"}));
  Encoding w = bert().encode("unaffable");  // sub-word pieces
  std::vector<std::pair<uint32_t, uint32_t>> want = {{0, 3}, {3, 6}, {6, 9}};
  EXPECT_EQ(w.tokens, (std::vector<std::string>{"una", "##ffa", "##ble"}));
  EXPECT_EQ(w.offsets, want);
}

TEST(TokBert, InvalidUtf8IsDroppedLikeReplacementChar) {
  QKV_REQUIRE_DATA(kVocab);
  // documented: an invalid byte is read as U+FFFD, which BERT's clean-text deletes
  EXPECT_EQ(bert().encode("ab\xFF" "cd").tokens, bert().encode("abcd").tokens);
  EXPECT_EQ(bert().encode("\xC3").ids, std::vector<int64_t>{});
}

TEST(TokBert, LongWordIsUnkAndLongLineWorks) {
  QKV_REQUIRE_DATA(kVocab);
  EXPECT_EQ(bert().encode(std::string(101, 'a')).tokens, std::vector<std::string>{"[UNK]"});
  EXPECT_NE(bert().encode(std::string(100, 'a')).tokens, std::vector<std::string>{"[UNK]"});
  std::string line;
  while (line.size() < (10u << 20)) line += "the quick brown fox, ";
  EXPECT_GT(bert().encode_ids(line).size(), 2000000u);
}

TEST(TokBert, DecodeJoinsPiecesAndCleansUp) {
  QKV_REQUIRE_DATA(kVocab);
  auto ids = bert().encode("Tokenization isn't hard, is it?", {.add_special_tokens = true}).ids;
  // Hugging Face cleans up token by token, so " ' " (three tokens) stays: checked against @anush008/tokenizers
  EXPECT_EQ(bert().decode(ids), "tokenization isn ' t hard, is it?");
  EXPECT_EQ(bert().decode(ids, /*skip_special_tokens=*/false), "[CLS] tokenization isn ' t hard, is it? [SEP]");
}

TEST(TokBert, BatchTruncationAndPadding) {
  QKV_REQUIRE_DATA(kVocab);
  std::vector<std::string> texts = {"a b c d e f g h", "hi", "one two three"};
  TruncationOptions trunc{.max_length = 6};
  PaddingOptions pad{.length = PaddingOptions::Length::Longest};
  auto out = bert().encode_batch(texts, {.add_special_tokens = true}, trunc, pad);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].tokens, (std::vector<std::string>{"[CLS]", "a", "b", "c", "d", "[SEP]"}));
  EXPECT_EQ(out[1].tokens, (std::vector<std::string>{"[CLS]", "hi", "[SEP]", "[PAD]", "[PAD]", "[PAD]"}));
  EXPECT_EQ(out[1].attention_mask, (std::vector<int64_t>{1, 1, 1, 0, 0, 0}));
  PaddingOptions left{.length = PaddingOptions::Length::Fixed, .max_length = 7, .left = true};
  auto l = bert().encode_batch({"hi"}, {.add_special_tokens = true}, {}, left);
  EXPECT_EQ(l[0].ids, (std::vector<int64_t>{0, 0, 0, 0, 101, 7632, 102}));
  auto pairs = bert().encode_batch_pairs({{"a b c d e f", "x y"}}, {.add_special_tokens = true},
                                         {.max_length = 8, .strategy = TruncationOptions::Strategy::LongestFirst});
  EXPECT_EQ(pairs[0].tokens, (std::vector<std::string>{"[CLS]", "a", "b", "c", "[SEP]", "x", "y", "[SEP]"}));
  auto only_second = TruncationOptions{.max_length = 8, .strategy = TruncationOptions::Strategy::OnlySecond};
  EXPECT_THROW(bert().encode_batch_pairs({{"a b c d e f", "x y"}}, {.add_special_tokens = true}, only_second),
               qkv::ValueError);
}
