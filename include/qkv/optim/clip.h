// qkv/optim/clip.h — global gradient-norm clipping (Pascanu et al. 2013).
#pragma once
#include <vector>

#include "qkv/core/tensor.h"

namespace qkv::optim {

// As torch.nn.utils.clip_grad_norm_: total = ‖(‖g_1‖₂, …, ‖g_n‖₂)‖₂ over the
// parameters that have a grad; every grad is scaled in place by
// min(1, max_norm / (total + 1e-6)). Returns the total norm before clipping.
// Sums in double, in a fixed order (independent of the thread count). A
// non-finite total is returned with the grads left unscaled.
float clip_grad_norm(const std::vector<Tensor>& params, float max_norm);

// The total norm alone (no clipping).
float grad_norm(const std::vector<Tensor>& params);

}  // namespace qkv::optim
