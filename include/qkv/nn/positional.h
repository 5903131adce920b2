// qkv/nn/positional.h — position information added to token embeddings.
#pragma once
#include <cstdint>
#include <mutex>

#include "qkv/core/rng.h"
#include "qkv/nn/module.h"

namespace qkv::nn {

// Vaswani et al. 2017, §3.5: PE(pos, 2i) = sin(pos / 10000^(2i/d)),
// PE(pos, 2i+1) = cos(pos / 10000^(2i/d)). The table is computed (in double)
// once for max_len rows and grows itself when a longer range is asked for, so
// a model works past its training length. No parameters; the table is not part
// of the state dict (it is a function of d_model alone).
class SinusoidalPositionalEncoding : public Module {
 public:
  explicit SinusoidalPositionalEncoding(int64_t d_model, int64_t max_len = 4096);
  // Rows offset .. offset+T−1 of the table: (T, C), no gradient.
  Tensor forward(int64_t T, int64_t offset = 0) const;
  int64_t d_model;
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

}  // namespace qkv::nn
