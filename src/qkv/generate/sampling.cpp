#include "qkv/generate/sampling.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "qkv/core/error.h"

namespace qkv::generate {

void SamplingOptions::validate() const {
  if (!(temperature >= 0.0f) || std::isinf(temperature))
    throw ValueError("temperature must be >= 0 and finite, got " + std::to_string(temperature));
  if (top_k < 0) throw ValueError("top_k must be >= 0, got " + std::to_string(top_k));
  if (!(top_p > 0.0f && top_p <= 1.0f)) throw ValueError("top_p must be in (0, 1], got " + std::to_string(top_p));
}

int64_t sample_token(const float* logits, int64_t V, const SamplingOptions& opt, Generator& gen) {
  if (V <= 0) throw ValueError("sample_token: empty vocabulary");
  if (opt.temperature == 0.0f)  // greedy
    return std::max_element(logits, logits + V) - logits;
  // Candidates sorted by score, best first (stable: ties keep the lower id).
  std::vector<int64_t> ids(V);
  std::iota(ids.begin(), ids.end(), 0);
  int64_t keep = opt.top_k > 0 ? std::min(opt.top_k, V) : V;
  auto better = [&](int64_t a, int64_t b) { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); };
  if (keep < V) std::partial_sort(ids.begin(), ids.begin() + keep, ids.end(), better);
  else std::sort(ids.begin(), ids.end(), better);
  ids.resize(keep);
  // Softmax of logits / T over the kept candidates (in double).
  std::vector<double> p(keep);
  const double mx = logits[ids[0]] / static_cast<double>(opt.temperature);
  double total = 0;
  for (int64_t i = 0; i < keep; ++i) {
    p[i] = std::exp(logits[ids[i]] / static_cast<double>(opt.temperature) - mx);
    total += p[i];
  }
  if (!(total > 0) || !std::isfinite(total)) return ids[0];  // all −∞ but one, or NaN input
  for (double& x : p) x /= total;
  if (opt.top_p < 1.0f) {  // smallest prefix with mass ≥ top_p
    double cum = 0;
    int64_t n = 0;
    while (n < keep) {
      cum += p[n++];
      if (cum >= opt.top_p) break;
    }
    p.resize(n);
    ids.resize(n);
    total = std::accumulate(p.begin(), p.end(), 0.0);
    for (double& x : p) x /= total;
  }
  double u = gen.uniform_double(), acc = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    acc += p[i];
    if (u < acc) return ids[i];
  }
  return ids[p.size() - 1];
}

std::vector<TokenProb> top_probs(const float* logits, int64_t V, int64_t k, float temperature) {
  const double t = temperature > 0 ? temperature : 1.0;
  double mx = -INFINITY;
  for (int64_t i = 0; i < V; ++i) mx = std::max(mx, static_cast<double>(logits[i]));
  std::vector<TokenProb> all(static_cast<size_t>(V));
  double sum = 0;
  for (int64_t i = 0; i < V; ++i) {
    const double e = std::isfinite(mx) ? std::exp((logits[i] - mx) / t) : 0.0;  // all −∞: all zero
    all[static_cast<size_t>(i)] = {i, e};
    sum += e;
  }
  for (TokenProb& tp : all) tp.p = sum > 0 ? tp.p / sum : 0.0;
  const size_t n = static_cast<size_t>(std::clamp<int64_t>(k, 0, V));
  std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(n), all.end(),
                    [](const TokenProb& a, const TokenProb& b) { return a.p > b.p || (a.p == b.p && a.id < b.id); });
  all.resize(n);
  return all;
}

}  // namespace qkv::generate
