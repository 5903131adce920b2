// ROUGE-1/2/L as rouge-score 0.1.2 (qkv/metrics/rouge.h;
// rouge_score/rouge_scorer.py, tokenize.py, scoring.py).
#include <map>
#include <string>
#include <vector>

#include "qkv/core/error.h"
#include "qkv/metrics/rouge.h"
#include "qkv/metrics/text.h"

namespace qkv::metrics {
namespace {

bool is_token_char(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// scoring.fmeasure
double fmeasure(double p, double r) { return p + r > 0 ? 2 * p * r / (p + r) : 0.0; }

// _score_ngrams: target n-grams drive the clipped intersection.
RougePRF score_ngrams(const std::vector<std::string>& target, const std::vector<std::string>& pred, size_t n) {
  auto grams = [n](const std::vector<std::string>& toks) {
    std::map<std::vector<std::string>, long long> c;
    for (size_t i = 0; i + n <= toks.size(); ++i) ++c[std::vector<std::string>(toks.begin() + i, toks.begin() + i + n)];
    return c;
  };
  const auto t = grams(target), p = grams(pred);
  long long inter = 0, t_total = 0, p_total = 0;
  for (const auto& [g, c] : t) {
    t_total += c;
    if (auto it = p.find(g); it != p.end()) inter += std::min(c, it->second);
  }
  for (const auto& [g, c] : p) p_total += c;
  RougePRF s;
  s.p = double(inter) / double(std::max<long long>(p_total, 1));
  s.r = double(inter) / double(std::max<long long>(t_total, 1));
  s.f = fmeasure(s.p, s.r);
  return s;
}

// _score_lcs: LCS length by the usual dynamic programme (one row at a time).
RougePRF score_lcs(const std::vector<std::string>& target, const std::vector<std::string>& pred) {
  if (target.empty() || pred.empty()) return {};
  std::vector<long long> prev(pred.size() + 1, 0), cur(pred.size() + 1, 0);
  for (size_t i = 1; i <= target.size(); ++i) {
    for (size_t j = 1; j <= pred.size(); ++j)
      cur[j] = target[i - 1] == pred[j - 1] ? prev[j - 1] + 1 : std::max(prev[j], cur[j - 1]);
    std::swap(prev, cur);
  }
  const double lcs = double(prev[pred.size()]);
  RougePRF s;
  s.p = lcs / double(pred.size());
  s.r = lcs / double(target.size());
  s.f = fmeasure(s.p, s.r);
  return s;
}

}  // namespace

std::vector<std::string> rouge_tokens(std::string_view text, bool stem) {
  // lower(), then [^a-z0-9]+ → " ", then split; lowercasing can only create
  // ASCII letters (U+0130 → "i" + U+0307, U+212A → "k"), so test after it.
  const std::string lower = py_lower(text);
  std::vector<std::string> out;
  std::string cur;
  for (char c : lower) {
    if (is_token_char(c)) {
      cur += c;
    } else if (!cur.empty()) {
      out.push_back(std::move(cur));
      cur.clear();
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  if (stem)
    for (std::string& t : out)
      if (t.size() > 3) t = porter_stem(t);  // only words longer than 3 characters
  return out;
}

RougeScores rouge_single(std::string_view prediction, std::string_view target, const RougeOptions& opts) {
  const std::vector<std::string> t = rouge_tokens(target, opts.stem), p = rouge_tokens(prediction, opts.stem);
  return {score_ngrams(t, p, 1), score_ngrams(t, p, 2), score_lcs(t, p)};
}

RougeScores rouge(std::string_view prediction, const std::vector<std::string>& targets, const RougeOptions& opts) {
  if (targets.empty()) throw ValueError("rouge: no reference for the prediction");
  RougeScores best;
  for (size_t k = 0; k < targets.size(); ++k) {
    const RougeScores s = rouge_single(prediction, targets[k], opts);
    // np.argmax over F: the first reference with the highest F, per ROUGE type.
    if (k == 0 || s.rouge1.f > best.rouge1.f) best.rouge1 = s.rouge1;
    if (k == 0 || s.rouge2.f > best.rouge2.f) best.rouge2 = s.rouge2;
    if (k == 0 || s.rougeL.f > best.rougeL.f) best.rougeL = s.rougeL;
  }
  return best;
}

RougeScores corpus_rouge(const std::vector<std::string>& hyps, const std::vector<std::vector<std::string>>& refs,
                         const RougeOptions& opts) {
  if (refs.empty()) throw ValueError("rouge: no reference streams");
  for (size_t k = 0; k < refs.size(); ++k)
    if (refs[k].size() != hyps.size())
      throw ValueError("rouge: the hypotheses have " + std::to_string(hyps.size()) + " lines but reference stream " +
                       std::to_string(k + 1) + " has " + std::to_string(refs[k].size()));
  RougeScores sum;
  std::vector<std::string> seg_refs(refs.size());
  auto add = [](RougePRF& a, const RougePRF& b) { a.p += b.p, a.r += b.r, a.f += b.f; };
  for (size_t i = 0; i < hyps.size(); ++i) {
    for (size_t k = 0; k < refs.size(); ++k) seg_refs[k] = refs[k][i];
    const RougeScores s = rouge(hyps[i], seg_refs, opts);
    add(sum.rouge1, s.rouge1), add(sum.rouge2, s.rouge2), add(sum.rougeL, s.rougeL);
  }
  if (hyps.empty()) return sum;
  const double n = double(hyps.size());
  for (RougePRF* x : {&sum.rouge1, &sum.rouge2, &sum.rougeL}) x->p /= n, x->r /= n, x->f /= n;
  return sum;
}

}  // namespace qkv::metrics
