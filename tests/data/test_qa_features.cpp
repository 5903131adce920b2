// tests/data/test_qa_features.cpp — SQuAD windows and answer positions
// (prepare_qa_features, qkv/data/qa.h) with the real BERT uncased vocabulary:
// a hand-worked context cut into four windows, answers inside and across
// windows, mid-token answers, character (not byte) offsets, bad options, and
// every question of the shared SQuAD subsets.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "io/io_test_util.h"
#include "qkv/data/qa.h"
#include "qkv/tokenizers/utf8.h"

using namespace qkv;
using namespace qkv::data;
using qkv::testing::expect_error;

namespace {

using Ids = std::vector<int64_t>;
constexpr int64_t CLS = 101, SEP = 102;

const std::string kShared = QKV_SHARED_DATA;
const std::string kVocab = kShared + "/tokenizers/bert-base-uncased/vocab.txt";

#define REQUIRE_FILE(path) \
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "shared data not found: " << (path)

const tokenizers::Tokenizer& bert() {
  static tokenizers::Tokenizer t = tokenizers::Tokenizer::from_path(kVocab);
  return t;
}

// context tokens (vocab.txt line − 1):
//   0 the 1996 | 1 norman 5879 | 2 ##s 2015 | 3 gave 2435 | 4 their 2037 | 5 name 2171 | 6 to 2000 |
//   7 normandy 13298 | 8 , 1010 | 9 a 1037 | 10 region 2555 | 11 in 1999 | 12 france 2605 | 13 . 1012
const std::string kContext = "The Normans gave their name to Normandy, a region in France.";
const Ids kContextIds = {1996, 5879, 2015, 2435, 2037, 2171, 2000, 13298, 1010, 1037, 2555, 1999, 2605, 1012};
const Ids kQuestionIds = {2073, 2003, 13298, 1029};  // where is normandy ?

SquadExample example(const std::string& text, int64_t start, bool impossible = false) {
  SquadExample e;
  e.id = "ex";
  e.context = kContext;
  e.question = "  Where is Normandy?";  // leading spaces are stripped
  if (!impossible) e.answers.push_back({text, start});
  e.is_impossible = impossible;
  return e;
}

// question 4 tokens + 3 special + a window of 5 context tokens; windows share 2
const QaFeatureOptions kSmall{.max_length = 12, .doc_stride = 2};

std::vector<std::pair<int64_t, int64_t>> positions(const std::vector<QaFeature>& f) {
  std::vector<std::pair<int64_t, int64_t>> out;
  for (const QaFeature& x : f) out.push_back({x.start_position, x.end_position});
  return out;
}
using Positions = std::vector<std::pair<int64_t, int64_t>>;

}  // namespace

TEST(DataQaFeatures, WindowsWithStride) {
  REQUIRE_FILE(kVocab);
  auto f = prepare_qa_features(bert(), {example("France", 53)}, kSmall);
  // context windows [0,5) [3,8) [6,11) [9,14): each starts 5 − 2 = 3 tokens after the last
  ASSERT_EQ(f.size(), 4u);
  const size_t starts[] = {0, 3, 6, 9};
  for (size_t w = 0; w < 4; ++w) {
    Ids want = {CLS};
    want.insert(want.end(), kQuestionIds.begin(), kQuestionIds.end());
    want.push_back(SEP);
    want.insert(want.end(), kContextIds.begin() + long(starts[w]), kContextIds.begin() + long(starts[w] + 5));
    want.push_back(SEP);
    EXPECT_EQ(f[w].example.at("input_ids"), want) << "window " << w;
    EXPECT_EQ(f[w].example.at("token_type_ids"), (Ids{0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1}));
    EXPECT_EQ(f[w].example_index, 0u);
    ASSERT_EQ(f[w].offsets.size(), 12u);
    for (size_t t : {0, 1, 4, 5, 11}) EXPECT_FALSE(f[w].offsets[t]) << "window " << w << " token " << t;
  }
  // offsets of the last window: a region in france . (characters of the context)
  using Span = std::pair<size_t, size_t>;
  EXPECT_EQ(*f[3].offsets[6], (Span{41, 42}));  // "a": "Normandy" is 31..39, "," 39
  EXPECT_EQ(*f[3].offsets[9], (Span{53, 59}));
  EXPECT_EQ(*f[3].offsets[10], (Span{59, 60}));
  // "France" (context token 12) lies only in the last window, at 6 + 12 − 9 = 9
  EXPECT_EQ(positions(f), (Positions{{0, 0}, {0, 0}, {0, 0}, {9, 9}}));
  EXPECT_EQ(f[3].example.at("start_positions"), (Ids{9}));
  EXPECT_EQ(f[3].example.at("end_positions"), (Ids{9}));
  EXPECT_EQ(f[3].example.at("labels"), (Ids{9, 9}));
  EXPECT_EQ(f[0].example.at("labels"), (Ids{0, 0}));
  // a context that fits is one window
  EXPECT_EQ(prepare_qa_features(bert(), {example("France", 53)}, {.max_length = 21, .doc_stride = 2}).size(), 1u);
}

