// qkv/kernels/quantized.h — weights in fewer bits, for inference only.
//
// Decoding one token streams every weight from memory once (GPT-2 124M: about
// 0.5 GB in f32), so fewer bytes per weight is more tokens per second.
//
//   bf16  each weight rounded to bfloat16 (round to nearest even): 2 bytes.
//   int8  symmetric blocks of 32 along K, as llama.cpp's Q8_0: per block
//         d = max|w| / 127, q = round(w / d) ∈ [−127, 127], w ≈ d·q; so
//         |w − d·q| ≤ d/2. 32 bytes + one f32 scale per block (the scales
//         padded per group of 16): K = 768 is 896 bytes a row, 1.17 bytes
//         per weight; K = 3072 is 3456 bytes, 1.125.
//
//   QuantizedMatrix q = QuantizedMatrix::quantize(W, N, K, K, WeightFormat::Int8);
//   qgemv(M, x, K, q, bias, y, N);            // y(M,N) = x(M,K)·Wᵀ + bias
//
// qgemv with M ≤ kQgemvMaxRows runs the dot products on the stored format:
// int8 quantizes each row of x to int8 in blocks of 32 the same way and sums
// Σ_b d_x·d_w·Σ q_x·q_w with integer dot products (AVX-512 VNNI vpdpbusd, or
// AVX2 vpmaddubsw); bf16 splits x into x_hi + x_lo, both bf16, so only the
// weights are rounded (AVX-512 BF16 vdpbf16ps), or widens the weights to f32
// (AVX2). W is read from memory once for all M rows. Larger M (a long prompt)
// dequantizes panels of W to f32 and uses sgemm (x then stays f32).
// Rows of W are split across one OpenMP team as in gemv_f32; results do not
// depend on the thread count.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace qkv::kernels {

enum class WeightFormat : uint8_t { F32, BF16, Int8 };
const char* weight_format_name(WeightFormat f);  // "f32", "bf16", "int8"
// "f32", "bf16" or "int8"; otherwise ValueError naming the value and the choices.
WeightFormat parse_weight_format(const std::string& s);

inline constexpr int64_t kQ8Block = 32;       // int8: weights per scale
inline constexpr int64_t kQgemvMaxRows = 32;  // qgemv: larger M dequantizes to sgemm

// The int8 layout of a row of Kp values (Kp a multiple of 64), built for the
// kernels; the same order is used for the prepared rows of x:
//  * a chunk of 64 values holds blocks 2j and 2j+1 interleaved by 4 bytes
//    ([4 of block 2j][4 of block 2j+1] …), so the 16 int32 lanes of a
//    vpdpbusd alternate between the two blocks and the pair of scales
//    (d(2j), d(2j+1)) is one 8-byte broadcast;
//  * chunks come in groups of 8, each group followed by its 16 scales (64
//    bytes), so a row is read strictly in address order (one stream).
struct Q8Layout {
  static constexpr int64_t kGroup = 8;                       // chunks per group
  static constexpr int64_t kGroupBytes = kGroup * 64 + 64;   // values + scales
  int64_t chunks = 0;                                        // Kp / 64
  int64_t chunk_offset(int64_t j) const { return (j / kGroup) * kGroupBytes + (j % kGroup) * 64; }
  // byte offset of the scale pair (d(2j), d(2j+1))
  int64_t scales_offset(int64_t j) const {
    const int64_t g = j / kGroup, in_group = std::min(kGroup, chunks - g * kGroup);
    return g * kGroupBytes + in_group * 64 + (j % kGroup) * 8;
  }
  // position of value k (0 ≤ k < Kp) within its chunk: 4-byte groups alternate blocks
  static int64_t in_chunk(int64_t k) { return (k % 32) / 4 * 8 + (k / 32) % 2 * 4 + k % 4; }
  int64_t value_offset(int64_t k) const { return chunk_offset(k / 64) + in_chunk(k); }
  int64_t scale_offset(int64_t b) const { return scales_offset(b / 2) + (b % 2) * 4; }
  int64_t row_bytes() const { return chunks * 64 + (chunks + kGroup - 1) / kGroup * 64; }
};

// A weight matrix (N,K) stored as bf16 or int8 blocks. Rows are padded with
// zeros to K_padded (a multiple of 64) so kernels read whole vectors; the
// padding blocks have scale 0. Rows are 64-byte aligned; an int8 row holds
// its values and scales (Q8Layout). Move-only.
class QuantizedMatrix {
 public:
  // W (N,K), row n at W + n*ldw. format must be BF16 or Int8 (ValueError
  // otherwise, and for a non-finite weight).
  static QuantizedMatrix quantize(const float* W, int64_t N, int64_t K, int64_t ldw, WeightFormat format);

  WeightFormat format() const { return format_; }
  int64_t rows() const { return N_; }           // N
  int64_t cols() const { return K_; }           // K
  int64_t padded_cols() const { return Kp_; }   // K rounded up to 64
  int64_t bytes() const { return N_ * row_bytes_; }  // stored bytes, weights + scales

  // out (n1−n0, K) with row stride ldo: the stored weights as f32.
  void dequantize_rows(int64_t n0, int64_t n1, float* out, int64_t ldo) const;

  // Kernel access: the start of row n (64-byte aligned) and its layout.
  const std::byte* row(int64_t n) const { return data_.get() + n * row_bytes_; }
  const Q8Layout& q8_layout() const { return q8_; }
  const uint16_t* bf16_row(int64_t n) const { return reinterpret_cast<const uint16_t*>(row(n)); }
  // int8: value k (0 ≤ k < Kp) of row n, and the scale of its block b = k / 32.
  int8_t q8_value(int64_t n, int64_t k) const { return static_cast<int8_t>(row(n)[q8_.value_offset(k)]); }
  float q8_scale(int64_t n, int64_t b) const;

 private:
  struct Free {
    void operator()(void* p) const;
  };
  WeightFormat format_ = WeightFormat::Int8;
  int64_t N_ = 0, K_ = 0, Kp_ = 0, row_bytes_ = 0;
  Q8Layout q8_;
  std::unique_ptr<std::byte, Free> data_;
};

// y(M,N) = x(M,K) · Wᵀ + bias, W = q (N,K); x row stride ldx, y row stride ldy
// (overwritten), bias (N) or null. Any M ≥ 0. Threads: the library-wide count,
// or 1 inside a parallel region.
void qgemv(int64_t M, const float* x, int64_t ldx, const QuantizedMatrix& q, const float* bias, float* y,
           int64_t ldy);

// The activation side of the int8 product, exposed for tests: one row x (K)
// to Kp int8 values and Kp/32 scales (same rule as the weights; zero padding).
void quantize_row_q8(const float* x, int64_t K, int64_t Kp, int8_t* q, float* scales);
// Round to nearest even bfloat16 (NaN stays NaN), and back.
uint16_t float_to_bf16(float f);
float bf16_to_float(uint16_t h);

}  // namespace qkv::kernels
