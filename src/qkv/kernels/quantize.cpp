// qkv/kernels/quantize.cpp — building a QuantizedMatrix, and the scalar
// conversions the kernels and tests share (see qkv/kernels/quantized.h).
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "qkv/core/error.h"
#include "qkv/kernels/quantized.h"

namespace qkv::kernels {
namespace {

constexpr int64_t kRowAlign = 64;  // padded K: whole 64-byte vectors for int8 and bf16

template <class T>
T* alloc_aligned(int64_t count) {
  const size_t bytes = (static_cast<size_t>(std::max<int64_t>(count, 1)) * sizeof(T) + 63) / 64 * 64;
  void* p = std::aligned_alloc(64, bytes);
  if (!p) throw Error("QuantizedMatrix: out of memory allocating " + std::to_string(bytes) + " bytes");
  return static_cast<T*>(p);
}

}  // namespace

const char* weight_format_name(WeightFormat f) {
  switch (f) {
    case WeightFormat::F32: return "f32";
    case WeightFormat::BF16: return "bf16";
    case WeightFormat::Int8: return "int8";
  }
  return "?";
}

WeightFormat parse_weight_format(const std::string& s) {
  for (WeightFormat f : {WeightFormat::F32, WeightFormat::BF16, WeightFormat::Int8})
    if (s == weight_format_name(f)) return f;
  throw ValueError("weight format must be f32, bf16 or int8, got '" + s + "'");
}

uint16_t float_to_bf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<uint16_t>((u >> 16) | 0x40);  // quiet NaN
  // Round to nearest even: add 0x7FFF plus the lowest kept bit, then truncate.
  u += 0x7FFFu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}

float bf16_to_float(uint16_t h) {
  const uint32_t u = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

void quantize_row_q8(const float* x, int64_t K, int64_t Kp, int8_t* q, float* scales) {
  for (int64_t b0 = 0; b0 < Kp; b0 += kQ8Block) {
    const int64_t n = std::clamp<int64_t>(K - b0, 0, kQ8Block);
    float amax = 0.0f;
    bool finite = true;
    for (int64_t i = 0; i < n; ++i) {
      amax = std::max(amax, std::fabs(x[b0 + i]));
      finite = finite && std::isfinite(x[b0 + i]);
    }
    if (!finite) {  // NaN/Inf cannot be an int8: a NaN scale carries it to the sums
      std::memset(q + b0, 0, kQ8Block);
      scales[b0 / kQ8Block] = std::nanf("");
      continue;
    }
    // d = max|x|/127 and q = round(x/d): |q| ≤ 127, |x − d·q| ≤ d/2.
    // Division, not a multiply by 1/d: keeps the d/2 bound (to rounding).
    const float d = amax / 127.0f;
    for (int64_t i = 0; i < n; ++i)
      q[b0 + i] = d > 0.0f ? static_cast<int8_t>(std::nearbyint(x[b0 + i] / d)) : int8_t{0};
    for (int64_t i = n; i < kQ8Block; ++i) q[b0 + i] = 0;
    scales[b0 / kQ8Block] = d;
  }
}

void QuantizedMatrix::Free::operator()(void* p) const { std::free(p); }

float QuantizedMatrix::q8_scale(int64_t n, int64_t b) const {
  float d;
  std::memcpy(&d, row(n) + q8_.scale_offset(b), sizeof(float));
  return d;
}

QuantizedMatrix QuantizedMatrix::quantize(const float* W, int64_t N, int64_t K, int64_t ldw, WeightFormat format) {
  if (format != WeightFormat::BF16 && format != WeightFormat::Int8)
    throw ValueError(std::string("QuantizedMatrix: format must be bf16 or int8, got ") + weight_format_name(format));
  if (N < 0 || K < 0 || ldw < K)
    throw ValueError("QuantizedMatrix: bad shape N=" + std::to_string(N) + " K=" + std::to_string(K) +
                     " ldw=" + std::to_string(ldw));
  for (int64_t n = 0; n < N; ++n)
    for (int64_t k = 0; k < K; ++k)
      if (!std::isfinite(W[n * ldw + k]))
        throw ValueError("QuantizedMatrix: weight (" + std::to_string(n) + ", " + std::to_string(k) +
                         ") is not finite");
  QuantizedMatrix q;
  q.format_ = format;
  q.N_ = N;
  q.K_ = K;
  q.Kp_ = std::max<int64_t>(kRowAlign, (K + kRowAlign - 1) / kRowAlign * kRowAlign);
  if (format == WeightFormat::Int8) {
    q.q8_.chunks = q.Kp_ / 64;
    q.row_bytes_ = q.q8_.row_bytes();
    q.data_.reset(alloc_aligned<std::byte>(N * q.row_bytes_));
#pragma omp parallel for schedule(static) if (N * K > (1 << 20))
    for (int64_t n = 0; n < N; ++n) {
      std::vector<int8_t> v(q.Kp_);
      std::vector<float> d(q.Kp_ / kQ8Block);
      quantize_row_q8(W + n * ldw, K, q.Kp_, v.data(), d.data());
      std::byte* row = q.data_.get() + n * q.row_bytes_;
      std::memset(row, 0, q.row_bytes_);
      for (int64_t k = 0; k < q.Kp_; ++k) row[q.q8_.value_offset(k)] = static_cast<std::byte>(v[k]);
      for (int64_t b = 0; b < q.Kp_ / kQ8Block; ++b) std::memcpy(row + q.q8_.scale_offset(b), &d[b], sizeof(float));
    }
  } else {
    q.row_bytes_ = q.Kp_ * int64_t(sizeof(uint16_t));
    q.data_.reset(alloc_aligned<std::byte>(N * q.row_bytes_));
#pragma omp parallel for schedule(static) if (N * K > (1 << 20))
    for (int64_t n = 0; n < N; ++n) {
      uint16_t* row = reinterpret_cast<uint16_t*>(q.data_.get() + n * q.row_bytes_);
      for (int64_t k = 0; k < K; ++k) row[k] = float_to_bf16(W[n * ldw + k]);
      for (int64_t k = K; k < q.Kp_; ++k) row[k] = 0;
    }
  }
  return q;
}

void QuantizedMatrix::dequantize_rows(int64_t n0, int64_t n1, float* out, int64_t ldo) const {
  for (int64_t n = n0; n < n1; ++n) {
    float* o = out + (n - n0) * ldo;
    if (format_ == WeightFormat::Int8) {
      const auto* r = reinterpret_cast<const int8_t*>(row(n));
      for (int64_t j = 0; j * 64 < K_; ++j) {  // chunk j: blocks 2j, 2j+1 (Q8Layout)
        const int8_t* c = r + q8_.chunk_offset(j);
        float d[2];
        std::memcpy(d, r + q8_.scales_offset(j), sizeof d);
        const int64_t len = std::min<int64_t>(64, K_ - 64 * j);
        for (int64_t i = 0; i < len; ++i) o[64 * j + i] = d[i / 32] * static_cast<float>(c[Q8Layout::in_chunk(i)]);
      }
    } else {
      const uint16_t* h = bf16_row(n);
      for (int64_t k = 0; k < K_; ++k) o[k] = bf16_to_float(h[k]);
    }
  }
}

}  // namespace qkv::kernels
