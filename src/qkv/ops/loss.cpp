// cross_entropy (fused, never materialises one-hot) and mse_loss.
#include "op_util.h"
#include "qkv/kernels/cross_entropy.h"

namespace qkv {

Tensor cross_entropy(const Tensor& logits, const Tensor& targets, const CrossEntropyOptions& opt) {
  ops::check_float(logits, "cross_entropy", "logits");
  ops::check_defined(targets, "cross_entropy", "targets");
  if (targets.dtype() != DType::Int64 && targets.dtype() != DType::Int32)
    throw ValueError(std::string("cross_entropy: targets must be int64, got ") + dtype_name(targets.dtype()));
  if (logits.dim() < 2)
    throw ShapeError("cross_entropy: logits must be (N, V) or (…, V), got " + shape_str(logits.shape()));
  Shape lead(logits.shape().begin(), logits.shape().end() - 1);
  if (targets.shape() != lead)
    throw ShapeError("cross_entropy: logits " + shape_str(logits.shape()) + " need targets of shape " +
                     shape_str(lead) + ", got " + shape_str(targets.shape()));
  if (!(opt.label_smoothing >= 0.0f && opt.label_smoothing <= 1.0f))
    throw ValueError("cross_entropy: label_smoothing must be in [0, 1], got " + std::to_string(opt.label_smoothing));
  const int64_t V = logits.size(-1);
  const int64_t N = shape_numel(lead);
  Tensor x = logits.detach().reshape({N, V}).contiguous();
  Tensor t = targets.dtype() == DType::Int64 ? targets.contiguous() : targets.to(DType::Int64);
  const int64_t* tp = t.data<int64_t>();
  int64_t count = 0;
  for (int64_t i = 0; i < N; ++i) {
    if (tp[i] == opt.ignore_index) continue;
    if (tp[i] < 0 || tp[i] >= V)
      throw ValueError("cross_entropy: target " + std::to_string(tp[i]) + " at position " + std::to_string(i) +
                       " is out of range for " + std::to_string(V) + " classes");
    ++count;
  }
  Tensor loss = Tensor::empty({N}), lse = Tensor::empty({N});
  if (N && V)
    kernels::cross_entropy_forward(x.data<float>(), tp, loss.data<float>(), lse.data<float>(), N, V,
                                   opt.ignore_index, opt.label_smoothing);
  Tensor out;
  using R = CrossEntropyOptions::Reduction;
  {
    NoGradGuard ng;
    if (opt.reduction == R::None) out = loss.reshape(lead);
    else if (opt.reduction == R::Sum) out = sum(loss);
    else out = mul(sum(loss), 1.0f / static_cast<float>(count));  // 0 targets → NaN, as PyTorch
  }
  if (!autograd::any_requires_grad({&logits})) return out;
  CrossEntropyOptions o = opt;
  Shape ls = logits.shape();
  autograd::record("cross_entropy", out, {logits, targets}, [x, t, lse, o, N, V, count, ls](const Tensor& g) {
    Tensor scale;  // per-row factor ∂L/∂loss_i
    if (o.reduction == R::None) {
      scale = g.contiguous().reshape({N});
    } else {
      float s = g.item();
      if (o.reduction == R::Mean) s /= static_cast<float>(count);
      scale = full({N}, s);
    }
    Tensor d = Tensor::empty({N, V});
    if (N && V)
      kernels::cross_entropy_backward(x.data<float>(), t.data<int64_t>(), lse.data<float>(), scale.data<float>(),
                                      d.data<float>(), N, V, o.ignore_index, o.label_smoothing);
    return std::vector<Tensor>{d.view(ls), Tensor()};
  });
  return out;
}

Tensor mse_loss(const Tensor& input, const Tensor& target) {
  ops::check_float(input, "mse_loss", "input");
  ops::check_float(target, "mse_loss", "target");
  if (input.shape() != target.shape())
    throw ShapeError("mse_loss: input " + shape_str(input.shape()) + " and target " + shape_str(target.shape()) +
                     " must have the same shape");
  Tensor d = sub(input, target);
  return mean(mul(d, d));
}

}  // namespace qkv
