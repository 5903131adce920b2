// qkv/kernels/cross_entropy.h — fused log-softmax + NLL on (N, V) logits.
#pragma once
#include <cstdint>

namespace qkv::kernels {

// logits (N,V), targets (N); loss (N), lse (N) saved for backward. Rows whose
// target == ignore_index get loss 0. With label smoothing ε:
//   loss = lse − (1−ε)·x[t] − ε·mean_j x[j]   (= (1−ε)·NLL + ε·mean_j(−log p_j))
void cross_entropy_forward(const float* logits, const int64_t* targets, float* loss, float* lse,
                           int64_t N, int64_t V, int64_t ignore_index, float smoothing);
// dlogits (N,V) = gscale[i]·(softmax − (1−ε)·onehot(t) − ε/V); zero for ignored rows.
void cross_entropy_backward(const float* logits, const int64_t* targets, const float* lse,
                            const float* gscale, float* dlogits, int64_t N, int64_t V,
                            int64_t ignore_index, float smoothing);

}  // namespace qkv::kernels
