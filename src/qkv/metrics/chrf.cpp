// chrF / chrF++ as sacreBLEU 2.x (qkv/metrics/chrf.h; sacrebleu/metrics/chrf.py
// and helpers.py).
#include "qkv/metrics/chrf.h"

#include <unordered_map>

#include "qkv/core/error.h"
#include "qkv/metrics/text.h"

namespace qkv::metrics {
namespace {

// One counter per order: character n-grams keyed by code points, word n-grams
// by their UTF-32 words joined with ' ' (a word never holds whitespace).
using Counter = std::unordered_map<std::u32string, long long>;

// extract_all_char_ngrams: without `whitespace`, ''.join(line.split()) first.
std::vector<Counter> char_ngrams(std::string_view line, const ChrfOptions& o) {
  std::u32string s;
  for (char32_t c : to_code_points(line))
    if (o.whitespace || !is_py_space(c)) s.push_back(c);
  std::vector<Counter> out(o.char_order);
  for (int n = 1; n <= o.char_order; ++n)
    for (size_t i = 0; i + n <= s.size(); ++i) ++out[n - 1][s.substr(i, n)];
  return out;
}

bool is_ascii_punct(char32_t c) {  // sacreBLEU's CHRF._PUNCTS (string.punctuation)
  return (c >= 0x21 && c <= 0x2F) || (c >= 0x3A && c <= 0x40) || (c >= 0x5B && c <= 0x60) ||
         (c >= 0x7B && c <= 0x7E);
}

// _remove_punctuation: a word longer than one character loses a trailing
// punctuation mark to its own token, or else a leading one ("(hi)" → "(hi", ")").
std::vector<std::u32string> chrf_words(std::string_view line) {
  std::vector<std::u32string> out;
  for (const std::string& w8 : py_split(line)) {
    std::u32string w = to_code_points(w8);
    if (w.size() > 1 && is_ascii_punct(w.back())) {
      out.push_back(w.substr(0, w.size() - 1));
      out.push_back(w.substr(w.size() - 1));
    } else if (w.size() > 1 && is_ascii_punct(w.front())) {
      out.push_back(w.substr(0, 1));
      out.push_back(w.substr(1));
    } else {
      out.push_back(std::move(w));
    }
  }
  return out;
}

Counter word_ngrams(const std::vector<std::u32string>& words, int n) {
  Counter c;
  for (size_t i = 0; i + n <= words.size(); ++i) {
    std::u32string key = words[i];
    for (int k = 1; k < n; ++k) key += U' ' + words[i + k];
    ++c[key];
  }
  return c;
}

std::vector<Counter> all_ngrams(std::string_view line, const ChrfOptions& o) {
  std::vector<Counter> g = char_ngrams(line, o);
  if (o.word_order > 0) {
    const std::vector<std::u32string> words = chrf_words(line);
    for (int n = 1; n <= o.word_order; ++n) g.push_back(word_ngrams(words, n));
  }
  return g;
}

long long total(const Counter& c) {
  long long t = 0;
  for (const auto& [_, v] : c) t += v;
  return t;
}

}  // namespace

std::vector<long long> chrf_segment_stats(std::string_view hyp, const std::vector<std::string>& refs,
                                          const ChrfOptions& o) {
  const std::string h_text = o.lowercase ? py_lower(hyp) : std::string(hyp);
  const std::vector<Counter> h = all_ngrams(h_text, o);
  std::vector<long long> best;
  double best_f = -1.0;
  for (const std::string& ref : refs) {
    const std::vector<Counter> r = all_ngrams(o.lowercase ? py_lower(ref) : ref, o);
    std::vector<long long> stats;
    for (size_t k = 0; k < h.size(); ++k) {
      long long match = 0;
      for (const auto& [g, c] : h[k])
        if (auto it = r[k].find(g); it != r[k].end()) match += std::min(c, it->second);
      stats.push_back(r[k].empty() ? 0 : total(h[k]));  // no hits counted without a reference
      stats.push_back(total(r[k]));
      stats.push_back(match);
    }
    const double f = chrf_from_stats(stats, o);
    if (f > best_f) {
      best_f = f;
      best = std::move(stats);
    }
  }
  return best;
}

double chrf_from_stats(const std::vector<long long>& stats, const ChrfOptions& o) {
  const int order = o.char_order + o.word_order;
  if (stats.size() != size_t(3 * order))
    throw ValueError("chrf: expected " + std::to_string(3 * order) + " statistics, got " + std::to_string(stats.size()));
  const double factor = double(o.beta) * double(o.beta);
  double avg_prec = 0.0, avg_rec = 0.0;
  int effective_order = 0;
  for (int i = 0; i < order; ++i) {
    const long long n_hyp = stats[3 * i], n_ref = stats[3 * i + 1], n_match = stats[3 * i + 2];
    if (n_hyp > 0 && n_ref > 0) {
      avg_prec += double(n_match) / double(n_hyp);
      avg_rec += double(n_match) / double(n_ref);
      ++effective_order;
    }
  }
  if (effective_order == 0) return 0.0;
  avg_prec /= effective_order;
  avg_rec /= effective_order;
  if (avg_prec + avg_rec == 0.0) return 0.0;
  double score = (1 + factor) * avg_prec * avg_rec;
  score /= (factor * avg_prec) + avg_rec;
  return 100 * score;
}

ChrfScore corpus_chrf(const std::vector<std::string>& hyps, const std::vector<std::vector<std::string>>& refs,
                      const ChrfOptions& o) {
  if (refs.empty()) throw ValueError("chrf: no reference streams");
  for (size_t k = 0; k < refs.size(); ++k)
    if (refs[k].size() != hyps.size())
      throw ValueError("chrf: the hypotheses have " + std::to_string(hyps.size()) + " lines but reference stream " +
                       std::to_string(k + 1) + " has " + std::to_string(refs[k].size()));
  ChrfScore s;
  s.stats.assign(3 * (o.char_order + o.word_order), 0);
  std::vector<std::string> seg_refs(refs.size());
  for (size_t i = 0; i < hyps.size(); ++i) {
    for (size_t k = 0; k < refs.size(); ++k) seg_refs[k] = refs[k][i];
    const std::vector<long long> st = chrf_segment_stats(hyps[i], seg_refs, o);
    for (size_t j = 0; j < st.size(); ++j) s.stats[j] += st[j];
  }
  s.score = chrf_from_stats(s.stats, o);
  return s;
}

ChrfScore sentence_chrf(std::string_view hyp, const std::vector<std::string>& refs, const ChrfOptions& o) {
  ChrfScore s;
  s.stats = chrf_segment_stats(hyp, refs, o);
  s.score = chrf_from_stats(s.stats, o);
  return s;
}

std::string chrf_name(const ChrfOptions& o) { return "chrF" + std::to_string(o.beta) + std::string(o.word_order, '+'); }

std::string chrf_signature(const ChrfOptions& o, int nrefs, const std::string& version) {
  return "nrefs:" + std::to_string(nrefs) + "|case:" + (o.lowercase ? "lc" : "mixed") + "|eff:yes|nc:" +
         std::to_string(o.char_order) + "|nw:" + std::to_string(o.word_order) +
         "|space:" + (o.whitespace ? "yes" : "no") + "|version:" + version;
}

}  // namespace qkv::metrics
