// Every case of tests/fixtures/metrics/task_cases.json (written by
// make_task_metric_cases.py beside it: scikit-learn's, conlleval's / seqeval's
// and the official SQuAD scripts' definitions in stdlib Python, random inputs
// with fixed seeds) against the library: counts equal, scores within 1e-12.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "qkv/metrics/classification.h"
#include "qkv/metrics/seqeval.h"
#include "qkv/metrics/squad.h"

namespace {

using nlohmann::json;
namespace m = qkv::metrics;
constexpr double kTol = 1e-12;

const json& cases() {
  static const json j = [] {
    std::ifstream f(std::string(QKV_TEST_FIXTURES) + "/metrics/task_cases.json");
    return json::parse(f);
  }();
  return j;
}

template <class A>
void expect_prf(const A& got, const json& want, const std::string& what) {
  EXPECT_NEAR(got.precision, want["precision"].get<double>(), kTol) << what << " precision";
  EXPECT_NEAR(got.recall, want["recall"].get<double>(), kTol) << what << " recall";
  EXPECT_NEAR(got.f1, want["f1"].get<double>(), kTol) << what << " f1";
}

std::vector<m::Entity> entities(const json& list) {
  std::vector<m::Entity> out;
  for (const json& e : list) out.push_back({e[0].get<std::string>(), e[1].get<int64_t>(), e[2].get<int64_t>()});
  return out;
}

}  // namespace

TEST(TaskMetricCases, FileHasEverySection) {
  EXPECT_GE(cases()["classification"].size(), 20u);
  EXPECT_GE(cases()["entities"].size(), 40u);
  EXPECT_GE(cases()["squad_pairs"].size(), 150u);
  EXPECT_GE(cases()["squad_corpora"].size(), 12u);
}

TEST(TaskMetricCases, ClassificationMatchesSklearnDefinitions) {
  for (const json& c : cases()["classification"]) {
    SCOPED_TRACE(c["id"].get<std::string>());
    const auto gold = c["gold"].get<std::vector<std::string>>(), pred = c["pred"].get<std::vector<std::string>>();
    const auto labels = c.contains("labels") ? c["labels"].get<std::vector<std::string>>() : std::vector<std::string>{};
    const m::ClassificationReport r = m::classification_report(gold, pred, labels);
    const json& w = c["want"];
    ASSERT_EQ(r.per_label.size(), w["per_label"].size());
    for (size_t k = 0; k < r.per_label.size(); ++k) {
      const json& wl = w["per_label"][k];
      EXPECT_EQ(r.per_label[k].label, wl["label"].get<std::string>());
      EXPECT_EQ(r.per_label[k].tp, wl["tp"].get<int64_t>());
      EXPECT_EQ(r.per_label[k].predicted, wl["predicted"].get<int64_t>());
      EXPECT_EQ(r.per_label[k].support, wl["support"].get<int64_t>());
      expect_prf(r.per_label[k], wl, "label " + r.per_label[k].label);
    }
    expect_prf(r.micro, w["micro"], "micro");
    expect_prf(r.macro, w["macro"], "macro");
    expect_prf(r.weighted, w["weighted"], "weighted");
    EXPECT_NEAR(r.accuracy, w["accuracy"].get<double>(), kTol);
    EXPECT_NEAR(m::accuracy(gold, pred), w["accuracy"].get<double>(), kTol);
    EXPECT_NEAR(r.mcc, w["mcc"].get<double>(), kTol);
  }
}

