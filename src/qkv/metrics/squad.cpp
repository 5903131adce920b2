// SQuAD v1.1 / v2.0 exact match and F1 (qkv/metrics/squad.h; the official
// evaluate-v1.1.py and evaluate-v2.0.py).
#include "qkv/metrics/squad.h"

#include <algorithm>
#include <map>
#include <set>
#include <string_view>

#include "qkv/core/error.h"
#include "qkv/metrics/text.h"
#include "qkv/tokenizers/unicode.h"
#include "qkv/tokenizers/utf8.h"

namespace qkv::metrics {
namespace {

// Python's string.punctuation.
bool is_ascii_punctuation(char32_t c) {
  return (c >= 0x21 && c <= 0x2F) || (c >= 0x3A && c <= 0x40) || (c >= 0x5B && c <= 0x60) || (c >= 0x7B && c <= 0x7E);
}

// \w of Python's re on str: str.isalnum() (categories L* and N*) or '_'.
bool is_py_word(char32_t c) { return c == U'_' || tokenizers::is_letter(c) || tokenizers::is_number(c); }

bool is_article(std::u32string_view w) { return w == U"a" || w == U"an" || w == U"the"; }

// Steps 2 and 3 of normalize_answer on code points.
std::u32string remove_punctuation_and_articles(const std::u32string& lower) {
  std::u32string text;
  for (char32_t c : lower)
    if (!is_ascii_punctuation(c)) text.push_back(c);
  std::u32string out;
  for (size_t i = 0; i < text.size();) {
    if (!is_py_word(text[i])) {
      out.push_back(text[i++]);
      continue;
    }
    size_t j = i;
    while (j < text.size() && is_py_word(text[j])) ++j;
    const std::u32string_view word(text.data() + i, j - i);
    if (is_article(word))
      out.push_back(U' ');
    else
      out.append(word);
    i = j;
  }
  return out;
}

std::vector<std::string> tokens(std::string_view text) { return py_split(squad_normalize(text)); }

// Counter(a) & Counter(b), summed.
int64_t common_count(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  std::map<std::string_view, int64_t> count;
  for (const std::string& t : a) ++count[t];
  int64_t same = 0;
  for (const std::string& t : b)
    if (auto it = count.find(t); it != count.end() && it->second > 0) --it->second, ++same;
  return same;
}

double token_f1(const std::vector<std::string>& pred, const std::vector<std::string>& gold) {
  const int64_t same = common_count(pred, gold);
  if (same == 0) return 0.0;
  const double precision = double(same) / double(pred.size()), recall = double(same) / double(gold.size());
  return 2 * precision * recall / (precision + recall);
}

void check_unique_ids(const std::vector<SquadQuestion>& questions, const char* fn) {
  std::set<std::string_view> seen;
  for (const SquadQuestion& q : questions)
    if (!seen.insert(q.id).second) throw ValueError(std::string(fn) + ": question id '" + q.id + "' appears twice");
}

SquadSubset subset(const std::vector<double>& exact, const std::vector<double>& f1, const std::vector<size_t>& idx) {
  SquadSubset s;
  s.total = int64_t(idx.size());
  for (size_t i : idx) s.exact += exact[i], s.f1 += f1[i];
  s.exact = 100.0 * s.exact / double(s.total);
  s.f1 = 100.0 * s.f1 / double(s.total);
  return s;
}

// find_best_thresh: returns (100·best / n, threshold).
std::pair<double, double> best_threshold(const std::vector<SquadQuestion>& qs, const SquadPredictions& preds,
                                         const std::vector<double>& raw,
                                         const std::vector<std::pair<std::string, double>>& sorted_probs,
                                         const std::map<std::string_view, size_t>& index) {
  double cur = 0;
  for (const SquadQuestion& q : qs) cur += q.answers.empty();
  double best = cur, thresh = 0.0;
  for (const auto& [id, prob] : sorted_probs) {
    const auto it = index.find(id);
    if (it == index.end()) continue;  // not a question of the data set
    const SquadQuestion& q = qs[it->second];
    double diff = 0;
    if (!q.answers.empty())
      diff = raw[it->second];
    else if (!preds.at(q.id).empty())
      diff = -1;
    cur += diff;
    if (cur > best) best = cur, thresh = prob;
  }
  return {100.0 * best / double(qs.size()), thresh};
}

}  // namespace

std::string squad_normalize(std::string_view text) {
  const std::u32string kept = remove_punctuation_and_articles(to_code_points(py_lower(text)));
  std::string utf8;
  for (char32_t c : kept) tokenizers::append_utf8(utf8, c);
  std::string out;
  for (const std::string& w : py_split(utf8)) out += (out.empty() ? "" : " ") + w;
  return out;
}

bool squad_exact_match(std::string_view prediction, std::string_view gold) {
  return squad_normalize(prediction) == squad_normalize(gold);
}

double squad_f1_v1(std::string_view prediction, std::string_view gold) { return token_f1(tokens(prediction), tokens(gold)); }

double squad_f1_v2(std::string_view prediction, std::string_view gold) {
  const std::vector<std::string> p = tokens(prediction), g = tokens(gold);
  if (p.empty() || g.empty()) return p == g ? 1.0 : 0.0;
  return token_f1(p, g);
}

SquadV1Result squad_v1_evaluate(const std::vector<SquadQuestion>& questions, const SquadPredictions& preds) {
  check_unique_ids(questions, "squad_v1_evaluate");
  SquadV1Result r;
  for (const SquadQuestion& q : questions) {
    if (q.answers.empty())
      throw ValueError("squad_v1_evaluate: question '" + q.id +
                       "' has no gold answer (SQuAD v1.1 needs one; unanswerable questions need v2.0)");
    ++r.total;
    const auto it = preds.find(q.id);
    if (it == preds.end()) {
      r.missing.push_back(q.id);
      continue;
    }
    double em = 0, f1 = 0;
    for (const std::string& g : q.answers) {
      em = std::max(em, squad_exact_match(it->second, g) ? 1.0 : 0.0);
      f1 = std::max(f1, squad_f1_v1(it->second, g));
    }
    r.exact_match += em, r.f1 += f1;
  }
  if (r.total > 0) r.exact_match = 100.0 * r.exact_match / double(r.total), r.f1 = 100.0 * r.f1 / double(r.total);
  return r;
}

SquadV2Result squad_v2_evaluate(const std::vector<SquadQuestion>& questions, const SquadPredictions& preds,
                                const SquadV2Options& opts) {
  check_unique_ids(questions, "squad_v2_evaluate");
  if (questions.empty()) throw ValueError("squad_v2_evaluate: no questions");
  std::map<std::string_view, double> probs;
  if (opts.na_probs)
    for (const auto& [id, p] : *opts.na_probs)
      if (!probs.emplace(id, p).second) throw ValueError("squad_v2_evaluate: no-answer probability for '" + id + "' given twice");
  std::vector<double> exact_raw, f1_raw, exact, f1;
  std::vector<size_t> has_ans, no_ans;
  std::map<std::string_view, size_t> index;
  for (size_t i = 0; i < questions.size(); ++i) {
    const SquadQuestion& q = questions[i];
    index.emplace(q.id, i);
    const auto it = preds.find(q.id);
    if (it == preds.end())
      throw ValueError("squad_v2_evaluate: no prediction for question '" + q.id + "' (SQuAD 2.0 needs one per question; \"\" = no answer)");
    std::vector<std::string> golds;
    for (const std::string& a : q.answers)
      if (!squad_normalize(a).empty()) golds.push_back(a);
    if (golds.empty()) golds.push_back("");
    double em = 0, f = 0;
    for (const std::string& g : golds) {
      em = std::max(em, squad_exact_match(it->second, g) ? 1.0 : 0.0);
      f = std::max(f, squad_f1_v2(it->second, g));
    }
    exact_raw.push_back(em), f1_raw.push_back(f);
    // apply_no_ans_threshold (probability 0.0 for every question without a file)
    double prob = 0.0;
    if (opts.na_probs) {
      const auto p = probs.find(q.id);
      if (p == probs.end()) throw ValueError("squad_v2_evaluate: no no-answer probability for question '" + q.id + "'");
      prob = p->second;
    }
    const bool pred_na = prob > opts.na_prob_thresh;
    exact.push_back(pred_na ? double(q.answers.empty()) : em);
    f1.push_back(pred_na ? double(q.answers.empty()) : f);
    (q.answers.empty() ? no_ans : has_ans).push_back(i);
  }
  SquadV2Result r;
  std::vector<size_t> all(questions.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = i;
  r.all = subset(exact, f1, all);
  if (!has_ans.empty()) r.has_ans = subset(exact, f1, has_ans);
  if (!no_ans.empty()) r.no_ans = subset(exact, f1, no_ans);
  if (opts.na_probs) {
    std::vector<std::pair<std::string, double>> sorted = *opts.na_probs;
    std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
    r.has_best = true;
    std::tie(r.best_exact, r.best_exact_thresh) = best_threshold(questions, preds, exact_raw, sorted, index);
    std::tie(r.best_f1, r.best_f1_thresh) = best_threshold(questions, preds, f1_raw, sorted, index);
  }
  return r;
}

}  // namespace qkv::metrics
