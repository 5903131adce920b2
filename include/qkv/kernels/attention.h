// qkv/kernels/attention.h — fused scaled dot-product attention, forward and
// backward (Vaswani et al. 2017, §3.2.1), on heads laid out by strides: the
// (BH, T, ·) contiguous heads of scaled_dot_product_attention and the
// (B, T, H·d) heads-side-by-side rows of a Linear projection (multi-head
// attention without transposes or copies) are both just layouts.
#pragma once
#include <cstdint>

namespace qkv::kernels {

// Where row t of head (b, h) of an operand starts, in elements from its base
// pointer: b·sb + h·sh + t·st. Each row is d contiguous elements.
struct HeadLayout {
  int64_t sb = 0, sh = 0, st = 0;
  int64_t at(int64_t b, int64_t h) const { return b * sb + h * sh; }
  // (B·H, L, d) contiguous, one head after another.
  static HeadLayout heads_major(int64_t H, int64_t L, int64_t d) { return {H * L * d, L * d, d}; }
  // (B, L, row) rows with head h at columns h·d … from the base pointer (a
  // Linear's output, or — base advanced to its first column — one part of a
  // fused q|k|v projection of width `row`).
  static HeadLayout rows(int64_t L, int64_t row, int64_t d) { return {L * row, d, row}; }
};

struct AttentionShape {
  int64_t BH = 0;  // problems: batch × heads, bh = b·H + h
  int64_t H = 1;   // heads (BH / H batch entries)
  // Query heads per key/value head (grouped-query attention, Ainslie et al.
  // 2023; 1 = multi-head, H = multi-query): query head h reads key/value
  // head h / kv_group, and the k, v (and dk, dv) layouts index H / kv_group heads.
  int64_t kv_group = 1;
  int64_t T = 0;   // query positions
  int64_t S = 0;   // key/value positions
  int64_t hs = 0;  // query/key head size
  int64_t hv = 0;  // value head size
  float scale = 1.0f;
  bool causal = false;  // t attends to s ≤ t + (S − T)
  // Operand layouts; the gradients dq, dk, dv and the incoming dout have
  // their own (set_heads_major() sets all eight for (BH, ·, ·) tensors).
  HeadLayout q, k, v, out, dq, dk, dv, dout;
  // Optional masks, read as mask[mask_off[bh] + t*mask_st + s*mask_ss]:
  const uint8_t* bool_mask = nullptr;  // 0 = may not attend
  const float* add_mask = nullptr;     // added to the scaled scores
  const int64_t* mask_off = nullptr;   // (BH) offsets
  int64_t mask_st = 0, mask_ss = 0;
  const float* dropout = nullptr;      // (BH,T,S): 0 or 1/(1−p), applied to P
  const float* alibi = nullptr;        // (H) slopes m: adds −m_h·|t + S − T − s| (ALiBi)
  float* dscores = nullptr;            // backward, optional: (BH,T,S), zeroed by the caller; receives
                                       // dL/d(scaled score + mask) at the visible positions — the
                                       // gradient of an additive mask such as a learned relative bias

  void set_heads_major() {
    q = dq = HeadLayout::heads_major(H, T, hs);
    k = dk = HeadLayout::heads_major(H / kv_group, S, hs);
    v = dv = HeadLayout::heads_major(H / kv_group, S, hv);
    out = dout = HeadLayout::heads_major(H, T, hv);
  }
};

// q, k, v → out (layouts in `a`; out, like dq/dk/dv below, is written only at
// its heads' rows); P (BH,T,S) contiguous receives the softmax probabilities
// (before dropout) for the backward pass. Rows with no allowed position get
// P = 0 and out = 0. One parallel region over the BH problems.
void attention_forward(const AttentionShape& a, const float* q, const float* k, const float* v,
                       float* out, float* P);
// dout → dq, dk, dv (overwritten at their heads' rows; they may share one
// buffer, e.g. the gradient of a fused q|k|v projection, as long as the heads'
// rows do not overlap). With kv_group > 1, dk and dv of a key/value head sum
// the kv_group query heads that read it: one parallel task per key/value head
// (B·H/kv_group of them), its query heads in order, so the sum is race-free
// and the same for any thread count.
void attention_backward(const AttentionShape& a, const float* q, const float* k, const float* v,
                        const float* P, const float* dout, float* dq, float* dk, float* dv);

}  // namespace qkv::kernels
