// Start/end logits → answers (qkv/data/qa.h, second half; Hugging Face's
// utils_qa.postprocess_qa_predictions).
#include <algorithm>
#include <cmath>
#include <numeric>

#include "qkv/core/error.h"
#include "qkv/data/qa.h"

namespace qkv::data {
namespace {

// The n highest positions of v, best first; equal values: the later position
// first (numpy's argsort(kind="stable")[::-1]).
std::vector<size_t> top_n(const std::vector<float>& v, size_t n) {
  std::vector<size_t> idx(v.size());
  std::iota(idx.begin(), idx.end(), size_t(0));
  std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return v[a] > v[b] || (v[a] == v[b] && a > b); });
  if (idx.size() > n) idx.resize(n);
  return idx;
}

struct Candidate {
  QaCandidate c;
  bool is_null = false;
};

// Every allowed (start, end) pair of one feature (window).
void add_spans(const QaFeature& f, const std::vector<float>& start, const std::vector<float>& end,
               const QaPostprocessOptions& opt, std::vector<Candidate>& out) {
  const auto& off = f.offsets;
  for (size_t s : top_n(start, opt.n_best_size))
    for (size_t e : top_n(end, opt.n_best_size)) {
      if (s >= off.size() || e >= off.size() || !off[s] || !off[e]) continue;  // not context
      if (e < s || e - s + 1 > opt.max_answer_length) continue;
      Candidate c;
      c.c.char_start = off[s]->first;
      c.c.char_end = off[e]->second;
      c.c.start_logit = start[s];
      c.c.end_logit = end[e];
      c.c.score = start[s] + end[e];
      out.push_back(c);
    }
}

void check_sizes(const std::vector<SquadExample>& examples, const std::vector<QaFeature>& features,
                 const std::vector<std::vector<float>>& start, const std::vector<std::vector<float>>& end) {
  const std::string who = "postprocess_qa_predictions: ";
  if (start.size() != features.size() || end.size() != features.size())
    throw ValueError(who + std::to_string(features.size()) + " features but " + std::to_string(start.size()) +
                     " rows of start logits and " + std::to_string(end.size()) + " of end logits");
  for (size_t f = 0; f < features.size(); ++f) {
    if (features[f].example_index >= examples.size())
      throw ValueError(who + "feature " + std::to_string(f) + " belongs to example " +
                       std::to_string(features[f].example_index) + " of " + std::to_string(examples.size()));
    if (start[f].size() < features[f].offsets.size() || end[f].size() < features[f].offsets.size())
      throw ValueError(who + "feature " + std::to_string(f) + " has " + std::to_string(features[f].offsets.size()) +
                       " tokens but " + std::to_string(start[f].size()) + " start and " +
                       std::to_string(end[f].size()) + " end logits");
  }
}

// Softmax of the scores (max subtracted) as each candidate's probability.
void set_probabilities(std::vector<Candidate>& preds) {
  float top = preds[0].c.score;
  for (const Candidate& p : preds) top = std::max(top, p.c.score);
  double sum = 0;
  for (Candidate& p : preds) sum += p.c.probability = std::exp(double(p.c.score) - double(top));
  for (Candidate& p : preds) p.c.probability /= sum;
}

}  // namespace

std::vector<QaPrediction> postprocess_qa_predictions(const std::vector<SquadExample>& examples,
                                                     const std::vector<QaFeature>& features,
                                                     const std::vector<std::vector<float>>& start_logits,
                                                     const std::vector<std::vector<float>>& end_logits,
                                                     const QaPostprocessOptions& opt) {
  check_sizes(examples, features, start_logits, end_logits);
  std::vector<std::vector<size_t>> features_of(examples.size());
  for (size_t f = 0; f < features.size(); ++f) features_of[features[f].example_index].push_back(f);
  std::vector<QaPrediction> out;
  for (size_t k = 0; k < examples.size(); ++k) {
    const SquadExample& ex = examples[k];
    if (features_of[k].empty())
      throw ValueError("postprocess_qa_predictions: example " + std::to_string(k) + " (id " + ex.id +
                       ") has no feature");
    std::vector<Candidate> prelim;
    std::optional<Candidate> null;  // the smallest null score over the windows
    for (size_t f : features_of[k]) {
      const auto &st = start_logits[f], &en = end_logits[f];
      if (!null || null->c.score > st[0] + en[0]) {
        null = Candidate{};
        null->is_null = true;
        null->c.start_logit = st[0];
        null->c.end_logit = en[0];
        null->c.score = st[0] + en[0];
      }
      add_spans(features[f], st, en, opt, prelim);
    }
    if (opt.version_2_with_negative) prelim.push_back(*null);
    std::stable_sort(prelim.begin(), prelim.end(), [](const Candidate& a, const Candidate& b) { return a.c.score > b.c.score; });
    if (prelim.size() > opt.n_best_size) prelim.resize(opt.n_best_size);
    std::vector<Candidate> preds = std::move(prelim);
    if (opt.version_2_with_negative && std::none_of(preds.begin(), preds.end(), [](const Candidate& p) { return p.is_null; }))
      preds.push_back(*null);
    for (Candidate& p : preds)
      if (!p.is_null) p.c.text = substr_chars(ex.context, p.c.char_start, p.c.char_end);
    const bool all_empty = std::all_of(preds.begin(), preds.end(), [](const Candidate& p) { return p.c.text.empty(); });
    if (preds.empty() || all_empty) {  // run_qa tests size 1; spans of BERT tokens are never empty, so the same
      Candidate fake;  // run_qa's stand-in, so that there is a non-null answer
      fake.c.text = "empty";
      preds.insert(preds.begin(), fake);
    }
    set_probabilities(preds);
    QaPrediction pred;
    pred.id = ex.id;
    if (!opt.version_2_with_negative) {
      pred.text = preds[0].c.text;
    } else {
      size_t i = 0;
      while (preds[i].c.text.empty()) ++i;
      const float diff = null->c.score - preds[i].c.start_logit - preds[i].c.end_logit;
      pred.null_score_diff = diff;
      pred.text = diff > opt.null_score_diff_threshold ? "" : preds[i].c.text;
    }
    for (Candidate& p : preds) pred.nbest.push_back(std::move(p.c));
    out.push_back(std::move(pred));
  }
  return out;
}

}  // namespace qkv::data
