// qkv/metrics/squad.h — SQuAD exact match and token F1 as the official
// evaluation scripts compute them: evaluate-v1.1.py (Rajpurkar et al. 2016)
// and evaluate-v2.0.py (Rajpurkar et al. 2018).
//
// normalize_answer (both scripts), in this order:
//   1. lowercase (Python's str.lower: full Unicode mapping, metrics/text.h);
//   2. delete every character of string.punctuation (the 32 ASCII marks
//      !"#$%&'()*+,-./:;<=>?@[\]^_`{|}~; Unicode punctuation such as « or — stays);
//   3. re.sub(r'\b(a|an|the)\b', ' ', …): a maximal run of word characters
//      (Python's \w: Unicode letters and numbers, and '_') that is exactly
//      "a", "an" or "the" becomes a space — so "a1", "théa" and "aé" keep
//      their "a", while a combining mark (not \w) does not protect it;
//   4. ' '.join(text.split()) with Python's whitespace.
// Because punctuation goes before articles, "the-end" → "theend" keeps its
// "the", and "(the)" → "" loses it.
//
// Exact match: the normalised strings are equal. F1: with the normalised
// strings split into tokens, common = the multiset intersection,
// P = common / prediction tokens, R = common / gold tokens, F1 = 2PR/(P+R),
// 0 when nothing is common. v2 differs only when a side has no tokens: then
// F1 = 1 if both have none, else 0 (v1 gives 0 whenever nothing is common, so
// an empty prediction against an empty gold answer has EM 1 but F1 0 there).
// A question's score is the maximum over its gold answers.
//
// Corpus scores (both ×100):
//   v1.1 — every question counts; one without a prediction scores 0.
//   v2.0 — gold answers whose normalisation is empty are dropped, and a
//          question left with none (an unanswerable one) has the single gold
//          answer "" (a prediction of "" means "no answer"). Every question must
//          have a prediction (the official script fails otherwise). With
//          no-answer probabilities, a question whose probability exceeds the
//          threshold (default 1.0) is scored as a "no answer" prediction:
//          1 if it has no gold answer, else 0. The report adds HasAns_/NoAns_
//          scores (questions whose raw answer list is non-empty / empty) and,
//          with probabilities, find_best_thresh's best_exact/best_f1 and
//          their thresholds (see squad_v2_evaluate).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace qkv::metrics {

// normalize_answer of both official scripts.
std::string squad_normalize(std::string_view text);
// exact_match_score / compute_exact.
bool squad_exact_match(std::string_view prediction, std::string_view gold);
// f1_score of evaluate-v1.1.py.
double squad_f1_v1(std::string_view prediction, std::string_view gold);
// compute_f1 of evaluate-v2.0.py.
double squad_f1_v2(std::string_view prediction, std::string_view gold);

// One question of a SQuAD file: its id and the texts of its gold answers
// (empty for an unanswerable SQuAD 2.0 question).
struct SquadQuestion {
  std::string id;
  std::vector<std::string> answers;
};

// Question id → predicted answer text ("" = no answer in SQuAD 2.0).
using SquadPredictions = std::unordered_map<std::string, std::string>;

struct SquadV1Result {
  double exact_match = 0, f1 = 0;    // ×100, over every question
  int64_t total = 0;
  std::vector<std::string> missing;  // ids without a prediction (scored 0), in file order
};

// evaluate-v1.1.py's evaluate(). ValueError for a question without gold
// answers (the script's max() of nothing) or a repeated id.
SquadV1Result squad_v1_evaluate(const std::vector<SquadQuestion>& questions, const SquadPredictions& preds);

struct SquadSubset {
  double exact = 0, f1 = 0;  // ×100
  int64_t total = 0;
};

struct SquadV2Options {
  // Question id → probability of "no answer", in the order of the file it
  // came from (ties in find_best_thresh's sort keep this order, as Python's
  // stable sorted() does). Must hold every question; ids must not repeat.
  std::optional<std::vector<std::pair<std::string, double>>> na_probs;
  double na_prob_thresh = 1.0;  // --na-prob-thresh of the script
};

struct SquadV2Result {
  SquadSubset all;
  std::optional<SquadSubset> has_ans, no_ans;  // present when such questions exist
  // With na_probs only: find_best_thresh on the raw (unthresholded) scores.
  // Sorting by probability, it starts from "every question answered with
  // nothing" (score = number of unanswerable questions) and, question by
  // question, switches to the prediction: + its score if it has a gold
  // answer, −1 if it has none and the raw prediction is not "", else 0; the
  // best running score (strictly better only) and the probability where it
  // was reached (0.0 if never bettered) are reported, ×100 / questions.
  bool has_best = false;
  double best_exact = 0, best_exact_thresh = 0, best_f1 = 0, best_f1_thresh = 0;
};

// evaluate-v2.0.py's main(). ValueError naming the question for a missing
// prediction or no-answer probability, or a repeated id.
SquadV2Result squad_v2_evaluate(const std::vector<SquadQuestion>& questions, const SquadPredictions& preds,
                                const SquadV2Options& opts = {});

}  // namespace qkv::metrics
