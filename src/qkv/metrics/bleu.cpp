// BLEU as sacreBLEU 2.x (qkv/metrics/bleu.h; sacrebleu/metrics/bleu.py).
#include "qkv/metrics/bleu.h"

#include <cmath>
#include <cstdio>
#include <string>
#include <unordered_map>

#include "qkv/core/error.h"
#include "qkv/metrics/text.h"

namespace qkv::metrics {
namespace {

// n-grams of every order 1..N keyed by their tokens joined with ' ' (a token
// never holds a space: it came from a whitespace split).
using NgramCounts = std::unordered_map<std::string, long long>;

struct Ngrams {
  NgramCounts counts;
  long long length = 0;  // number of tokens
};

// sacreBLEU's _preprocess_segment: lowercase, rstrip, tokenize; then the split.
std::vector<std::string> bleu_tokens(std::string_view sent, const BleuOptions& opts) {
  std::string s = opts.lowercase ? py_lower(sent) : std::string(sent);
  s = py_rstrip(s);
  if (opts.tokenize == BleuTokenize::k13a) s = tokenize_13a(s);
  return py_split(s);
}

// sacreBLEU's extract_all_word_ngrams(line, 1, N).
Ngrams word_ngrams(const std::vector<std::string>& toks, int max_order) {
  Ngrams g;
  g.length = static_cast<long long>(toks.size());
  for (int n = 1; n <= max_order; ++n) {
    for (size_t i = 0; i + n <= toks.size(); ++i) {
      std::string key = toks[i];
      for (int k = 1; k < n; ++k) {
        key += ' ';
        key += toks[i + k];
      }
      ++g.counts[key];
    }
  }
  return g;
}

int order_of(const std::string& key) {
  int n = 1;
  for (char c : key) n += c == ' ';
  return n;
}

// _get_closest_ref_len: the smallest |hyp − ref|; on a tie the shorter reference.
long long closest_ref_len(long long hyp_len, const std::vector<long long>& ref_lens) {
  long long best_diff = -1, best_len = -1;
  for (long long r : ref_lens) {
    const long long diff = std::llabs(hyp_len - r);
    if (best_diff == -1 || diff < best_diff) {
      best_diff = diff;
      best_len = r;
    } else if (diff == best_diff && r < best_len) {
      best_len = r;
    }
  }
  return best_len;
}

// sacreBLEU's my_log: log(0) is a large negative number, not −inf.
double my_log(double p) { return p == 0.0 ? -9999999999.0 : std::log(p); }

}  // namespace

std::vector<long long> bleu_segment_stats(std::string_view hyp, const std::vector<std::string>& refs,
                                          const BleuOptions& opts) {
  const int N = opts.max_ngram_order;
  NgramCounts ref_max;  // clip counts: max over the references
  std::vector<long long> ref_lens;
  for (const std::string& ref : refs) {
    Ngrams g = word_ngrams(bleu_tokens(ref, opts), N);
    ref_lens.push_back(g.length);
    for (const auto& [k, c] : g.counts) ref_max[k] = std::max(ref_max[k], c);
  }
  const Ngrams h = word_ngrams(bleu_tokens(hyp, opts), N);
  std::vector<long long> stats(2 + 2 * N, 0);
  stats[0] = h.length;
  stats[1] = closest_ref_len(h.length, ref_lens);
  for (const auto& [k, c] : h.counts) {
    const int n = order_of(k) - 1;
    stats[2 + N + n] += c;
    if (auto it = ref_max.find(k); it != ref_max.end()) stats[2 + n] += std::min(c, it->second);
  }
  return stats;
}

BleuScore bleu_from_stats(const std::vector<long long>& stats, const BleuOptions& opts) {
  const int N = opts.max_ngram_order;
  if (stats.size() != size_t(2 + 2 * N))
    throw ValueError("bleu: expected " + std::to_string(2 + 2 * N) + " statistics, got " + std::to_string(stats.size()));
  BleuScore s;
  s.sys_len = stats[0];
  s.ref_len = stats[1];
  s.counts.assign(stats.begin() + 2, stats.begin() + 2 + N);
  s.totals.assign(stats.begin() + 2 + N, stats.end());
  s.precisions.assign(N, 0.0);
  s.bp = 1.0;
  if (s.sys_len < s.ref_len) s.bp = s.sys_len > 0 ? std::exp(1.0 - double(s.ref_len) / double(s.sys_len)) : 0.0;
  bool any_match = false;
  for (long long c : s.counts) any_match = any_match || c != 0;
  if (!any_match) return s;  // sacreBLEU #141: score 0, precisions 0
  double smooth_mteval = 1.0;
  int eff_order = N;
  for (int n = 1; n <= N; ++n) {
    const double total = double(s.totals[n - 1]);
    if (s.totals[n - 1] == 0) break;
    if (opts.effective_order) eff_order = n;
    if (s.counts[n - 1] == 0) {
      if (opts.smooth == BleuSmooth::Exp) {
        smooth_mteval *= 2;
        s.precisions[n - 1] = 100.0 / (smooth_mteval * total);
      } else if (opts.smooth == BleuSmooth::Floor) {
        s.precisions[n - 1] = 100.0 * opts.smooth_value / total;
      }
    } else {
      s.precisions[n - 1] = 100.0 * double(s.counts[n - 1]) / total;
    }
  }
  double sum = 0.0;  // Python's sum(), left to right
  for (int n = 0; n < eff_order; ++n) sum += my_log(s.precisions[n]);
  s.score = s.bp * std::exp(sum / eff_order);
  return s;
}

BleuScore corpus_bleu(const std::vector<std::string>& hyps, const std::vector<std::vector<std::string>>& refs,
                      const BleuOptions& opts) {
  if (refs.empty()) throw ValueError("bleu: no reference streams");
  for (size_t k = 0; k < refs.size(); ++k)
    if (refs[k].size() != hyps.size())
      throw ValueError("bleu: the hypotheses have " + std::to_string(hyps.size()) + " lines but reference stream " +
                       std::to_string(k + 1) + " has " + std::to_string(refs[k].size()));
  std::vector<long long> total(2 + 2 * opts.max_ngram_order, 0);
  std::vector<std::string> seg_refs(refs.size());
  for (size_t i = 0; i < hyps.size(); ++i) {
    for (size_t k = 0; k < refs.size(); ++k) seg_refs[k] = refs[k][i];
    const std::vector<long long> st = bleu_segment_stats(hyps[i], seg_refs, opts);
    for (size_t j = 0; j < st.size(); ++j) total[j] += st[j];
  }
  return bleu_from_stats(total, opts);
}

BleuScore sentence_bleu(std::string_view hyp, const std::vector<std::string>& refs, const BleuOptions& opts) {
  return bleu_from_stats(bleu_segment_stats(hyp, refs, opts), opts);
}

std::string bleu_verbose(const BleuScore& s) {
  std::string prec;
  char buf[64];
  for (double p : s.precisions) {
    std::snprintf(buf, sizeof buf, "%.1f", p);
    if (!prec.empty()) prec += '/';
    prec += buf;
  }
  char tail[160];
  std::snprintf(tail, sizeof tail, " (BP = %.3f ratio = %.3f hyp_len = %lld ref_len = %lld)", s.bp, s.ratio(),
                s.sys_len, s.ref_len);
  return prec + tail;
}

std::string format_bleu(const BleuScore& s, int width) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "BLEU = %.*f ", width, s.score);
  return buf + bleu_verbose(s);
}

std::string bleu_signature(const BleuOptions& opts, int nrefs, const std::string& version) {
  const char* smooth = opts.smooth == BleuSmooth::Exp ? "exp" : opts.smooth == BleuSmooth::Floor ? "floor" : "none";
  std::string sig = "nrefs:" + std::to_string(nrefs) + "|case:" + (opts.lowercase ? "lc" : "mixed") +
                    "|eff:" + (opts.effective_order ? "yes" : "no") +
                    "|tok:" + (opts.tokenize == BleuTokenize::k13a ? "13a" : "none") + "|smooth:" + smooth;
  if (opts.smooth == BleuSmooth::Floor) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "[%.2f]", opts.smooth_value);
    sig += buf;
  }
  return sig + "|version:" + version;
}

}  // namespace qkv::metrics
