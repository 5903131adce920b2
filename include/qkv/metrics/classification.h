// qkv/metrics/classification.h — accuracy, per-class precision / recall / F1
// and their micro, macro and weighted averages exactly as scikit-learn's
// precision_recall_fscore_support and classification_report define them
// (sklearn/metrics/_classification.py), with zero_division = 0; plus
// Matthews' correlation coefficient (sklearn's matthews_corrcoef).
//
// Labels are strings (callers map integer classes to strings). For each label
// L: tp = pairs with gold = pred = L, predicted = pairs with pred = L,
// support = pairs with gold = L;
//   precision = tp / predicted, recall = tp / support (0 when the denominator is 0),
//   F1 = 2·tp / (support + predicted) (0 when that is 0) — sklearn ≥ 1.3's form,
//   equal to 2PR/(P+R).
// Averages over the labels in the report:
//   micro    — the same formulas on the summed tp, predicted, support (for the
//              full label set of single-label data, all three equal accuracy);
//   macro    — the unweighted mean of the per-label values (a label never
//              predicted contributes precision 0, and so pulls the mean down);
//   weighted — the mean weighted by support (0 when the supports sum to 0).
// The labels are the sorted union of gold and predicted labels (byte order of
// UTF-8, which is code-point order, as numpy sorts strings), or a given list:
// then only those labels are reported and micro-averaged, a listed label absent
// from both sides scores 0, and accuracy and MCC still count every pair.
//
//   auto r = qkv::metrics::classification_report(gold, pred);
//   r.macro.f1; r.per_class[0].label; r.accuracy;
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace qkv::metrics {

struct LabelScores {
  std::string label;
  double precision = 0, recall = 0, f1 = 0;
  int64_t tp = 0, predicted = 0, support = 0;
};

struct AverageScores {
  double precision = 0, recall = 0, f1 = 0;
  int64_t support = 0;  // the summed support of the reported labels
};

struct ClassificationReport {
  std::vector<LabelScores> per_label;  // in label order
  AverageScores micro, macro, weighted;
  double accuracy = 0;  // over every pair
  double mcc = 0;       // over every pair and label
  int64_t correct = 0;  // pairs with gold == pred
  int64_t n = 0;        // number of pairs
};

// Fraction of positions where gold[i] == pred[i]. ValueError when the lengths
// differ (naming both) or there is nothing to score.
double accuracy(const std::vector<std::string>& gold, const std::vector<std::string>& pred);

// sklearn.metrics.matthews_corrcoef for multiclass labels: with C the
// confusion matrix, t/p its row/column sums, c = trace, s = total,
// (c·s − t·p) / sqrt((s² − p·p)(s² − t·t)), and 0 when the denominator is 0.
double matthews_corrcoef(const std::vector<std::string>& gold, const std::vector<std::string>& pred);

// Everything above. `labels` (optional) must not repeat a label.
ClassificationReport classification_report(const std::vector<std::string>& gold, const std::vector<std::string>& pred,
                                           const std::vector<std::string>& labels = {});

}  // namespace qkv::metrics
