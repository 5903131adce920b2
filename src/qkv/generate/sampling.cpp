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

TokenLogprobs token_logprobs(const float* logits, int64_t V, int64_t token, int64_t k) {
  if (token < 0 || token >= V) throw ValueError("token_logprobs: token " + std::to_string(token) + " out of range");
  double mx = -INFINITY;
  for (int64_t i = 0; i < V; ++i) mx = std::max(mx, static_cast<double>(logits[i]));
  double total = 0;
  for (int64_t i = 0; i < V; ++i) total += std::exp(static_cast<double>(logits[i]) - mx);
  const double log_z = mx + std::log(total);  // log Σ exp(logits)
  TokenLogprobs out;
  out.logprob = static_cast<float>(logits[token] - log_z);
  k = std::min(std::max<int64_t>(k, 0), V);
  if (k > 0) {
    std::vector<int64_t> ids(V);
    std::iota(ids.begin(), ids.end(), 0);
    std::partial_sort(ids.begin(), ids.begin() + k, ids.end(), [&](int64_t a, int64_t b) {
      return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
    });
    for (int64_t i = 0; i < k; ++i) out.top.emplace_back(ids[i], static_cast<float>(logits[ids[i]] - log_z));
  }
  return out;
}

std::vector<TokenProb> top_probs(const float* logits, int64_t V, int64_t k, float temperature) {
  const float t = temperature > 0 ? temperature : 1.0f;
  std::vector<float> scaled(logits, logits + V);
  for (float& x : scaled) x /= t;
  std::vector<TokenProb> out;
  for (const auto& [id, lp] : token_logprobs(scaled.data(), V, 0, k).top) out.push_back({id, std::exp(static_cast<double>(lp))});
  return out;
}

}  // namespace qkv::generate
