// Parity with the reference implementations: every case of
// ../shared/data/metrics/cases.json (sacreBLEU 2.6.0 and rouge-score 0.1.2
// with NLTK 3.8's Porter stemmer; README.md beside it says how they were
// made). Integer counts must be equal and scores within 1e-9; the 13a and
// ROUGE token lists recorded there are checked too, so a mismatch points at
// the tokenizer or at the arithmetic.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "qkv/metrics/bleu.h"
#include "qkv/metrics/chrf.h"
#include "qkv/metrics/rouge.h"

namespace {

using nlohmann::json;
namespace m = qkv::metrics;

const std::string kCases = std::string(QKV_SHARED_DATA) + "/metrics/cases.json";
constexpr double kTol = 1e-9;

#define REQUIRE_METRICS_DATA()                   \
  if (!std::filesystem::exists(kCases))          \
  GTEST_SKIP() << "shared data not found: " << kCases << " (metric parity tests need it)"

json load_cases() {
  std::ifstream f(kCases);
  return json::parse(f)["cases"];
}

std::vector<std::string> refs_of(const json& c) { return c["refs"].get<std::vector<std::string>>(); }

void expect_bleu(const m::BleuScore& s, const json& want, const std::string& where) {
  SCOPED_TRACE(where);
  EXPECT_EQ(s.counts, want["counts"].get<std::vector<long long>>());
  EXPECT_EQ(s.totals, want["totals"].get<std::vector<long long>>());
  EXPECT_EQ(s.sys_len, want["sys_len"].get<long long>());
  EXPECT_EQ(s.ref_len, want["ref_len"].get<long long>());
  EXPECT_NEAR(s.score, want["score"].get<double>(), kTol);
  EXPECT_NEAR(s.bp, want["bp"].get<double>(), kTol);
  const auto prec = want["precisions"].get<std::vector<double>>();
  ASSERT_EQ(s.precisions.size(), prec.size());
  for (size_t i = 0; i < prec.size(); ++i) EXPECT_NEAR(s.precisions[i], prec[i], kTol) << "order " << i + 1;
}

void expect_rouge(const m::RougeScores& s, const json& want, const std::string& where) {
  SCOPED_TRACE(where);
  const std::pair<const char*, const m::RougePRF*> types[] = {
      {"rouge1", &s.rouge1}, {"rouge2", &s.rouge2}, {"rougeL", &s.rougeL}};
  for (const auto& [name, prf] : types) {
    EXPECT_NEAR(prf->p, want[name]["p"].get<double>(), kTol) << name << " precision";
    EXPECT_NEAR(prf->r, want[name]["r"].get<double>(), kTol) << name << " recall";
    EXPECT_NEAR(prf->f, want[name]["f"].get<double>(), kTol) << name << " F";
  }
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const std::string& t : v) s += (s.empty() ? "" : " ") + t;
  return s;
}

}  // namespace

TEST(MetricParity, EveryFieldOfTheFileIsChecked) {
  // A metric added to cases.json must get a check here, not be skipped silently.
  REQUIRE_METRICS_DATA();
  const std::set<std::string> known = {"id", "tags", "description", "hyp", "refs", "tok13a", "rouge_tokens",
                                       "bleu_corpus", "bleu_sentence", "chrf", "rouge", "rouge_stem",
                                       "rouge_per_ref", "rouge_stem_per_ref"};
  const json cases = load_cases();
  EXPECT_GT(cases.size(), 20u);
  for (const json& c : cases)
    for (const auto& [key, _] : c.items()) EXPECT_TRUE(known.count(key)) << c["id"] << ": unchecked field " << key;
}

TEST(MetricParity, Tokenizer13aMatchesSacreBleu) {
  REQUIRE_METRICS_DATA();
  for (const json& c : load_cases()) {
    const std::string id = c["id"];
    EXPECT_EQ(m::tokenize_13a(c["hyp"].get<std::string>()), c["tok13a"]["hyp"].get<std::string>()) << id;
    const auto refs = refs_of(c);
    for (size_t k = 0; k < refs.size(); ++k)
      EXPECT_EQ(m::tokenize_13a(refs[k]), c["tok13a"]["refs"][k].get<std::string>()) << id << " ref " << k;
  }
}

TEST(MetricParity, CorpusBleuEveryCase) {
  REQUIRE_METRICS_DATA();
  int n = 0;
  for (const json& c : load_cases()) {
    if (!c.contains("bleu_corpus")) continue;
    std::vector<std::vector<std::string>> streams;
    for (const std::string& r : refs_of(c)) streams.push_back({r});
    expect_bleu(m::corpus_bleu({c["hyp"].get<std::string>()}, streams), c["bleu_corpus"], c["id"]);
    ++n;
  }
  EXPECT_GT(n, 20);
}

TEST(MetricParity, SentenceBleuEveryCase) {
  REQUIRE_METRICS_DATA();
  for (const json& c : load_cases())
    if (c.contains("bleu_sentence"))
      expect_bleu(m::sentence_bleu(c["hyp"].get<std::string>(), refs_of(c)), c["bleu_sentence"], c["id"]);
}

TEST(MetricParity, ChrfEveryCase) {
  REQUIRE_METRICS_DATA();
  for (const json& c : load_cases()) {
    if (!c.contains("chrf")) continue;
    std::vector<std::vector<std::string>> streams;
    for (const std::string& r : refs_of(c)) streams.push_back({r});
    EXPECT_NEAR(m::corpus_chrf({c["hyp"].get<std::string>()}, streams).score, c["chrf"].get<double>(), kTol)
        << c["id"];
    EXPECT_NEAR(m::sentence_chrf(c["hyp"].get<std::string>(), refs_of(c)).score, c["chrf"].get<double>(), kTol)
        << c["id"];
  }
}

TEST(MetricParity, RougeTokensMatchRougeScore) {
  REQUIRE_METRICS_DATA();
  for (const json& c : load_cases()) {
    const std::string id = c["id"];
    const json& t = c["rouge_tokens"];
    EXPECT_EQ(joined(m::rouge_tokens(c["hyp"].get<std::string>(), false)), joined(t["hyp"])) << id;
    EXPECT_EQ(joined(m::rouge_tokens(c["hyp"].get<std::string>(), true)), joined(t["hyp_stem"])) << id;
    const auto refs = refs_of(c);
    for (size_t k = 0; k < refs.size(); ++k) {
      EXPECT_EQ(joined(m::rouge_tokens(refs[k], false)), joined(t["refs"][k])) << id << " ref " << k;
      EXPECT_EQ(joined(m::rouge_tokens(refs[k], true)), joined(t["refs_stem"][k])) << id << " ref " << k;
    }
  }
}

TEST(MetricParity, RougeEveryCaseWithAndWithoutStemmer) {
  REQUIRE_METRICS_DATA();
  for (const json& c : load_cases()) {
    const std::string id = c["id"], hyp = c["hyp"];
    const auto refs = refs_of(c);
    if (c.contains("rouge")) expect_rouge(m::rouge(hyp, refs), c["rouge"], id);
    if (c.contains("rouge_stem")) expect_rouge(m::rouge(hyp, refs, {.stem = true}), c["rouge_stem"], id + " (stem)");
    for (const char* key : {"rouge_per_ref", "rouge_stem_per_ref"}) {
      if (!c.contains(key)) continue;
      const bool stem = std::string(key) == "rouge_stem_per_ref";
      for (size_t k = 0; k < refs.size(); ++k)
        expect_rouge(m::rouge_single(hyp, refs[k], {.stem = stem}), c[key][k], id + " " + key + " " + std::to_string(k));
    }
  }
}
