// linear_quantized: shape checks, then kernels::qgemv (see qkv/ops/quantized.h).
#include "qkv/ops/quantized.h"

#include "op_util.h"

namespace qkv {

Tensor linear_quantized(const Tensor& x, const QuantizedMatrix& w, const Tensor& bias) {
  const int64_t N = w.rows(), K = w.cols();
  const std::string what = std::string("linear (") + kernels::weight_format_name(w.format()) + " weights [" +
                           std::to_string(N) + "," + std::to_string(K) + "])";
  if (autograd::grad_enabled())
    throw ValueError(what + ": quantized weights are for inference only and have no gradient; "
                            "run under NoGradGuard (training needs the f32 weights)");
  ops::check_float(x, what.c_str(), "input");
  if (x.dim() == 0 || x.size(-1) != K)
    throw ShapeError(what + ": input " + shape_str(x.shape()) + " has " +
                     (x.dim() ? std::to_string(x.size(-1)) : std::string("no")) + " features, expected " +
                     std::to_string(K));
  Tensor b;
  if (bias.defined()) {
    ops::check_float(bias, what.c_str(), "bias");
    if (bias.shape() != Shape{N})
      throw ShapeError(what + ": bias " + shape_str(bias.shape()) + " must be [" + std::to_string(N) + "]");
    b = bias.contiguous();
  }
  Tensor x2 = x.reshape({-1, K}).contiguous();  // (rows, K)
  const int64_t rows = x2.size(0);
  Tensor y2 = Tensor::empty({rows, N});
  kernels::qgemv(rows, x2.data<float>(), K, w, b.defined() ? b.data<float>() : nullptr, y2.data<float>(), N);
  Shape out_shape = x.shape();
  out_shape.back() = N;
  return y2.view(out_shape);
}

}  // namespace qkv