TEST(DataQaFeatures, AnswerPositionsAcrossWindows) {
  REQUIRE_FILE(kVocab);
  // "Normandy, a region" = context tokens 7..10: wholly inside window [6,11) only
  EXPECT_EQ(positions(prepare_qa_features(bert(), {example("Normandy, a region", 31)}, kSmall)),
            (Positions{{0, 0}, {0, 0}, {7, 10}, {0, 0}}));
  // "Normans" = norman ##s (tokens 1..2) in window [0,5)
  EXPECT_EQ(positions(prepare_qa_features(bert(), {example("Normans", 4)}, kSmall)),
            (Positions{{7, 8}, {0, 0}, {0, 0}, {0, 0}}));
  // an answer inside a token ("orman") is labelled with the token that holds it
  EXPECT_EQ(positions(prepare_qa_features(bert(), {example("orman", 5)}, kSmall)),
            (Positions{{7, 7}, {0, 0}, {0, 0}, {0, 0}}));
  // the window's last token: the start stays on it (run_qa would walk into [SEP])
  EXPECT_EQ(positions(prepare_qa_features(bert(), {example(".", 59)}, kSmall)),
            (Positions{{0, 0}, {0, 0}, {0, 0}, {10, 10}}));
  // "gave their name" (tokens 3..5) in window [3,8) only: 6 + 0 .. 6 + 2
  EXPECT_EQ(positions(prepare_qa_features(bert(), {example("gave their name", 12)}, kSmall)),
            (Positions{{0, 0}, {6, 8}, {0, 0}, {0, 0}}));
  // impossible: [CLS] everywhere; example_index follows the input order
  auto two = prepare_qa_features(bert(), {example("", 0, true), example("France", 53)}, kSmall);
  ASSERT_EQ(two.size(), 8u);
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(std::pair(two[i].start_position, two[i].end_position), std::pair(0L, 0L));
  EXPECT_EQ(two[3].example_index, 0u);
  EXPECT_EQ(two[4].example_index, 1u);
  EXPECT_EQ(two[7].start_position, 9);
}

TEST(DataQaFeatures, OffsetsAreCharactersNotBytes) {
  REQUIRE_FILE(kVocab);
  SquadExample e;
  e.id = "z";
  e.context = "😀 Zürich's Grossmünster is old.";  // 😀 = 4 bytes, ü = 2 bytes, one character each
  e.question = "What?";
  e.answers.push_back({"Grossmünster", 11});
  auto f = prepare_qa_features(bert(), {e});
  ASSERT_EQ(f.size(), 1u);
  // [CLS] what ? [SEP] [UNK]? zurich ' s gross ##mun ##ster is old . [SEP]
  const Ids& ids = f[0].example.at("input_ids");
  size_t zurich = std::find(ids.begin(), ids.end(), 10204) - ids.begin();
  ASSERT_LT(zurich, ids.size());
  EXPECT_EQ(*f[0].offsets[zurich], (std::pair<size_t, size_t>{2, 8}));
  EXPECT_EQ(substr_chars(e.context, f[0].offsets[zurich]->first, f[0].offsets[zurich]->second), "Zürich");
  // gross ##mun ##ster: start on gross, end on ##ster; together the answer
  const int64_t s = f[0].start_position, t = f[0].end_position;
  EXPECT_EQ(ids[size_t(s)], 7977);
  EXPECT_EQ(ids[size_t(t)], 6238);
  EXPECT_EQ(substr_chars(e.context, f[0].offsets[size_t(s)]->first, f[0].offsets[size_t(t)]->second), "Grossmünster");
}