TEST(TaskMetricCases, EntitiesMatchConllevalAndSeqeval) {
  for (const json& c : cases()["entities"]) {
    SCOPED_TRACE(c["id"].get<std::string>() + " (" + c["mode"].get<std::string>() + ")");
    const m::SpanMode mode = c["mode"] == "strict" ? m::SpanMode::StrictIob2 : m::SpanMode::Default;
    const auto gold = c["gold"].get<std::vector<std::vector<std::string>>>();
    const auto pred = c["pred"].get<std::vector<std::vector<std::string>>>();
    const json& w = c["want"];
    for (size_t s = 0; s < gold.size(); ++s) {
      EXPECT_EQ(m::extract_entities(gold[s], mode), entities(w["gold_entities"][s])) << "gold sentence " << s;
      EXPECT_EQ(m::extract_entities(pred[s], mode), entities(w["pred_entities"][s])) << "pred sentence " << s;
    }
    const m::EntityReport r = m::entity_scores(gold, pred, mode);
    ASSERT_EQ(r.per_type.size(), w["per_type"].size());
    for (size_t k = 0; k < r.per_type.size(); ++k) {
      const json& wt = w["per_type"][k];
      EXPECT_EQ(r.per_type[k].type, wt["type"].get<std::string>());
      EXPECT_EQ(r.per_type[k].correct, wt["correct"].get<int64_t>());
      EXPECT_EQ(r.per_type[k].predicted, wt["predicted"].get<int64_t>());
      EXPECT_EQ(r.per_type[k].support, wt["support"].get<int64_t>());
      expect_prf(r.per_type[k], wt, "type " + r.per_type[k].type);
    }
    expect_prf(r.micro, w["micro"], "micro");
    expect_prf(r.macro, w["macro"], "macro");
    expect_prf(r.weighted, w["weighted"], "weighted");
    EXPECT_EQ(r.correct, w["correct"].get<int64_t>());
    EXPECT_EQ(r.predicted, w["predicted"].get<int64_t>());
    EXPECT_EQ(r.support, w["support"].get<int64_t>());
    EXPECT_EQ(r.tokens, w["tokens"].get<int64_t>());
    EXPECT_EQ(r.correct_tags, w["correct_tags"].get<int64_t>());
    EXPECT_NEAR(r.token_accuracy, w["token_accuracy"].get<double>(), kTol);
  }
}

TEST(TaskMetricCases, SquadNormalisationExactMatchAndF1) {
  for (const json& c : cases()["squad_pairs"]) {
    const std::string p = c["pred"], g = c["gold"];
    SCOPED_TRACE("pred '" + p + "' gold '" + g + "'");
    EXPECT_EQ(m::squad_normalize(p), c["norm_pred"].get<std::string>());
    EXPECT_EQ(m::squad_normalize(g), c["norm_gold"].get<std::string>());
    EXPECT_EQ(m::squad_exact_match(p, g), c["exact"].get<bool>());
    EXPECT_NEAR(m::squad_f1_v1(p, g), c["f1_v1"].get<double>(), kTol);
    EXPECT_NEAR(m::squad_f1_v2(p, g), c["f1_v2"].get<double>(), kTol);
  }
}

TEST(TaskMetricCases, SquadCorporaMatchTheOfficialScripts) {
  for (const json& c : cases()["squad_corpora"]) {
    SCOPED_TRACE(c["id"].get<std::string>());
    std::vector<m::SquadQuestion> qs;
    for (const json& q : c["questions"]) qs.push_back({q["id"], q["answers"].get<std::vector<std::string>>()});
    const auto preds = c["preds"].get<m::SquadPredictions>();
    const json& w = c["want"];
    if (c["version"] == "1.1") {
      const m::SquadV1Result r = m::squad_v1_evaluate(qs, preds);
      EXPECT_NEAR(r.exact_match, w["exact_match"].get<double>(), kTol);
      EXPECT_NEAR(r.f1, w["f1"].get<double>(), kTol);
      EXPECT_EQ(r.total, w["total"].get<int64_t>());
      EXPECT_EQ(r.missing.size(), qs.size() - preds.size());
      continue;
    }
    m::SquadV2Options o;
    o.na_prob_thresh = c["na_prob_thresh"].get<double>();
    if (c.contains("na_probs")) o.na_probs = c["na_probs"].get<std::vector<std::pair<std::string, double>>>();
    const m::SquadV2Result r = m::squad_v2_evaluate(qs, preds, o);
    auto expect_subset = [&](const m::SquadSubset& s, const json& want, const std::string& what) {
      EXPECT_NEAR(s.exact, want["exact"].get<double>(), kTol) << what;
      EXPECT_NEAR(s.f1, want["f1"].get<double>(), kTol) << what;
      EXPECT_EQ(s.total, want["total"].get<int64_t>()) << what;
    };
    expect_subset(r.all, w, "all");
    ASSERT_EQ(r.has_ans.has_value(), w.contains("HasAns"));
    ASSERT_EQ(r.no_ans.has_value(), w.contains("NoAns"));
    if (r.has_ans) expect_subset(*r.has_ans, w["HasAns"], "HasAns");
    if (r.no_ans) expect_subset(*r.no_ans, w["NoAns"], "NoAns");
    ASSERT_EQ(r.has_best, w.contains("best_exact"));
    if (r.has_best) {
      EXPECT_NEAR(r.best_exact, w["best_exact"].get<double>(), kTol);
      EXPECT_EQ(r.best_exact_thresh, w["best_exact_thresh"].get<double>());
      EXPECT_NEAR(r.best_f1, w["best_f1"].get<double>(), kTol);
      EXPECT_EQ(r.best_f1_thresh, w["best_f1_thresh"].get<double>());
    }
  }
}
