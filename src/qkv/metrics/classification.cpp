// Accuracy, per-label P/R/F1 with sklearn's averages, and MCC
// (qkv/metrics/classification.h; sklearn/metrics/_classification.py).
#include "qkv/metrics/classification.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "qkv/core/error.h"

namespace qkv::metrics {
namespace {

void check_pairs(const std::vector<std::string>& gold, const std::vector<std::string>& pred, const char* what) {
  if (gold.size() != pred.size())
    throw ValueError(std::string(what) + ": " + std::to_string(gold.size()) + " gold labels but " +
                     std::to_string(pred.size()) + " predicted labels (the two must be aligned one to one)");
  if (gold.empty()) throw ValueError(std::string(what) + ": no labels to score");
}

// _prf_divide with zero_division = 0.
double divide(double num, double den) { return den == 0 ? 0.0 : num / den; }

LabelScores score_label(const std::string& label, int64_t tp, int64_t predicted, int64_t support) {
  LabelScores s{label, 0, 0, 0, tp, predicted, support};
  s.precision = divide(double(tp), double(predicted));
  s.recall = divide(double(tp), double(support));
  s.f1 = divide(2.0 * double(tp), double(support + predicted));
  return s;
}

}  // namespace

double accuracy(const std::vector<std::string>& gold, const std::vector<std::string>& pred) {
  check_pairs(gold, pred, "accuracy");
  int64_t same = 0;
  for (size_t i = 0; i < gold.size(); ++i) same += gold[i] == pred[i];
  return double(same) / double(gold.size());
}

double matthews_corrcoef(const std::vector<std::string>& gold, const std::vector<std::string>& pred) {
  check_pairs(gold, pred, "matthews_corrcoef");
  std::map<std::string, double> t, p;  // row and column sums of the confusion matrix
  double correct = 0;
  for (size_t i = 0; i < gold.size(); ++i) {
    t[gold[i]] += 1, p[pred[i]] += 1;
    correct += gold[i] == pred[i];
  }
  const double s = double(gold.size());
  double tp_dot = 0, pp = 0, tt = 0;
  for (const auto& [label, n] : t) {
    tt += n * n;
    if (auto it = p.find(label); it != p.end()) tp_dot += n * it->second;
  }
  for (const auto& [label, n] : p) pp += n * n;
  const double cov_ytyp = correct * s - tp_dot, cov_ypyp = s * s - pp, cov_ytyt = s * s - tt;
  if (cov_ypyp * cov_ytyt == 0) return 0.0;
  return cov_ytyp / std::sqrt(cov_ytyt * cov_ypyp);
}

ClassificationReport classification_report(const std::vector<std::string>& gold, const std::vector<std::string>& pred,
                                           const std::vector<std::string>& labels) {
  check_pairs(gold, pred, "classification_report");
  std::vector<std::string> order = labels;
  if (order.empty()) {
    std::set<std::string> all(gold.begin(), gold.end());
    all.insert(pred.begin(), pred.end());
    order.assign(all.begin(), all.end());
  }
  std::map<std::string, size_t> index;
  for (const std::string& l : order)
    if (!index.emplace(l, index.size()).second) throw ValueError("classification_report: label '" + l + "' is listed twice");
  std::vector<int64_t> tp(order.size()), predicted(order.size()), support(order.size());
  for (size_t i = 0; i < gold.size(); ++i) {
    const auto g = index.find(gold[i]), p = index.find(pred[i]);
    if (g != index.end()) ++support[g->second];
    if (p != index.end()) ++predicted[p->second];
    if (g != index.end() && gold[i] == pred[i]) ++tp[g->second];
  }
  ClassificationReport r;
  r.n = int64_t(gold.size());
  for (size_t i = 0; i < gold.size(); ++i) r.correct += gold[i] == pred[i];
  r.accuracy = double(r.correct) / double(r.n);
  r.mcc = matthews_corrcoef(gold, pred);
  int64_t tp_sum = 0, pred_sum = 0, true_sum = 0;
  for (size_t k = 0; k < order.size(); ++k) {
    r.per_label.push_back(score_label(order[k], tp[k], predicted[k], support[k]));
    tp_sum += tp[k], pred_sum += predicted[k], true_sum += support[k];
  }
  const LabelScores micro = score_label("", tp_sum, pred_sum, true_sum);
  r.micro = {micro.precision, micro.recall, micro.f1, true_sum};
  r.macro.support = r.weighted.support = true_sum;
  for (const LabelScores& s : r.per_label) {
    const double w = double(s.support);
    r.macro.precision += s.precision, r.macro.recall += s.recall, r.macro.f1 += s.f1;
    if (true_sum > 0) {
      r.weighted.precision += s.precision * w, r.weighted.recall += s.recall * w, r.weighted.f1 += s.f1 * w;
    }
  }
  if (!r.per_label.empty()) {  // np.average: the sum, then one division
    const double n = double(r.per_label.size());
    r.macro.precision /= n, r.macro.recall /= n, r.macro.f1 /= n;
  }
  if (true_sum > 0) {
    const double w = double(true_sum);
    r.weighted.precision /= w, r.weighted.recall /= w, r.weighted.f1 /= w;
  }
  return r;
}

}  // namespace qkv::metrics
