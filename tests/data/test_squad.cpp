// tests/data/test_squad.cpp — the SQuAD JSON reader (qkv/data/squad.h):
// v1.1 and v2.0 layouts written here, answer_start counted in code points,
// every malformed file rejected with the id / field named, and the shared
// 5-article subsets (counts from SOURCES.md).
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "io/io_test_util.h"
#include "qkv/core/error.h"
#include "qkv/data/squad.h"

using namespace qkv;
using namespace qkv::data;
using nlohmann::json;
using qkv::testing::expect_error;
using qkv::testing::ScratchDir;
using qkv::testing::write_bytes;

namespace {

const std::string kSquad = std::string(QKV_SHARED_DATA) + "/squad";

// A SQuAD file with one article, one paragraph and the given questions.
json squad_file(const std::string& context, json qas) {
  return {{"version", "v2.0"},
          {"data", {{{"title", "T"}, {"paragraphs", {{{"context", context}, {"qas", std::move(qas)}}}}}}}};
}

json question(const std::string& id, json answers, bool impossible = false) {
  return {{"id", id}, {"question", "Where?"}, {"answers", std::move(answers)}, {"is_impossible", impossible}};
}

json answer(const std::string& text, int64_t start) { return {{"text", text}, {"answer_start", start}}; }

}  // namespace

TEST(DataSquad, ReadsV2WithCodePointOffsets) {
  ScratchDir d;
  // 😀 is one code point (4 bytes), ü one (2 bytes): "Switzerland" is at character 15, byte 19
  const std::string ctx = "😀 Zürich is in Switzerland.";
  json f = squad_file(ctx, {question("q1", {answer("Switzerland", 15), answer("Zürich", 2)}),
                            question("q2", json::array(), true)});
  f["data"][0]["paragraphs"][0]["qas"][1]["plausible_answers"] = {answer("Zürich", 2)};
  write_bytes(d.file("s.json"), f.dump());
  auto ex = read_squad(d.file("s.json"));
  ASSERT_EQ(ex.size(), 2u);
  EXPECT_EQ(ex[0].id, "q1");
  EXPECT_EQ(ex[0].title, "T");
  EXPECT_EQ(ex[0].context, ctx);
  EXPECT_EQ(ex[0].question, "Where?");
  ASSERT_EQ(ex[0].answers.size(), 2u);
  EXPECT_EQ(ex[0].answers[0].text, "Switzerland");
  EXPECT_EQ(ex[0].answers[0].answer_start, 15);
  EXPECT_FALSE(ex[0].is_impossible);
  EXPECT_TRUE(ex[1].is_impossible);
  EXPECT_TRUE(ex[1].answers.empty());  // plausible_answers are not answers
  // v1.1: no is_impossible field
  json v1 = squad_file("abc def", {{{"id", "x"}, {"question", "q"}, {"answers", {answer("def", 4)}}}});
  write_bytes(d.file("v1.json"), v1.dump());
  auto e1 = read_squad(d.file("v1.json"));
  ASSERT_EQ(e1.size(), 1u);
  EXPECT_FALSE(e1[0].is_impossible);
}

TEST(DataSquad, SubstrCharsCountsCodePoints) {
  EXPECT_EQ(substr_chars("😀 Zürich", 2, 8), "Zürich");
  EXPECT_EQ(substr_chars("😀 Zürich", 0, 1), "😀");
  EXPECT_EQ(substr_chars("abc", 3, 3), "");
  expect_error<ValueError>([] { substr_chars("abc", 2, 4); }, {"[2, 4)", "3 characters"});
  expect_error<ValueError>([] { substr_chars("abc", 2, 1); }, {"start 2 is after end 1"});
}

TEST(DataSquad, AnswerStartMustMatchItsText) {
  ScratchDir d;
  // a byte offset (19) instead of a character offset (15): caught, both strings quoted
  write_bytes(d.file("bytes.json"),
              squad_file("😀 Zürich is in Switzerland.", {question("q7", {answer("Switzerland", 19)})}).dump());
  expect_error<IOError>([&] { read_squad(d.file("bytes.json")); },
                        {d.file("bytes.json"), "question q7", "answers[0]", "runs past"});
  write_bytes(d.file("off.json"), squad_file("In France, mostly.", {question("q8", {answer("France", 2)})}).dump());
  expect_error<IOError>([&] { read_squad(d.file("off.json")); },
                        {"data[0].paragraphs[0].qas[0].answers[0]", "question q8", "answer_start 2",
                         "text 'France'", "reads ' Franc'"});
  write_bytes(d.file("neg.json"), squad_file("abc", {question("q9", {answer("a", -1)})}).dump());
  expect_error<IOError>([&] { read_squad(d.file("neg.json")); }, {"question q9", "answer_start -1"});
}

