// qkv/metrics/bleu.h — BLEU exactly as sacreBLEU 2.x computes it.
//
// Papineni et al. 2002 with sacreBLEU's choices (sacrebleu/metrics/bleu.py):
// each segment is optionally lowercased (Python's str.lower), right-stripped,
// tokenized (13a = mteval-v13a's rules, or none), split on Python whitespace;
// n-grams (n = 1..4) of the hypothesis are clipped by the maximum count of that
// n-gram over the segment's references; the reference length is the one
// closest to the hypothesis length (the shorter on a tie); counts and lengths
// are summed over the corpus; BP = exp(1 − r/c) when c < r; precisions with
// no match are smoothed by 'exp' (mteval's: 1/(2^k · total) for the k-th
// zero) and the score is BP · exp(mean log precision), in percent.
//
//   auto s = qkv::metrics::corpus_bleu(hyps, {refs_a, refs_b});
//   std::printf("%s\n", qkv::metrics::format_bleu(s).c_str());  // BLEU = 34.12 65.2/…
//
// tests/metrics/test_metrics_parity.cpp checks every case of
// ../shared/data/metrics/cases.json (counts exactly, scores to 1e-9).
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace qkv::metrics {

enum class BleuTokenize { k13a, None };
// sacreBLEU's smoothing methods but add-k (which makes the counts fractional).
enum class BleuSmooth { Exp, Floor, None };

struct BleuOptions {
  bool lowercase = false;                       // sacreBLEU -lc (signature case:lc)
  BleuTokenize tokenize = BleuTokenize::k13a;   // 13a | none
  BleuSmooth smooth = BleuSmooth::Exp;          // corpus default
  double smooth_value = 0.1;                    // floor's value (sacreBLEU's default)
  bool effective_order = false;                 // average only orders with any hypothesis n-gram
  int max_ngram_order = 4;
};

// sacrebleu.sentence_bleu's defaults: exp smoothing and effective order on.
inline BleuOptions sentence_bleu_defaults() { return BleuOptions{.effective_order = true}; }

struct BleuScore {
  double score = 0;                 // 0..100
  std::vector<long long> counts;    // clipped matched n-grams per order
  std::vector<long long> totals;    // hypothesis n-grams per order
  std::vector<double> precisions;   // percent, after smoothing
  double bp = 0;                    // brevity penalty
  long long sys_len = 0, ref_len = 0;
  double ratio() const { return ref_len ? double(sys_len) / double(ref_len) : 0.0; }
};

// mteval-v13a tokenization as sacreBLEU's Tokenizer13a (tokens joined by one space).
std::string tokenize_13a(std::string_view line);

// The sufficient statistics of one segment: [hyp_len, ref_len, correct×N, total×N].
std::vector<long long> bleu_segment_stats(std::string_view hyp, const std::vector<std::string>& refs,
                                          const BleuOptions& opts = {});
// The score from summed statistics (sacreBLEU's compute_bleu).
BleuScore bleu_from_stats(const std::vector<long long>& stats, const BleuOptions& opts = {});

// Corpus BLEU: refs[k] is the k-th reference stream, each as long as hyps
// (ValueError naming both counts otherwise).
BleuScore corpus_bleu(const std::vector<std::string>& hyps, const std::vector<std::vector<std::string>>& refs,
                      const BleuOptions& opts = {});
// One segment against its references, with sentence_bleu_defaults() unless told.
BleuScore sentence_bleu(std::string_view hyp, const std::vector<std::string>& refs,
                        const BleuOptions& opts = sentence_bleu_defaults());

// "BLEU = 34.12 65.2/40.1/27.0/18.8 (BP = 1.000 ratio = 1.012 hyp_len = 100 ref_len = 99)"
// (score with `width` decimals, as sacreBLEU's text format).
std::string format_bleu(const BleuScore& s, int width = 2);
// The verbose part alone: "65.2/40.1/27.0/18.8 (BP = … ref_len = 99)".
std::string bleu_verbose(const BleuScore& s);
// sacreBLEU-style signature, "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:<version>".
std::string bleu_signature(const BleuOptions& opts, int nrefs, const std::string& version);

}  // namespace qkv::metrics
