// qkv/kernels/attention.h — fused scaled dot-product attention on (BH, T, ·)
// contiguous heads, forward and backward (Vaswani et al. 2017, §3.2.1).
#pragma once
#include <cstdint>

namespace qkv::kernels {

struct AttentionShape {
  int64_t BH = 0;  // batch × heads (independent problems)
  int64_t T = 0;   // query positions
  int64_t S = 0;   // key/value positions
  int64_t hs = 0;  // query/key head size
  int64_t hv = 0;  // value head size
  float scale = 1.0f;
  bool causal = false;  // t attends to s ≤ t + (S − T)
  // Optional masks, read as mask[mask_off[bh] + t*mask_st + s*mask_ss]:
  const uint8_t* bool_mask = nullptr;  // 0 = may not attend
  const float* add_mask = nullptr;     // added to the scaled scores
  const int64_t* mask_off = nullptr;   // (BH) offsets
  int64_t mask_st = 0, mask_ss = 0;
  const float* dropout = nullptr;      // (BH,T,S): 0 or 1/(1−p), applied to P
};

// q (BH,T,hs), k (BH,S,hs), v (BH,S,hv) → out (BH,T,hv); P (BH,T,S) receives the
// softmax probabilities (before dropout) for the backward pass. Rows with no
// allowed position get P = 0 and out = 0.
void attention_forward(const AttentionShape& a, const float* q, const float* k, const float* v,
                       float* out, float* P);
// dout (BH,T,hv) → dq (BH,T,hs), dk (BH,S,hs), dv (BH,S,hv) (overwritten).
void attention_backward(const AttentionShape& a, const float* q, const float* k, const float* v,
                        const float* P, const float* dout, float* dq, float* dk, float* dv);

}  // namespace qkv::kernels
