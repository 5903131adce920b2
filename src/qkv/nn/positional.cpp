// Sinusoidal and learned positional encodings.
#include "qkv/nn/positional.h"

#include <algorithm>
#include <cmath>

#include "qkv/autograd/autograd.h"
#include "qkv/nn/init.h"

namespace qkv::nn {

namespace {
// (rows, d) table of Vaswani et al. 2017 §3.5, in double then rounded.
Tensor sinusoid_table(int64_t rows, int64_t d, double base) {
  Tensor t = Tensor::empty({rows, d});
  float* p = t.data<float>();
  for (int64_t pos = 0; pos < rows; ++pos)
    for (int64_t i = 0; 2 * i < d; ++i) {
      const double angle = static_cast<double>(pos) / std::pow(base, static_cast<double>(2 * i) / d);
      p[pos * d + 2 * i] = static_cast<float>(std::sin(angle));
      if (2 * i + 1 < d) p[pos * d + 2 * i + 1] = static_cast<float>(std::cos(angle));
    }
  return t;
}
}  // namespace

SinusoidalPositionalEncoding::SinusoidalPositionalEncoding(int64_t d, int64_t max_len, double base_)
    : d_model(d), base(base_) {
  if (d <= 0) throw ValueError("SinusoidalPositionalEncoding: d_model must be positive, got " + std::to_string(d));
  if (!(base > 1) || !std::isfinite(base))
    throw ValueError("SinusoidalPositionalEncoding: base must be > 1 and finite, got " + std::to_string(base));
  if (max_len <= 0)
    throw ValueError("SinusoidalPositionalEncoding: max_len must be positive, got " + std::to_string(max_len));
  table_ = sinusoid_table(max_len, d, base);
}

int64_t SinusoidalPositionalEncoding::table_rows() const {
  std::lock_guard<std::mutex> lock(mu_);
  return table_.size(0);
}

Tensor SinusoidalPositionalEncoding::forward(int64_t T, int64_t offset) const {
  if (T < 0 || offset < 0)
    throw ValueError("SinusoidalPositionalEncoding: T and offset must be >= 0, got T=" + std::to_string(T) +
                     " offset=" + std::to_string(offset));
  std::lock_guard<std::mutex> lock(mu_);
  if (offset + T > table_.size(0))  // grow geometrically; old views keep their storage
    table_ = sinusoid_table(std::max(offset + T, 2 * table_.size(0)), d_model, base);
  return table_.narrow(0, offset, T);
}

Tensor SinusoidalPositionalEncoding::at(const Tensor& positions) const {
  if (positions.dtype() != DType::Int64)
    throw ValueError(std::string("SinusoidalPositionalEncoding: positions must be int64, got ") + dtype_name(positions.dtype()));
  int64_t hi = -1;
  for (int64_t p : positions.to_int_vector()) {
    if (p < 0) throw ValueError("SinusoidalPositionalEncoding: negative position " + std::to_string(p));
    hi = std::max(hi, p);
  }
  const Tensor table = forward(hi + 1, 0);  // grows the table if needed
  return embedding(table, positions);       // (…, C), the table needs no gradient
}

LearnedPositionalEmbedding::LearnedPositionalEmbedding(int64_t max_len_, int64_t d, Generator& gen)
    : max_len(max_len_), d_model(d) {
  if (max_len <= 0 || d <= 0)
    throw ValueError("LearnedPositionalEmbedding: max_len and d_model must be positive, got " +
                     std::to_string(max_len) + ", " + std::to_string(d));
  Tensor w = Tensor::empty({max_len, d});
  normal_(w, 0.0f, 1.0f, gen);
  weight = register_parameter("weight", w);
}

Tensor LearnedPositionalEmbedding::forward(int64_t T, int64_t offset) const {
  if (T < 0 || offset < 0 || offset + T > max_len)
    throw ValueError("LearnedPositionalEmbedding: positions " + std::to_string(offset) + ".." +
                     std::to_string(offset + T - 1) + " out of range: max_len is " + std::to_string(max_len));
  return weight.narrow(0, offset, T);  // (T,C)
}

RotaryEmbedding::RotaryEmbedding(const RopeConfig& cfg, int64_t n_heads, int64_t head_size)
    : n_heads_(n_heads), head_size_(head_size) {
  const int64_t d = cfg.dim == 0 ? head_size : cfg.dim;
  if (d <= 0 || d % 2 != 0 || d > head_size)
    throw ValueError("rope: the rotary dimension " + std::to_string(d) + " must be even, positive and at most the head size " +
                     std::to_string(head_size));
  if (!(cfg.theta > 1) || !std::isfinite(cfg.theta))
    throw ValueError("rope: theta must be > 1 and finite, got " + std::to_string(cfg.theta));
  if (!(cfg.factor >= 1) || !std::isfinite(cfg.factor))
    throw ValueError("rope: the scaling factor must be >= 1, got " + std::to_string(cfg.factor));
  opt_.rot_dim = d;
  opt_.theta = cfg.theta;
  opt_.layout = cfg.layout;
  if (cfg.scaling == "linear") {
    opt_.position_scale = 1.0 / cfg.factor;
  } else if (cfg.scaling == "ntk") {
    opt_.theta = d > 2 ? cfg.theta * std::pow(cfg.factor, static_cast<double>(d) / static_cast<double>(d - 2))
                       : cfg.theta;
  } else if (cfg.scaling != "none") {
    throw ValueError("rope: scaling must be none, linear or ntk, got \"" + cfg.scaling + "\"");
  }
}

void RotaryEmbedding::operator()(Tensor& q, Tensor& k, const Tensor& positions) const {
  q = rotary_embedding(q, positions, n_heads_, opt_);
  // Grouped-query attention: k holds fewer heads of the same size.
  const int64_t kv_heads = k.dim() == 3 && k.size(2) % head_size_ == 0 ? k.size(2) / head_size_ : n_heads_;
  k = rotary_embedding(k, positions, kv_heads, opt_);
}

Tensor alibi_slopes(int64_t n) {
  if (n <= 0) throw ValueError("alibi_slopes: n_heads must be positive, got " + std::to_string(n));
  auto geometric = [](int64_t p) {  // 2^(−8/p·(i+1)), i < p
    std::vector<float> s;
    for (int64_t i = 0; i < p; ++i) s.push_back(static_cast<float>(std::pow(2.0, -8.0 * (i + 1) / p)));
    return s;
  };
  int64_t p = 1;
  while (2 * p <= n) p *= 2;
  std::vector<float> s = geometric(p);
  const std::vector<float> twice = geometric(2 * p);
  for (int64_t i = 0; static_cast<int64_t>(s.size()) < n; i += 2) s.push_back(twice[i]);
  return tensor(s, {n});
}

int64_t t5_bucket(int64_t relative, bool bidirectional, int64_t num_buckets, int64_t max_distance) {
  int64_t bucket = 0, n = num_buckets, r = relative;
  if (bidirectional) {
    n /= 2;
    if (r > 0) bucket += n;
    r = r < 0 ? -r : r;
  } else {
    r = r < 0 ? -r : 0;  // only keys at or before the query
  }
  const int64_t max_exact = n / 2;
  if (r < max_exact) return bucket + r;
  // float32 arithmetic in Hugging Face's order, so the buckets agree at the edges
  const float scaled = std::log(static_cast<float>(r) / static_cast<float>(max_exact)) /
                       static_cast<float>(std::log(static_cast<double>(max_distance) / static_cast<double>(max_exact))) *
                       static_cast<float>(n - max_exact);
  return bucket + std::min<int64_t>(max_exact + static_cast<int64_t>(scaled), n - 1);
}

T5RelativeBias::T5RelativeBias(int64_t nb, int64_t md, int64_t nh, bool bidir, Generator& gen)
    : num_buckets(nb), max_distance(md), n_heads(nh), bidirectional(bidir) {
  const int64_t exact = (bidir ? nb / 2 : nb) / 2;
  if (exact < 1 || md <= exact)
    throw ValueError("T5RelativeBias: need num_buckets >= " + std::to_string(bidir ? 4 : 2) +
                     " and max_distance > the exact buckets (" + std::to_string(exact) + "), got num_buckets " +
                     std::to_string(nb) + ", max_distance " + std::to_string(md));
  relative_attention_bias = register_module("relative_attention_bias", std::make_shared<Embedding>(nb, nh, gen));
}

Tensor T5RelativeBias::forward(int64_t T, int64_t S) const {
  std::vector<int64_t> ids(static_cast<size_t>(T * S));
  for (int64_t t = 0; t < T; ++t)
    for (int64_t s = 0; s < S; ++s) ids[t * S + s] = t5_bucket(s - (t + S - T), bidirectional, num_buckets, max_distance);
  const Tensor b = relative_attention_bias->forward(tensor_i64(ids, {T, S}));  // (T,S,H)
  return b.permute({2, 0, 1}).unsqueeze(0);                                      // (1,H,T,S)
}

ShawRelativePositions::ShawRelativePositions(int64_t k, int64_t hs, Generator& gen) : max_distance(k), head_size(hs) {
  if (k < 1) throw ValueError("ShawRelativePositions: the clipping distance k must be >= 1, got " + std::to_string(k));
  if (hs < 1) throw ValueError("ShawRelativePositions: head_size must be >= 1, got " + std::to_string(hs));
  w_k = register_module("w_k", std::make_shared<Embedding>(2 * k + 1, hs, gen));
  w_v = register_module("w_v", std::make_shared<Embedding>(2 * k + 1, hs, gen));
}

Tensor ShawRelativePositions::key_scores(const Tensor& q, int64_t S) const {
  // q (B,NH,T,hs) · w^Kᵀ (hs,2k+1) → (B,NH,T,2k+1); entry clip(j−i)+k for key j → (B,NH,T,S)
  return relative_gather(matmul(q, w_k->weight.transpose(0, 1)), S);
}

Tensor ShawRelativePositions::value_term(const Tensor& alpha) const {
  // Σ_j α_ij w^V_{clip(j−i)} = Σ_r (Σ_{j: clip(j−i)=r} α_ij) w^V_r: (B,NH,T,2k+1) · (2k+1,hs)
  return matmul(relative_scatter(alpha, max_distance), w_v->weight);
}

Tensor relative_distance(int64_t len, int64_t k) {
  if (len <= 0 || k < 1)
    throw ValueError("relative_distance: need len >= 1 and max_distance >= 1, got " + std::to_string(len) + ", " +
                     std::to_string(k));
  std::vector<float> d(static_cast<size_t>(len * len));
  for (int64_t i = 0; i < len; ++i)
    for (int64_t j = 0; j < len; ++j) d[i * len + j] = static_cast<float>(std::clamp(j - i, -k, k));
  return tensor(d, {len, len});
}

Tensor row_cosine_similarity(const Tensor& table) {
  if (table.dim() != 2) throw ShapeError("row_cosine_similarity: need a (T, C) table, got " + shape_str(table.shape()));
  NoGradGuard ng;
  const Tensor norm = sqrt(add(sum(mul(table, table), {1}, true), 1e-12f));  // (T,1)
  const Tensor unit = div(table, norm);
  return matmul(unit, unit.transpose(0, 1));
}

Tensor sinusoidal_similarity(int64_t len, int64_t d_model, double base) {
  if (len <= 0) throw ValueError("sinusoidal_similarity: len must be positive, got " + std::to_string(len));
  return row_cosine_similarity(SinusoidalPositionalEncoding(d_model, len, base).forward(len).contiguous());
}

Tensor rope_similarity(int64_t len, int64_t head_size, const RopeOptions& opt) {
  if (len <= 0) throw ValueError("rope_similarity: len must be positive, got " + std::to_string(len));
  NoGradGuard ng;
  const Tensor r = rotary_embedding(ones({1, len, head_size}), arange(len), 1, opt).reshape({len, head_size});
  return mul(matmul(r, r.transpose(0, 1)), 1.0f / static_cast<float>(head_size));
}

Tensor alibi_bias(int64_t len, int64_t n_heads, int64_t head) {
  if (len <= 0) throw ValueError("alibi_bias: len must be positive, got " + std::to_string(len));
  if (head < 0 || head >= n_heads)
    throw ValueError("alibi_bias: head " + std::to_string(head) + " out of range for " + std::to_string(n_heads) +
                     " heads");
  const float m = alibi_slopes(n_heads).to_vector()[static_cast<size_t>(head)];
  std::vector<float> b(static_cast<size_t>(len * len));
  for (int64_t i = 0; i < len; ++i)
    for (int64_t j = 0; j < len; ++j) b[i * len + j] = -m * static_cast<float>(i > j ? i - j : j - i);
  return tensor(b, {len, len});
}

}  // namespace qkv::nn
