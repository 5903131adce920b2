// `qkv eval ner` and `qkv eval qa` on the shared data sets (../shared/data;
// skipped with a message when absent): CoNLL-2003 test against itself and
// against a copy perturbed in ways whose effect is counted here, line by line,
// without the library; the SQuAD 2.0 subset with gold and with empty answers.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "support/shell.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const std::string kConll = std::string(QKV_SHARED_DATA) + "/conll2003/test.txt";
const std::string kSquad2 = std::string(QKV_SHARED_DATA) + "/squad/dev-v2.0-first5.json";
const std::string kSquad1 = std::string(QKV_SHARED_DATA) + "/squad/dev-v1.1-style-first5.json";

#define REQUIRE_SHARED(path) \
  if (!fs::exists(path)) GTEST_SKIP() << "shared data not found: " << (path) << " (these eval tests need it)"

struct TempDir {
  fs::path dir = fs::temp_directory_path() / ("qkv_eval_shared_" + std::to_string(::getpid()));
  TempDir() { fs::create_directories(dir); }
  ~TempDir() { fs::remove_all(dir); }
};

json eval_json(const std::string& args) {
  // stdout only (the v1.1 run warns on stderr about the unanswerable questions' extra predictions)
  const qkv::testing::ShellRun r =
      qkv::testing::shell("{ " + std::string(QKV_CLI_PATH) + " eval " + args + " --json 2>/dev/null; }");
  EXPECT_EQ(r.code, 0) << r.out;
  return r.code == 0 ? json::parse(r.out) : json::object();
}

std::vector<std::string> split_spaces(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// The perturbed copy and what it must score, counted while writing it.
struct Perturbed {
  std::map<std::string, long long> support, from, to, merged;  // per type
  long long tokens = 0, changed_tags = 0, retyped = 0, demoted = 0;
};

// Entity k (counted by its B- tag): k % 10 == 0 gets another type (B- and its
// I- tags); k % 10 == 5, when after O or at a sentence start, starts with I-
// instead of B- (the same entity for conlleval, no entity in strict IOB2).
Perturbed write_perturbed(const std::string& out_path) {
  static const std::map<std::string, std::string> next = {{"PER", "LOC"}, {"LOC", "ORG"}, {"ORG", "MISC"}, {"MISC", "PER"}};
  std::ifstream in(kConll);
  std::ofstream out(out_path);
  Perturbed p;
  long long k = -1;
  std::string prev = "O", retype_to;
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> cols = split_spaces(line);
    if (cols.empty()) {
      out << "\n";
      prev = "O";
      retype_to.clear();
      continue;
    }
    std::string& tag = cols.back();
    const std::string orig = tag;
    ++p.tokens;
    if (tag.rfind("B-", 0) == 0) {
      ++k;
      const std::string type = tag.substr(2);
      ++p.support[type];
      retype_to.clear();
      if (k % 10 == 0) {
        retype_to = next.at(type);
        ++p.from[type], ++p.to[retype_to], ++p.retyped;
        tag = "B-" + retype_to;
      } else if (k % 10 == 5 && prev == "O") {
        ++p.merged[type], ++p.demoted;
        tag = "I-" + type;
      }
    } else if (tag.rfind("I-", 0) == 0 && !retype_to.empty()) {
      tag = "I-" + retype_to;
    } else if (tag == "O") {
      retype_to.clear();
    }
    p.changed_tags += tag != orig;
    prev = orig;
    for (size_t c = 0; c < cols.size(); ++c) out << (c ? " " : "") << cols[c];
    out << "\n";
  }
  return p;
}

}  // namespace

TEST(EvalShared, Conll2003TestAgainstItselfScores100) {
  REQUIRE_SHARED(kConll);
  const json j = eval_json("ner --pred " + kConll + " --gold " + kConll);
  EXPECT_EQ(j["tokens"], 46435);  // the standard CoNLL-2003 English test split (SOURCES.md)
  EXPECT_EQ(j["gold_entities"], 5648);
  EXPECT_EQ(j["correct_entities"], 5648);
  EXPECT_EQ(j["micro"]["f1"], 1.0);
  EXPECT_EQ(j["token_accuracy"], 1.0);
  const std::map<std::string, long long> published = {{"LOC", 1668}, {"MISC", 702}, {"ORG", 1661}, {"PER", 1617}};
  ASSERT_EQ(j["types"].size(), 4u);
  for (const json& t : j["types"]) EXPECT_EQ(t["support"].get<long long>(), published.at(t["type"])) << t["type"];
  const json strict = eval_json("ner --mode strict --pred " + kConll + " --gold " + kConll);
  EXPECT_EQ(strict["gold_entities"], 5648);  // IOB2 data: the strict spans are the same
  EXPECT_EQ(strict["micro"]["f1"], 1.0);
}

