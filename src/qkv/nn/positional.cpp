// Sinusoidal and learned positional encodings.
#include "qkv/nn/positional.h"

#include <cmath>

#include "qkv/nn/init.h"

namespace qkv::nn {

namespace {
// (rows, d) table of Vaswani et al. 2017 §3.5, in double then rounded.
Tensor sinusoid_table(int64_t rows, int64_t d) {
  Tensor t = Tensor::empty({rows, d});
  float* p = t.data<float>();
  for (int64_t pos = 0; pos < rows; ++pos)
    for (int64_t i = 0; 2 * i < d; ++i) {
      const double angle = static_cast<double>(pos) / std::pow(10000.0, static_cast<double>(2 * i) / d);
      p[pos * d + 2 * i] = static_cast<float>(std::sin(angle));
      if (2 * i + 1 < d) p[pos * d + 2 * i + 1] = static_cast<float>(std::cos(angle));
    }
  return t;
}
}  // namespace

SinusoidalPositionalEncoding::SinusoidalPositionalEncoding(int64_t d, int64_t max_len) : d_model(d) {
  if (d <= 0) throw ValueError("SinusoidalPositionalEncoding: d_model must be positive, got " + std::to_string(d));
  if (max_len <= 0)
    throw ValueError("SinusoidalPositionalEncoding: max_len must be positive, got " + std::to_string(max_len));
  table_ = sinusoid_table(max_len, d);
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
    table_ = sinusoid_table(std::max(offset + T, 2 * table_.size(0)), d_model);
  return table_.narrow(0, offset, T);
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

}  // namespace qkv::nn
