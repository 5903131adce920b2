// Private: the per-ISA row kernels behind kernels::qgemv (qgemv.cpp prepares
// the activations once per call and splits W's rows across threads).
#pragma once
#include <algorithm>
#include <cstdint>

#include "qkv/kernels/gemv.h"
#include "qkv/kernels/quantized.h"

namespace qkv::kernels::detail {

// M rows of x quantized as the int8 weights are (blocks of 32, padded to Kp),
// values in the weights' in-chunk order (Q8Layout: blocks 2j and 2j+1
// interleaved by 4 bytes), chunks contiguous.
struct Q8Rows {
  int64_t M = 0, Kp = 0;
  const int8_t* q = nullptr;      // (M, Kp) q_x, interleaved
  const uint8_t* absq = nullptr;  // (M, Kp) |q_x| (the unsigned operand of vpdpbusd / vpmaddubsw)
  const uint64_t* neg = nullptr;  // (M, Kp/64) bit i of word j: byte i of chunk j is negative
  const float* scales = nullptr;  // (M, Kp/32) d_x by block (logical order: pairs for chunk j at 2j)
  bool single_row_order = false;  // RowInvariantScope: every group takes the loop order of one row
  int64_t row_bytes() const { return 2 * Kp; }  // what a kernel reads per row of x (q_x or the mask, and |q_x|)
  Q8Rows slice(int64_t m0, int64_t mb) const {  // rows m0 … m0+mb−1
    return {mb,           Kp, q + m0 * Kp, absq + m0 * Kp, neg + m0 * (Kp / 64), scales + m0 * (Kp / kQ8Block),
            single_row_order};
  }
};

// M rows of x for the bf16 products, padded with zeros to Kp.
struct Bf16Rows {
  int64_t M = 0, Kp = 0;
  const uint16_t* hi = nullptr;  // (M, Kp) bf16(x), round to nearest even (AVX512-BF16 path)
  const float* f32 = nullptr;    // (M, Kp) x itself (the AVX2 path widens W instead)
  bool single_row_order = false;  // as Q8Rows
  int64_t row_bytes() const { return hi ? 2 * Kp : 4 * Kp; }
  Bf16Rows slice(int64_t m0, int64_t mb) const {  // rows m0 … m0+mb−1
    return {mb, Kp, hi ? hi + m0 * Kp : nullptr, f32 ? f32 + m0 * Kp : nullptr, single_row_order};
  }
};

// y[m*ldy + n] = bias[n] + Σ_k x[m][k]·W[n][k] for rows n ∈ [n0, n1) of W
// and all x.M rows of x.
void q8_rows_avx512_vnni(const Q8Rows& x, const QuantizedMatrix& W, int64_t n0, int64_t n1, const float* bias,
                         float* y, int64_t ldy);
void q8_rows_avx2(const Q8Rows& x, const QuantizedMatrix& W, int64_t n0, int64_t n1, const float* bias, float* y,
                  int64_t ldy);
void bf16_rows_avx512_bf16(const Bf16Rows& x, const QuantizedMatrix& W, int64_t n0, int64_t n1, const float* bias,
                           float* y, int64_t ldy);
void bf16_rows_avx2(const Bf16Rows& x, const QuantizedMatrix& W, int64_t n0, int64_t n1, const float* bias, float* y,
                    int64_t ldy);

// One row of x to bf16 as float_to_bf16 does (round to nearest even, NaN kept
// quiet), zeros from K to Kp; AVX-512 (qgemm_avx512.cpp). Both bf16 paths use it.
void bf16_row_avx512(const float* x, int64_t K, int64_t Kp, uint16_t* out);

// y = x·Wᵀ + bias for many rows of x (a prompt): register-blocked GEMM on
// the stored values (qgemm_avx512.cpp). bf16 rounds x to bf16; int8
// quantizes x as the GEMV path does. Splits W's rows across the team.
void bf16_gemm_avx512_bf16(int64_t M, const float* x, int64_t ldx, const QuantizedMatrix& W, const float* bias,
                           float* y, int64_t ldy);
void q8_gemm_avx512_vnni(int64_t M, const float* x, int64_t ldx, const QuantizedMatrix& W, const float* bias,
                         float* y, int64_t ldy);

inline constexpr int kQMB = 4;           // rows of x per block
inline constexpr int64_t kQPanel = 64;   // rows of W per panel when x has more than kQMB rows

// Rows [n0, n1) of W against the x.M rows of x, calling
// Block<MB, RB>::run(x', W, a, b, bias, y', ldy) for groups x' of MB ≤ 4 rows
// of x, which does rows a, a+RB, … < b of W. Per group: row by row (RB = 1:
// W in memory order, one stream — see gemv.cpp) when the group's prepared
// rows fit in L1 (≤ kGemvRowByRowBytes), else 4 rows of W at a time so each
// load of x feeds 4 products (then the rows left over one by one). More than
// 4 rows of x: panels of 64 rows of W (in L2) against every group, so W still
// comes from memory once.
// Block must have a name of its own in each kernel file (Q8BlockAvx2,
// Q8BlockAvx512, …): GCC 12 gives these instantiations weak linkage even
// when Block sits in an anonymous namespace, so two files' same-named Blocks
// were merged by the linker, and the sanitizer build (less inlining) ran the
// AVX2 blocks on the AVX-512 path.
template <template <int, int> class Block, int RB, class Rows>
void run_block_rows(const Rows& g, const QuantizedMatrix& W, int64_t a, int64_t b, const float* bias, float* yg,
                    int64_t ldy) {
  switch (g.M) {
    case 1: Block<1, RB>::run(g, W, a, b, bias, yg, ldy); break;
    case 2: Block<2, RB>::run(g, W, a, b, bias, yg, ldy); break;
    case 3: Block<3, RB>::run(g, W, a, b, bias, yg, ldy); break;
    default: Block<4, RB>::run(g, W, a, b, bias, yg, ldy); break;
  }
}

template <template <int, int> class Block, class Rows>
void run_row_group(const Rows& g, const QuantizedMatrix& W, int64_t a, int64_t b, const float* bias, float* yg,
                   int64_t ldy) {
  int64_t n = a;
  if ((g.single_row_order ? 1 : g.M) * g.row_bytes() > kGemvRowByRowBytes) {
    n = a + (b - a) / 4 * 4;
    run_block_rows<Block, 4>(g, W, a, n, bias, yg, ldy);
  }
  if (n < b) run_block_rows<Block, 1>(g, W, n, b, bias, yg, ldy);
}

template <class Rows, template <int, int> class Block>
void for_row_blocks(const Rows& x, const QuantizedMatrix& W, int64_t n0, int64_t n1, const float* bias, float* y,
                    int64_t ldy) {
  if (x.M <= kQMB) {
    run_row_group<Block>(x, W, n0, n1, bias, y, ldy);
    return;
  }
  for (int64_t p = n0; p < n1; p += kQPanel)
    for (int64_t m0 = 0; m0 < x.M; m0 += kQMB)
      run_row_group<Block>(x.slice(m0, std::min<int64_t>(kQMB, x.M - m0)), W, p, std::min(n1, p + kQPanel), bias,
                           y + m0 * ldy, ldy);
}

}  // namespace qkv::kernels::detail
