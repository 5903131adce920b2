// qkv/nn/positional.h — position information added to token embeddings.
#pragma once
#include <cstdint>
#include <mutex>
#include <string>

#include "qkv/core/rng.h"
#include "qkv/nn/layers.h"
#include "qkv/nn/module.h"
#include "qkv/ops/ops.h"

namespace qkv::nn {

// Vaswani et al. 2017, §3.5: PE(pos, 2i) = sin(pos / base^(2i/d)),
// PE(pos, 2i+1) = cos(pos / base^(2i/d)), base 10000 in the paper. The table
// is computed (in double) once for max_len rows and grows itself when a longer
// range is asked for, so a model works past its training length. No
// parameters; the table is not part of the state dict (a function of d_model
// and base alone).
class SinusoidalPositionalEncoding : public Module {
 public:
  explicit SinusoidalPositionalEncoding(int64_t d_model, int64_t max_len = 4096, double base = 10000.0);
  // Rows offset .. offset+T−1 of the table: (T, C), no gradient.
  Tensor forward(int64_t T, int64_t offset = 0) const;
  // The rows of int64 positions of any shape (≥ 0): (…, C), no gradient.
  Tensor at(const Tensor& positions) const;
  int64_t d_model;
  double base;
  int64_t table_rows() const;

 private:
  mutable std::mutex mu_;
  mutable Tensor table_;  // (rows, C)
};

// A learned table of position vectors (GPT-2's wpe): weight (max_len, C) ~ N(0,1).
class LearnedPositionalEmbedding : public Module {
 public:
  LearnedPositionalEmbedding(int64_t max_len, int64_t d_model, Generator& gen);
  // Rows offset .. offset+T−1 of weight: (T, C), differentiable. Throws
  // ValueError if offset + T > max_len.
  Tensor forward(int64_t T, int64_t offset = 0) const;
  int64_t max_len, d_model;
  Tensor weight;
};

// Rotary position embedding (Su et al. 2021) as a query/key transform of
// nn::MultiHeadAttention (its qk_transform): q and k of every head turn by
// their positions, so q·k depends on the distance alone. Running past the
// training length: `linear` position interpolation (Chen et al. 2023) divides
// positions by the factor; `ntk` (NTK-aware scaling, bloc97 2023) raises the
// base to theta·factor^(d/(d−2)) instead, d the rotary dimension.
struct RopeConfig {
  int64_t dim = 0;                 // rotary channels per head (even); 0 = the head size
  double theta = 10000.0;          // the base
  RopeLayout layout = RopeLayout::RotateHalf;
  std::string scaling = "none";    // "none" | "linear" | "ntk"
  double factor = 1.0;             // ≥ 1 (scaling's factor)
};

class RotaryEmbedding {
 public:
  RotaryEmbedding(const RopeConfig& cfg, int64_t n_heads, int64_t head_size);  // ValueError on bad settings
  // q (B,T,C), k (B,T,Ckv) rotated in place (k may hold fewer heads of the
  // same size: grouped-query attention); positions (T) or (B,T) int64, or
  // undefined = 0 … T−1.
  void operator()(Tensor& q, Tensor& k, const Tensor& positions) const;
  const RopeOptions& options() const { return opt_; }

 private:
  int64_t n_heads_, head_size_;
  RopeOptions opt_;
};

// ALiBi head slopes (Press et al. 2022, §3): for n a power of two the
// geometric sequence 2^(−8/n), 2^(−16/n), …; otherwise the slopes of the
// largest power of two p < n followed by every other slope of 2p, the first
// n − p of them. (n) float32.
Tensor alibi_slopes(int64_t n_heads);

// T5's relative position bias (Raffel et al. 2020, §2.1; the bucketing of
// Hugging Face's T5Attention._relative_position_bucket): the offset j − i of
// key j from query i falls into one of num_buckets buckets — one per offset
// below num_buckets/2 (a quarter with bidirectional, which gives keys before
// and after the query their own halves), log-spaced up to max_distance, and
// one for everything farther — and each bucket has a learned scalar per head,
// added to the attention scores.
int64_t t5_bucket(int64_t relative, bool bidirectional, int64_t num_buckets, int64_t max_distance);

class T5RelativeBias : public Module {
 public:
  T5RelativeBias(int64_t num_buckets, int64_t max_distance, int64_t n_heads, bool bidirectional, Generator& gen);
  // The (1,H,T,S) bias of T queries over S keys, query t at key position
  // t + S − T (bottom-right aligned, as with a KV cache). Differentiable.
  Tensor forward(int64_t T, int64_t S) const;
  int64_t num_buckets, max_distance, n_heads;
  bool bidirectional;
  std::shared_ptr<Embedding> relative_attention_bias;  // (num_buckets, H)
};

// Relative position representations (Shaw et al. 2018, §3): learned key and
// value vectors per clipped distance, w^K and w^V (2k+1, hs) — one pair per
// layer, shared by its heads — with a^K_ij = w^K_{clip(j−i,−k,k)} (a^V alike):
//   e_ij = (x_i W^Q)·(x_j W^K + a^K_ij) / √hs          (eq. 4)
//   z_i  = Σ_j α_ij (x_j W^V + a^V_ij)                  (eq. 3)
// nn::MultiHeadAttention calls the two terms when it holds one
// (MultiHeadAttention::add_relative_positions). Query t of T over S keys sits
// at key position t + S − T (bottom-right aligned, as with a KV cache).
class ShawRelativePositions : public Module {
 public:
  // ValueError unless max_distance (k) ≥ 1 and head_size ≥ 1.
  ShawRelativePositions(int64_t max_distance, int64_t head_size, Generator& gen);
  // The score term q·a^K_ij of queries q (B,NH,T,hs) over S keys, unscaled:
  // (q · w^Kᵀ) (B,NH,T,2k+1) gathered by distance → (B,NH,T,S). Differentiable.
  Tensor key_scores(const Tensor& q, int64_t S) const;
  // The value term Σ_j α_ij a^V_ij of probabilities alpha (B,NH,T,S): the
  // probabilities summed per distance (B,NH,T,2k+1) · w^V → (B,NH,T,hs).
  Tensor value_term(const Tensor& alpha) const;
  int64_t max_distance, head_size;
  std::shared_ptr<Embedding> w_k, w_v;  // (2k+1, hs): rows −k … k
};

// What each method makes of distance, as (len, len) matrices for pictures
// (`qkv plot pe`), computed with the model's own pieces:
// rows i, columns j = the cosine similarity of the sinusoidal vectors at
// positions i and j;
Tensor sinusoidal_similarity(int64_t len, int64_t d_model, double base = 10000.0);
// q·k / hs of an all-ones query at position i and an all-ones key at j, both
// rotated by RoPE — Σ_k cos((i − j)θ_k) / (hs/2), the long-term decay of Su et
// al. §3.4.3 (1 on the diagonal);
Tensor rope_similarity(int64_t len, int64_t head_size, const RopeOptions& opt);
// head `head`'s ALiBi bias −m_h·|i − j| (a causal model sees j ≤ i);
Tensor alibi_bias(int64_t len, int64_t n_heads, int64_t head);
// the clipped distance clip(j − i, −k, k) of Shaw et al.'s relative positions;
Tensor relative_distance(int64_t len, int64_t max_distance);
// the cosine similarity of the rows of a learned table (T, C).
Tensor row_cosine_similarity(const Tensor& table);

}  // namespace qkv::nn