TEST(DataQaFeatures, BadOptionsNameTheQuestion) {
  REQUIRE_FILE(kVocab);
  SquadExample e = example("France", 53);
  e.id = "long-q";
  // 4 question tokens + 3 special = 7: max_length 7 leaves nothing for the context
  expect_error<ValueError>([&] { prepare_qa_features(bert(), {e}, {.max_length = 7, .doc_stride = 0}); },
                           {"question long-q", "4 tokens", "max_length 7"});
  // a window of 5 context tokens cannot share 5 with the next
  expect_error<ValueError>([&] { prepare_qa_features(bert(), {e}, {.max_length = 12, .doc_stride = 5}); },
                           {"question long-q", "doc_stride 5", "window of 5"});
  // stride 4 < 5: windows start every token
  EXPECT_EQ(prepare_qa_features(bert(), {e}, {.max_length = 12, .doc_stride = 4}).size(), 10u);
}

// Every question of a shared subset: the windows tile the context with the
// stride, and a labelled window's span holds exactly the answer's tokens.
static void check_subset(const std::string& path, QaFeatureOptions opt, size_t& exact, size_t& answerable) {
  auto examples = read_squad(path);
  auto features = prepare_qa_features(bert(), examples, opt);
  std::vector<std::vector<size_t>> of(examples.size());
  for (size_t i = 0; i < features.size(); ++i) of[features[i].example_index].push_back(i);
  exact = answerable = 0;
  for (size_t k = 0; k < examples.size(); ++k) {
    const SquadExample& ex = examples[k];
    const Ids context = bert().encode(ex.context).ids;
    Ids rebuilt;
    size_t labelled = 0;
    for (size_t n = 0; n < of[k].size(); ++n) {
      const QaFeature& f = features[of[k][n]];
      const Ids& ids = f.example.at("input_ids");
      ASSERT_LE(ids.size(), opt.max_length);
      Ids window;
      for (size_t t = 0; t < ids.size(); ++t)
        if (f.offsets[t]) window.push_back(ids[t]);
      if (n > 0) {  // the first doc_stride tokens repeat the previous window's last ones
        ASSERT_GE(window.size(), opt.doc_stride);
        ASSERT_TRUE(std::equal(window.begin(), window.begin() + long(opt.doc_stride), rebuilt.end() - long(opt.doc_stride)))
            << ex.id;
        rebuilt.insert(rebuilt.end(), window.begin() + long(opt.doc_stride), window.end());
      } else {
        rebuilt = window;
      }
      if (f.start_position == 0) continue;
      ++labelled;
      const auto& a = ex.answers.at(0);
      const size_t sc = size_t(a.answer_start), ec = sc + tokenizers::byte_to_char_offsets(a.text).back();
      auto s = *f.offsets.at(size_t(f.start_position)), e = *f.offsets.at(size_t(f.end_position));
      // the span holds the answer, and its end tokens overlap it (no extra token at either end)
      EXPECT_LE(s.first, sc) << ex.id;
      EXPECT_GE(e.second, ec) << ex.id;
      EXPECT_GT(s.second, sc) << ex.id;
      EXPECT_LT(e.first, ec) << ex.id;
      if (labelled == 1) exact += substr_chars(ex.context, s.first, e.second) == a.text;
    }
    EXPECT_EQ(rebuilt, context) << ex.id;
    if (!ex.is_impossible) {
      ++answerable;
      EXPECT_GE(labelled, 1u) << ex.id << ": no window holds the answer";
    } else {
      EXPECT_EQ(labelled, 0u) << ex.id;
    }
  }
}

TEST(DataQaFeatures, SharedSquadSubsets) {
  const std::string v2 = kShared + "/squad/dev-v2.0-first5.json";
  REQUIRE_FILE(kVocab);
  REQUIRE_FILE(v2);
  size_t exact = 0, answerable = 0;
  check_subset(v2, {}, exact, answerable);  // 384 / 128
  EXPECT_EQ(answerable, 705u);
  // most answers start and end on token boundaries: their span is the answer itself
  EXPECT_GT(exact, answerable * 95 / 100);
  std::printf("[ squad v2 384/128 ] %zu of %zu answers recovered exactly from the span offsets\n", exact, answerable);
  check_subset(v2, {.max_length = 96, .doc_stride = 32}, exact, answerable);  // many windows per context
  EXPECT_EQ(answerable, 705u);
}
