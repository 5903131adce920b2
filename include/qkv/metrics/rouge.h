// qkv/metrics/rouge.h — ROUGE-1, ROUGE-2 and ROUGE-L as Google's rouge-score
// 0.1.2 computes them (rouge_score/rouge_scorer.py, tokenize.py).
//
// Tokens: the text lowercased (Python's str.lower), every run of characters
// outside [a-z0-9] replaced by a space, split; with `stem`, tokens longer than
// 3 characters go through NLTK's Porter stemmer in its default
// NLTK_EXTENSIONS mode (porter_stem below). ROUGE-N: clipped n-gram overlap,
// precision = overlap / hyp n-grams, recall = overlap / ref n-grams (each
// denominator at least 1); ROUGE-L: longest common subsequence over the token
// lists (0 when either is empty); F = 2PR/(P+R). With several references each
// ROUGE type keeps the reference with the highest F (the first on a tie), as
// RougeScorer.score_multi. A corpus score is the plain mean of the per-line
// precision, recall and F (rouge-score's BootstrapAggregator instead reports a
// resampled mid value; the mean is what it converges to, without the noise).
//
//   auto s = qkv::metrics::rouge("the cat sat", {"the cat sat down"}, {.stem = true});
//   s.rougeL.f;
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace qkv::metrics {

struct RougeOptions {
  bool stem = false;  // Porter stemmer on tokens longer than 3 characters
};

struct RougePRF {
  double p = 0, r = 0, f = 0;
};

struct RougeScores {
  RougePRF rouge1, rouge2, rougeL;
};

// rouge-score's tokenize.tokenize(text, stemmer).
std::vector<std::string> rouge_tokens(std::string_view text, bool stem);

// NLTK 3.8 PorterStemmer().stem(word) for a lowercase ASCII word
// (mode NLTK_EXTENSIONS: the irregular-forms table, no stemming of words of
// 1–2 letters, and NLTK's departures in steps 1a, 1b, 1c, 2 and *o).
std::string porter_stem(const std::string& word);

// One prediction against one target (RougeScorer.score).
RougeScores rouge_single(std::string_view prediction, std::string_view target, const RougeOptions& opts = {});
// One prediction against several targets (RougeScorer.score_multi); ValueError if `targets` is empty.
RougeScores rouge(std::string_view prediction, const std::vector<std::string>& targets, const RougeOptions& opts = {});
// The mean over lines of rouge(hyps[i], {refs[0][i], refs[1][i], …}); the streams must be as long as hyps.
RougeScores corpus_rouge(const std::vector<std::string>& hyps, const std::vector<std::vector<std::string>>& refs,
                         const RougeOptions& opts = {});

}  // namespace qkv::metrics
