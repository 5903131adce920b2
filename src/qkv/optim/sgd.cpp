// SGD with momentum (torch.optim.SGD, dampening 0).
#include "qkv/optim/sgd.h"

#include <cmath>

#include "fused.h"

// Bit-for-bit torch.optim: products are rounded where ATen rounds them, and
// fused (std::fma) where ATen's add-with-alpha fuses them — so the compiler
// must not contract on its own.
#pragma GCC optimize("fp-contract=off")

namespace qkv::optim {

SGD::SGD(std::vector<ParamGroup> groups, float lr, float momentum_, bool nesterov_)
    : Optimizer(std::move(groups), lr, "SGD"), momentum(momentum_), nesterov(nesterov_) {
  if (!(momentum >= 0.0f)) throw ValueError("SGD: momentum must be >= 0, got " + std::to_string(momentum));
  if (nesterov && momentum == 0.0f) throw ValueError("SGD: nesterov needs momentum > 0");
  if (momentum != 0.0f) add_buffer("momentum_buffer");
}

namespace {
void sgd_piece(float* __restrict p, const float* __restrict g, int64_t b, int64_t e, float lr, float wd) {
#pragma omp simd
  for (int64_t j = b; j < e; ++j) p[j] = std::fma(std::fma(p[j], wd, g[j]), -lr, p[j]);
}

void sgd_momentum_piece(float* __restrict p, const float* __restrict g, float* __restrict buf, int64_t b, int64_t e,
                        float lr, float wd, float mu, bool first, bool nesterov) {
  const float keep = first ? 0.0f : mu;  // first step: buf = d exactly (0·buf + d)
  const float look = nesterov ? mu : 0.0f;
#pragma omp simd
  for (int64_t j = b; j < e; ++j) {
    const float d = std::fma(p[j], wd, g[j]);           // d_p.add(p, alpha=wd)
    const float m = buf[j] * keep + d;                  // buf.mul_(μ).add_(d_p)
    buf[j] = m;
    const float step = nesterov ? std::fma(m, look, d)  // d_p.add(buf, alpha=μ)
                                : m;
    p[j] = std::fma(step, -lr, p[j]);                   // p.add_(d_p, alpha=−lr)
  }
}
}  // namespace

void SGD::step() {
  for_each_with_grad([&](size_t i, const Tensor& param, const Tensor& grad, float wd) {
    float* p = param.data<float>();
    const float* g = grad.data<float>();
    const float lr = lr_, mu = momentum;
    const bool nest = nesterov;
    if (mu == 0.0f) {
      detail::parallel_pieces(param.numel(), [=](int64_t b, int64_t e) { sgd_piece(p, g, b, e, lr, wd); });
      return;
    }
    float* buf = buffer(0)[i].data<float>();
    const bool first = param_step(i) == 1;
    detail::parallel_pieces(param.numel(), [=](int64_t b, int64_t e) {
      sgd_momentum_piece(p, g, buf, b, e, lr, wd, mu, first, nest);
    });
  });
}

}  // namespace qkv::optim