TEST(EvalShared, Conll2003PerturbedCopy) {
  REQUIRE_SHARED(kConll);
  TempDir tmp;
  const std::string pred = (tmp.dir / "perturbed.txt").string();
  const Perturbed p = write_perturbed(pred);
  ASSERT_GT(p.retyped, 500);
  ASSERT_GT(p.demoted, 300);
  for (const char* mode : {"default", "strict"}) {
    SCOPED_TRACE(mode);
    const bool strict = std::string(mode) == "strict";
    const json j = eval_json("ner --mode " + std::string(mode) + " --pred " + pred + " --gold " + kConll);
    EXPECT_EQ(j["tokens"], p.tokens);
    EXPECT_DOUBLE_EQ(j["token_accuracy"].get<double>(), double(p.tokens - p.changed_tags) / double(p.tokens));
    const long long lost = strict ? p.demoted : 0;  // entities opened by I- are no entities in strict IOB2
    EXPECT_EQ(j["gold_entities"], 5648);
    EXPECT_EQ(j["predicted_entities"], 5648 - lost);
    EXPECT_EQ(j["correct_entities"], 5648 - p.retyped - lost);
    for (const json& t : j["types"]) {
      const std::string type = t["type"];
      const long long merged = strict ? (p.merged.count(type) ? p.merged.at(type) : 0) : 0;
      const long long from = p.from.count(type) ? p.from.at(type) : 0, to = p.to.count(type) ? p.to.at(type) : 0;
      EXPECT_EQ(t["support"], p.support.at(type)) << type;
      EXPECT_EQ(t["predicted"], p.support.at(type) - from + to - merged) << type;
      EXPECT_EQ(t["correct"], p.support.at(type) - from - merged) << type;
    }
  }
}

TEST(EvalShared, SquadSubsetWithGoldAndWithEmptyAnswers) {
  REQUIRE_SHARED(kSquad2);
  REQUIRE_SHARED(kSquad1);
  std::ifstream in(kSquad2);
  const json gold = json::parse(in);
  json first = json::object(), empty = json::object();
  long long answerable = 0, impossible = 0;
  for (const json& article : gold["data"])
    for (const json& para : article["paragraphs"])
      for (const json& qa : para["qas"]) {
        const bool has = !qa["answers"].empty();
        first[qa["id"].get<std::string>()] = has ? qa["answers"][0]["text"].get<std::string>() : "";
        empty[qa["id"].get<std::string>()] = "";
        (has ? answerable : impossible) += 1;
      }
  EXPECT_EQ(answerable, 705);  // SOURCES.md
  EXPECT_EQ(impossible, 702);
  TempDir tmp;
  const std::string first_path = (tmp.dir / "first.json").string(), empty_path = (tmp.dir / "empty.json").string();
  std::ofstream(first_path) << first.dump();
  std::ofstream(empty_path) << empty.dump();
  const json g = eval_json("qa --pred " + first_path + " --gold " + kSquad2);
  EXPECT_EQ(g["exact"], 100.0);
  EXPECT_EQ(g["f1"], 100.0);
  EXPECT_EQ(g["total"], 1407);
  const json e = eval_json("qa --pred " + empty_path + " --gold " + kSquad2);
  EXPECT_DOUBLE_EQ(e["exact"].get<double>(), 100.0 * 702 / 1407);
  EXPECT_EQ(e["HasAns_exact"], 0.0);
  EXPECT_EQ(e["NoAns_f1"], 100.0);
  const json v1 = eval_json("qa --pred " + first_path + " --gold " + kSquad1);
  EXPECT_EQ(v1["exact_match"], 100.0);
  EXPECT_EQ(v1["f1"], 100.0);
  EXPECT_EQ(v1["total"], 705);
}
