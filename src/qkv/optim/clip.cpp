// Global gradient-norm clipping.
#include "qkv/optim/clip.h"

#include <cmath>

#include "fused.h"

namespace qkv::optim {

namespace {
// Σx² in double over fixed 4096-element blocks summed in order, so the value
// does not depend on how the blocks are spread over threads.
double sum_squares(const float* x, int64_t n) {
  constexpr int64_t kBlock = 4096;
  const int64_t nb = (n + kBlock - 1) / kBlock;
  std::vector<double> part(nb);
#pragma omp parallel for schedule(static) if (n >= 2 * detail::kParallelMin)
  for (int64_t bi = 0; bi < nb; ++bi) {
    const int64_t b = bi * kBlock, e = std::min(n, b + kBlock);
    double s = 0;
#pragma omp simd reduction(+ : s)
    for (int64_t j = b; j < e; ++j) s += static_cast<double>(x[j]) * x[j];
    part[bi] = s;
  }
  double s = 0;
  for (double v : part) s += v;
  return s;
}

std::vector<Tensor> grads_of(const std::vector<Tensor>& params) {
  std::vector<Tensor> gs;
  for (const Tensor& p : params) {
    if (!p.defined()) continue;
    Tensor g = p.grad();
    if (!g.defined()) continue;
    if (g.dtype() != DType::Float32) throw ValueError("clip_grad_norm: gradients must be float32");
    if (!g.is_contiguous()) {  // scale a private contiguous copy
      g = g.contiguous().clone();
      Tensor(p).set_grad(g);
    }
    gs.push_back(g);
  }
  return gs;
}

double total_norm(const std::vector<Tensor>& gs) {
  double total = 0;
  for (const Tensor& g : gs) total += sum_squares(g.data<float>(), g.numel());
  return std::sqrt(total);
}
}  // namespace

float grad_norm(const std::vector<Tensor>& params) {
  double total = 0;
  for (const Tensor& p : params) {
    if (!p.defined() || !p.grad().defined()) continue;
    Tensor g = p.grad().contiguous();
    total += sum_squares(g.data<float>(), g.numel());
  }
  return static_cast<float>(std::sqrt(total));
}

float clip_grad_norm(const std::vector<Tensor>& params, float max_norm) {
  if (!(max_norm > 0.0f)) throw ValueError("clip_grad_norm: max_norm must be > 0, got " + std::to_string(max_norm));
  std::vector<Tensor> gs = grads_of(params);
  const float total = static_cast<float>(total_norm(gs));
  // torch: clip_coef = max_norm / (total + 1e-6), clamped to 1, multiplied in
  // unconditionally (×1 is exact, so skipping it changes nothing). A
  // non-finite total leaves the grads as they are (torch would fill them with
  // NaN); the caller sees the returned value.
  const float coef = max_norm / (total + 1e-6f);
  if (!(coef < 1.0f)) return total;
  for (Tensor& g : gs) {
    float* x = g.data<float>();
    detail::parallel_pieces(g.numel(), [x, coef](int64_t b, int64_t e) {
#pragma omp simd
      for (int64_t j = b; j < e; ++j) x[j] *= coef;
    });
  }
  return total;
}

}  // namespace qkv::optim
