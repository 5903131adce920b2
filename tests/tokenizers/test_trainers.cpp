// Trainers: vocabulary size, determinism across thread counts, round trips.
#include <gtest/gtest.h>

#include "qkv/core/error.h"
#include "qkv/core/threading.h"
#include "qkv/tokenizers/trainers.h"
#include "tok_test_util.h"

using namespace qkv::tokenizers;

namespace {
std::string corpus() {
  std::string s;
  for (int i = 0; i < 200; ++i) s += "the cat sat on the mat; the dog ate the hat. Ünïcödé " + std::to_string(i) + "\n";
  return s;
}
}  // namespace

TEST(TokTrain, ByteLevelBpeSizeDeterminismRoundTrip) {
  TrainerOptions o{.vocab_size = 300, .min_frequency = 2, .special_tokens = {"<|endoftext|>"}};
  qkv::set_num_threads(1);
  Tokenizer a = train_byte_level_bpe({corpus()}, o);
  qkv::set_num_threads(2);
  Tokenizer b = train_byte_level_bpe({corpus()}, o);
  EXPECT_EQ(a.to_json(), b.to_json());
  EXPECT_EQ(a.vocab_size(), 300);
  EXPECT_EQ(a.token_to_id("<|endoftext|>"), 0);
  std::string text = "the cat ate the hat<|endoftext|>\xFF bytes";
  auto ids = a.encode_ids(text);
  EXPECT_LT(ids.size(), text.size() / 2);  // merges learned
  EXPECT_EQ(a.decode(ids, false), text);
}

TEST(TokTrain, WordPieceLearnsContinuations) {
  TrainerOptions o{.vocab_size = 120, .min_frequency = 2};
  Tokenizer t = train_wordpiece({corpus()}, o);
  EXPECT_LE(t.vocab_size(), 120);
  EXPECT_EQ(t.token_to_id("[PAD]"), 0);
  Encoding e = t.encode("The cat sat.", {.add_special_tokens = true});
  EXPECT_EQ(e.tokens.front(), "[CLS]");
  EXPECT_EQ(t.decode(e.ids), "the cat sat.");
  EXPECT_THROW(train_wordpiece({corpus()}, {.vocab_size = 2}), qkv::Error);
}

TEST(TokTrain, WordPieceCasedKeepsCaseAndAccents) {
  const std::string text = "Paris Paris Paris paris Café Café Café EU EU EU\n";
  Tokenizer cased = train_wordpiece({text}, {.vocab_size = 60, .min_frequency = 2, .lowercase = false});
  EXPECT_TRUE(cased.token_to_id("Paris").has_value());
  EXPECT_TRUE(cased.token_to_id("Café").has_value());
  EXPECT_TRUE(cased.token_to_id("EU").has_value());
  EXPECT_EQ(cased.encode("Paris paris").tokens, (std::vector<std::string>{"Paris", "p", "##aris"}));
  EXPECT_EQ(cased.decode(cased.encode_ids("Café EU")), "Café EU");
  // the file keeps the choice: a reloaded tokenizer still does not lowercase
  Tokenizer reloaded = Tokenizer::from_json(cased.to_json());
  EXPECT_EQ(reloaded.encode("EU").tokens, std::vector<std::string>{"EU"});
  Tokenizer uncased = train_wordpiece({text}, {.vocab_size = 60, .min_frequency = 2});
  EXPECT_FALSE(uncased.token_to_id("Paris").has_value());
  EXPECT_TRUE(uncased.token_to_id("cafe").has_value());
}
