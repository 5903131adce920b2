// Adam and AdamW, in torch.optim's (1.13, single-tensor) update order.
#include "qkv/optim/adam.h"

#include <cmath>

#include "fused.h"

// Bit-for-bit torch.optim: products are rounded where ATen rounds them, and
// fused (std::fma) where ATen's vector kernels fuse them (add with alpha,
// addcmul) — so the compiler must not contract on its own.
#pragma GCC optimize("fp-contract=off")

namespace qkv::optim {

Adam::Adam(std::vector<ParamGroup> groups, float lr, float b1, float b2, float e)
    : Adam(std::move(groups), lr, b1, b2, e, false, "Adam") {}

Adam::Adam(std::vector<ParamGroup> groups, float lr, float b1, float b2, float e, bool decoupled, const char* name)
    : Optimizer(std::move(groups), lr, name), beta1(b1), beta2(b2), eps(e), decoupled_(decoupled) {
  if (!(b1 >= 0.0f && b1 < 1.0f) || !(b2 >= 0.0f && b2 < 1.0f))
    throw ValueError(std::string(name) + ": betas must be in [0, 1), got " + std::to_string(b1) + ", " +
                     std::to_string(b2));
  if (!(e >= 0.0f)) throw ValueError(std::string(name) + ": eps must be >= 0, got " + std::to_string(e));
  add_buffer("exp_avg");
  add_buffer("exp_avg_sq");
}

AdamW::AdamW(std::vector<ParamGroup> groups, float lr, float b1, float b2, float e)
    : Adam(std::move(groups), lr, b1, b2, e, true, "AdamW") {}

namespace {
struct AdamCoeffs {
  float decay, l2, b1, c1, b2, c2, bc2_sqrt, eps, step_size;
  bool do_decay;
};

// One piece [b, e) of one parameter: p (param), g (grad), m, v (moments).
void adam_piece(float* __restrict p, const float* __restrict g, float* __restrict m, float* __restrict v, int64_t b,
                int64_t e, const AdamCoeffs k) {
  const float decay = k.do_decay ? k.decay : 1.0f;  // p·1 is exact
  const float l2 = k.l2, b1 = k.b1, c1 = k.c1, b2 = k.b2, c2 = k.c2, bc2 = k.bc2_sqrt, eps = k.eps;
  const float neg_step = -k.step_size;
#pragma omp simd
  for (int64_t j = b; j < e; ++j) {
    const float pj = p[j] * decay;                     // p.mul_(1 − lr·wd)            (AdamW)
    const float gj = std::fma(pj, l2, g[j]);           // g.add(p, alpha=wd)           (Adam)
    const float mj = std::fma(gj, c1, m[j] * b1);      // m.mul_(β1).add_(g, alpha=1−β1)
    const float vj = std::fma(c2 * gj, gj, v[j] * b2); // v.mul_(β2).addcmul_(g, g, value=1−β2)
    m[j] = mj;
    v[j] = vj;
    const float denom = std::sqrt(vj) / bc2 + eps;     // (√v / √bc2).add_(ε)
    p[j] = pj + neg_step * mj / denom;                 // p.addcdiv_(m, denom, value=−step_size)
  }
}
}  // namespace

void Adam::step() {
  for_each_with_grad([&](size_t i, const Tensor& param, const Tensor& grad, float wd) {
    // Scalars as torch computes them: Python doubles, rounded to float when
    // they meet a float32 tensor.
    const double t = static_cast<double>(param_step(i));
    const double b1 = beta1, b2 = beta2, lr = lr_;
    AdamCoeffs k;
    k.decay = static_cast<float>(1.0 - lr * static_cast<double>(wd));
    k.do_decay = decoupled_ && wd != 0.0f;
    k.l2 = decoupled_ ? 0.0f : wd;
    k.b1 = beta1, k.b2 = beta2, k.eps = eps;
    k.c1 = static_cast<float>(1.0 - b1), k.c2 = static_cast<float>(1.0 - b2);
    k.step_size = static_cast<float>(lr / (1.0 - std::pow(b1, t)));
    k.bc2_sqrt = static_cast<float>(std::sqrt(1.0 - std::pow(b2, t)));
    float* p = param.data<float>();
    const float* g = grad.data<float>();
    float* m = buffer(0)[i].data<float>();
    float* v = buffer(1)[i].data<float>();
    detail::parallel_pieces(param.numel(), [=](int64_t b, int64_t e) { adam_piece(p, g, m, v, b, e, k); });
  });
}

}  // namespace qkv::optim
