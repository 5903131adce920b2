// qkv/metrics/chrf.h — chrF and chrF++ exactly as sacreBLEU 2.x's CHRF.
//
// Popović 2015 (chrF) and 2017 (chrF++), with sacreBLEU's choices
// (sacrebleu/metrics/chrf.py): character n-grams of orders 1..char_order over
// Unicode code points (no normalisation) of the segment with all Python
// whitespace removed; for word_order > 0 also word n-grams of the words split
// on whitespace with one leading or trailing ASCII punctuation mark split off.
// Per order: [hyp n-grams, ref n-grams, matches] (a hypothesis count is 0
// when the reference has no n-gram of that order). With several references a
// segment keeps the statistics of the reference with the best segment
// F-score (the first on a tie). Statistics are summed over the corpus; the
// score is the F_β of the precision and recall averaged over the orders whose
// hypothesis and reference counts are both non-zero, in percent.
//
//   double s = qkv::metrics::corpus_chrf(hyps, {refs}).score;          // chrF2
//   double pp = qkv::metrics::corpus_chrf(hyps, {refs}, {.word_order = 2}).score;  // chrF++
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace qkv::metrics {

struct ChrfOptions {
  int char_order = 6;      // sacreBLEU CHRF.CHAR_ORDER
  int word_order = 0;      // 2 = chrF++
  int beta = 2;            // recall weighs β times precision
  bool lowercase = false;  // Python's str.lower() first
  bool whitespace = false; // keep whitespace inside character n-grams
};

struct ChrfScore {
  double score = 0;              // 0..100
  std::vector<long long> stats;  // 3 per order (char orders, then word orders): hyp, ref, match
};

// The statistics of one segment (best reference), 3 × (char_order + word_order) numbers.
std::vector<long long> chrf_segment_stats(std::string_view hyp, const std::vector<std::string>& refs,
                                          const ChrfOptions& opts = {});
// sacreBLEU's _compute_f_score (the default, without eps smoothing).
double chrf_from_stats(const std::vector<long long>& stats, const ChrfOptions& opts = {});

// refs[k] is the k-th reference stream, each as long as hyps (ValueError otherwise).
ChrfScore corpus_chrf(const std::vector<std::string>& hyps, const std::vector<std::vector<std::string>>& refs,
                      const ChrfOptions& opts = {});
ChrfScore sentence_chrf(std::string_view hyp, const std::vector<std::string>& refs, const ChrfOptions& opts = {});

// "chrF2" or "chrF2++" (sacreBLEU's name: one '+' per word order).
std::string chrf_name(const ChrfOptions& opts);
// "nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:<version>".
std::string chrf_signature(const ChrfOptions& opts, int nrefs, const std::string& version);

}  // namespace qkv::metrics
