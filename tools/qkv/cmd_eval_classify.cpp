// `qkv eval classify --pred P --gold G`: accuracy, per-label precision /
// recall / F1 and their averages as scikit-learn's classification_report,
// and MCC (metrics/classification.h).
#include <algorithm>
#include <cstdio>
#include <set>

#include "commands.h"
#include "eval_files.h"
#include "qkv/core/error.h"
#include "qkv/metrics/classification.h"

namespace qkv::cli {
namespace {

struct Args {
  std::string pred, gold, column = "label";
  std::vector<std::string> labels;
  bool json = false;
};

// sklearn's classification_report layout, 4 digits.
std::string report_text(const metrics::ClassificationReport& r, bool micro_is_accuracy) {
  size_t width = 12;  // "weighted avg"
  for (const auto& s : r.per_label) width = std::max(width, s.label.size());
  std::string out;
  char buf[128];
  auto row = [&](const std::string& name, double p, double rc, double f, long long n) {
    out += std::string(width - std::min(width, name.size()), ' ') + name;
    std::snprintf(buf, sizeof buf, "  %9.4f %9.4f %9.4f %9lld\n", p, rc, f, n);
    out += buf;
  };
  out += std::string(width, ' ');
  std::snprintf(buf, sizeof buf, "  %9s %9s %9s %9s\n\n", "precision", "recall", "f1-score", "support");
  out += buf;
  for (const auto& s : r.per_label) row(s.label, s.precision, s.recall, s.f1, s.support);
  out += "\n";
  if (micro_is_accuracy) {
    out += std::string(width - 8, ' ') + "accuracy";
    std::snprintf(buf, sizeof buf, "  %9s %9s %9.4f %9lld\n", "", "", r.accuracy, (long long)r.n);
    out += buf;
  } else {
    row("micro avg", r.micro.precision, r.micro.recall, r.micro.f1, r.micro.support);
  }
  row("macro avg", r.macro.precision, r.macro.recall, r.macro.f1, r.macro.support);
  row("weighted avg", r.weighted.precision, r.weighted.recall, r.weighted.f1, r.weighted.support);
  std::snprintf(buf, sizeof buf, "\naccuracy = %.4f (%lld of %lld)\nmcc = %.4f\n", r.accuracy, (long long)r.correct,
                (long long)r.n, r.mcc);
  return out + buf;
}

nlohmann::ordered_json report_json(const metrics::ClassificationReport& r) {
  nlohmann::ordered_json j;
  j["accuracy"] = r.accuracy;
  j["mcc"] = r.mcc;
  j["correct"] = r.correct;
  j["n"] = r.n;
  auto avg = [](const metrics::AverageScores& a) {
    return nlohmann::ordered_json{{"precision", a.precision}, {"recall", a.recall}, {"f1", a.f1}, {"support", a.support}};
  };
  j["micro"] = avg(r.micro);
  j["macro"] = avg(r.macro);
  j["weighted"] = avg(r.weighted);
  j["labels"] = nlohmann::ordered_json::array();
  for (const auto& s : r.per_label)
    j["labels"].push_back({{"label", s.label}, {"precision", s.precision}, {"recall", s.recall}, {"f1", s.f1},
                           {"support", s.support}, {"predicted", s.predicted}, {"tp", s.tp}});
  return j;
}

void run(const Args& a) {
  const Labels gold = read_label_column(a.gold, a.column);
  const Labels pred = read_labels(a.pred, a.column);
  if (gold.values.size() != pred.values.size())
    throw ValueError(a.pred + " has " + std::to_string(pred.values.size()) + " labels but " + a.gold + " has " +
                     std::to_string(gold.values.size()) + " (column '" + a.column +
                     "'): predictions and gold must be aligned one to one");
  if (gold.values.empty()) throw ValueError(a.gold + ": no rows to score");
  const metrics::ClassificationReport r = metrics::classification_report(gold.values, pred.values, a.labels);
  // sklearn prints an "accuracy" row for the micro average when the report covers every label seen.
  std::set<std::string> seen(gold.values.begin(), gold.values.end()), listed(a.labels.begin(), a.labels.end());
  seen.insert(pred.values.begin(), pred.values.end());
  const bool micro_is_accuracy =
      a.labels.empty() || std::includes(listed.begin(), listed.end(), seen.begin(), seen.end());
  const std::string text = a.json ? report_json(r).dump(1) + "\n" : report_text(r, micro_is_accuracy);
  std::fwrite(text.data(), 1, text.size(), stdout);
}

void add_eval_classify_command(CLI::App& eval) {
  static Args a;
  auto* c = eval.add_subcommand("classify", "Accuracy, per-label P/R/F1 (micro/macro/weighted as scikit-learn), MCC");
  c->add_option("--pred", a.pred, "Predictions: one label per line, or a TSV with a header holding --label-column")
      ->required();
  c->add_option("--gold", a.gold, "Gold TSV with a header row (GLUE style)")->required();
  c->add_option("--label-column", a.column, "Name of the label column")->capture_default_str();
  c->add_option("--labels", a.labels, "Report only these labels, in this order (sklearn's labels=)")
      ->delimiter(',')
      ->default_str("all, sorted");
  c->add_flag("--json", a.json, "Print JSON instead of the table");
  c->callback([] { run(a); });
}

}  // namespace

QKV_REGISTER_SUBCOMMAND("eval", "classify", 10, add_eval_classify_command);

}  // namespace qkv::cli