TEST(DataSquad, MalformedFilesNameTheField) {
  ScratchDir d;
  auto expect_bad = [&](const std::string& text, std::initializer_list<std::string> parts) {
    write_bytes(d.file("bad.json"), text);
    expect_error<IOError>([&] { read_squad(d.file("bad.json")); }, parts);
  };
  expect_bad("{\"data\": [", {d.file("bad.json"), "invalid JSON"});
  expect_bad("[]", {"top level", "expected a JSON object"});
  expect_bad("{\"version\": 1}", {"top level", "missing field 'data'"});
  expect_bad("{\"data\": {}}", {"field 'data' is object, expected array"});
  expect_bad("{\"data\": [7]}", {"data[0]", "expected an object, got number"});
  expect_bad("{\"data\": [{\"paragraphs\": [{\"qas\": []}]}]}", {"data[0].paragraphs[0]", "missing field 'context'"});
  json no_id = squad_file("abc", {{{"question", "q"}, {"answers", json::array()}}});
  expect_bad(no_id.dump(), {"qas[0]", "missing field 'id'"});
  json bad_start = squad_file("abc", {question("q1", {{{"text", "a"}, {"answer_start", "0"}}})});
  expect_bad(bad_start.dump(), {"answers[0]", "field 'answer_start' is string, expected an integer"});
  json frac = squad_file("abc", {question("q1", {{{"text", "a"}, {"answer_start", 0.5}}})});
  expect_bad(frac.dump(), {"answers[0]", "field 'answer_start' is a non-integer number"});
  json imp = squad_file("abc", {question("q2", {answer("a", 0)}, true)});
  expect_bad(imp.dump(), {"question q2 is_impossible but has 1 answer"});
  json flag = squad_file("abc", {question("q3", json::array())});
  flag["data"][0]["paragraphs"][0]["qas"][0]["is_impossible"] = "no";
  expect_bad(flag.dump(), {"field 'is_impossible' is string, expected boolean"});
  expect_bad(std::string(100000, '[') + std::string(100000, ']'), {"deeper than"});
  expect_error<IOError>([&] { read_squad(d.file("missing.json")); }, {"cannot open"});
  expect_error<IOError>([&] { read_squad(d.path); }, {"directory"});
}

TEST(DataSquad, SharedSubsetsCounts) {
  const std::string v2 = kSquad + "/dev-v2.0-first5.json", v1 = kSquad + "/dev-v1.1-style-first5.json";
  if (!std::filesystem::exists(v2) || !std::filesystem::exists(v1))
    GTEST_SKIP() << "shared data not found: " << kSquad;
  auto count = [](const std::vector<SquadExample>& ex, size_t& impossible, size_t& answers) {
    impossible = answers = 0;
    for (const SquadExample& e : ex) {
      impossible += e.is_impossible;
      answers += e.answers.size();
    }
  };
  size_t impossible = 0, answers = 0;
  auto e2 = read_squad(v2);  // SOURCES.md: 1,407 questions, 702 impossible, 2,106 answers
  count(e2, impossible, answers);
  EXPECT_EQ(e2.size(), 1407u);
  EXPECT_EQ(impossible, 702u);
  EXPECT_EQ(answers, 2106u);
  EXPECT_EQ(e2[0].id, "56ddde6b9a695914005b9628");
  EXPECT_EQ(e2[0].title, "Normans");
  EXPECT_EQ(e2[0].answers[0].text, "France");
  EXPECT_EQ(e2[0].answers[0].answer_start, 159);
  auto e1 = read_squad(v1);  // 705 questions, 2,106 answers, none impossible
  count(e1, impossible, answers);
  EXPECT_EQ(e1.size(), 705u);
  EXPECT_EQ(impossible, 0u);
  EXPECT_EQ(answers, 2106u);
}
