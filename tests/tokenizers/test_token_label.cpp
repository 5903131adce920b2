// Token labels (tokenizers/token_label.h): what a token is, made visible —
// spaces, newlines and tabs, byte-level pieces decoded where they form whole
// characters and <0xNN> where they do not, every script kept.
#include <gtest/gtest.h>

#include "qkv/core/error.h"
#include "qkv/tokenizers/byte_level.h"
#include "qkv/tokenizers/text_codec.h"
#include "qkv/tokenizers/token_label.h"
#include "qkv/tokenizers/tokenizer.h"
#include "tokenizers/tok_test_util.h"

using qkv::tokenizers::bytes_to_byte_level;
using qkv::tokenizers::token_label;
using qkv::tokenizers::visible_text;

TEST(TokenLabel, WhitespaceAndControlsAreVisible) {
  EXPECT_EQ(visible_text(" But"), "␣But");
  EXPECT_EQ(visible_text("\n"), "↵");
  EXPECT_EQ(visible_text("a\tb"), "a⇥b");
  EXPECT_EQ(visible_text("\x1b[0m"), "<0x1B>[0m");
  EXPECT_EQ(visible_text("\x7f"), "<0x7F>");
  EXPECT_EQ(visible_text(""), "∅");
  EXPECT_EQ(visible_text("é 東京 한국어"), "é␣東京␣한국어");  // every script kept
  EXPECT_EQ(visible_text("\xE6\x9D"), "<0xE6><0x9D>");      // half of 東
  EXPECT_EQ(visible_text("\xFF" "a"), "<0xFF>a");
}

TEST(TokenLabel, ByteLevelPiecesDecodeToText) {
  EXPECT_EQ(token_label("ĠBut", true), "␣But");
  EXPECT_EQ(token_label("Ċ", true), "↵");
  EXPECT_EQ(token_label("ĉ", true), "⇥");
  EXPECT_EQ(token_label("ĠĠ", true), "␣␣");
  EXPECT_EQ(token_label("Ã©", true), "é");
  EXPECT_EQ(token_label(bytes_to_byte_level("東京"), true), "東京");
  EXPECT_EQ(token_label(bytes_to_byte_level(" 한국어"), true), "␣한국어");
  // Pieces that split a character: whole characters decoded, the rest as bytes.
  EXPECT_EQ(token_label(bytes_to_byte_level("\xE6\x9D"), true), "<0xE6><0x9D>");
  EXPECT_EQ(token_label(bytes_to_byte_level("\xB1" "京"), true), "<0xB1>京");
  // Not byte-level: taken as text ("Ġ" is a letter there); SentencePiece's ▁ is a space.
  EXPECT_EQ(token_label("ĠBut", false), "ĠBut");
  EXPECT_EQ(token_label("▁Hello", false), "␣Hello");
  EXPECT_EQ(token_label("##ing", false), "##ing");
  // A character outside the byte alphabet: the piece is text after all.
  EXPECT_EQ(token_label("東", true), "東");
}

TEST(TokenLabel, CodecsLabelTheirTokens) {
  const auto chars = qkv::tokenizers::char_codec("to be\nor");
  std::vector<std::string> got;
  for (int64_t id : chars.encode(" \nb")) got.push_back(chars.label(id));
  EXPECT_EQ(got, (std::vector<std::string>{"␣", "↵", "b"}));
}

TEST(TokenLabel, Gpt2Vocabulary) {
  QKV_REQUIRE_DATA(qkv_test::tokenizer_data() + "/gpt2/vocab.json");
  const auto codec = qkv::tokenizers::load_codec(qkv_test::tokenizer_data() + "/gpt2");
  std::string joined;
  for (int64_t id : codec.encode(" But\n東京")) joined += codec.label(id) + "|";
  EXPECT_EQ(joined.rfind("␣But|↵|", 0), 0u) << joined;
  // GPT-2's merges may split 東 (E6 9D B1) over tokens: whole or as bytes, never lost.
  EXPECT_TRUE(joined.find("東") != std::string::npos || joined.find("<0xE6>") != std::string::npos) << joined;
  EXPECT_EQ(joined.find("\xEF\xBF\xBD"), std::string::npos) << "no U+FFFD: " << joined;
  EXPECT_EQ(codec.label(50256), "<|endoftext|>");  // an added token keeps its name
  EXPECT_THROW(codec.label(1 << 30), qkv::ValueError);
}
