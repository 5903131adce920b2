// rotary_embedding: RoPE (Su et al. 2021), forward and backward. A rotation's
// transpose is the rotation by the opposite angle, so the backward pass is the
// same loop with sin negated.
#include <cmath>
#include <memory>
#include <vector>

#include "op_util.h"

namespace qkv {
namespace {

const char* kOp = "rotary_embedding";

// cos and sin of p·scale·θ_i for every position row r and pair i, row-major
// (rows, half), θ_i = theta^(−2i/rot_dim), computed in double.
struct Angles {
  int64_t half = 0;
  std::vector<float> cos, sin;
};

Angles make_angles(const std::vector<int64_t>& pos, int64_t rot, const RopeOptions& o) {
  Angles a;
  a.half = rot / 2;
  std::vector<double> inv_freq(static_cast<size_t>(a.half));
  for (int64_t i = 0; i < a.half; ++i) inv_freq[i] = std::pow(o.theta, -2.0 * static_cast<double>(i) / rot);
  a.cos.resize(pos.size() * a.half);
  a.sin.resize(pos.size() * a.half);
  for (size_t r = 0; r < pos.size(); ++r)
    for (int64_t i = 0; i < a.half; ++i) {
      const double angle = static_cast<double>(pos[r]) * o.position_scale * inv_freq[i];
      a.cos[r * a.half + i] = static_cast<float>(std::cos(angle));
      a.sin[r * a.half + i] = static_cast<float>(std::sin(angle));
    }
  return a;
}

struct Geometry {
  int64_t B = 0, T = 0, H = 0, hs = 0, rot = 0;
  bool per_batch = false;  // positions (B,T) rather than (T)
  RopeLayout layout = RopeLayout::RotateHalf;
};

// y = R(sign·φ) x over contiguous (B,T,H·hs) rows.
void rotate(const Geometry& g, const Angles& a, const float* x, float* y, float sign) {
  const int64_t rows = g.B * g.T, C = g.H * g.hs, half = a.half;
#pragma omp parallel for schedule(static) if (rows * C > (1 << 15))
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t pr = g.per_batch ? r : r % g.T;
    const float* cs = a.cos.data() + pr * half;
    const float* sn = a.sin.data() + pr * half;
    for (int64_t h = 0; h < g.H; ++h) {
      const float* xr = x + r * C + h * g.hs;
      float* yr = y + r * C + h * g.hs;
      for (int64_t i = 0; i < half; ++i) {
        const int64_t ia = g.layout == RopeLayout::RotateHalf ? i : 2 * i;
        const int64_t ib = g.layout == RopeLayout::RotateHalf ? i + half : 2 * i + 1;
        const float xa = xr[ia], xb = xr[ib], c = cs[i], s = sign * sn[i];
        yr[ia] = xa * c - xb * s;
        yr[ib] = xa * s + xb * c;
      }
      for (int64_t j = g.rot; j < g.hs; ++j) yr[j] = xr[j];
    }
  }
}

Geometry check_args(const Tensor& x, const Tensor& positions, int64_t n_head, const RopeOptions& o) {
  ops::check_float(x, kOp, "x");
  if (x.dim() != 3) throw ShapeError(std::string(kOp) + ": x must be (B,T,H·hs), got " + shape_str(x.shape()));
  if (n_head <= 0 || x.size(2) % n_head != 0)
    throw ShapeError(std::string(kOp) + ": x " + shape_str(x.shape()) + " has " + std::to_string(x.size(2)) +
                     " features, not a multiple of n_head " + std::to_string(n_head));
  Geometry g;
  g.B = x.size(0), g.T = x.size(1), g.H = n_head, g.hs = x.size(2) / n_head, g.layout = o.layout;
  g.rot = o.rot_dim == 0 ? g.hs : o.rot_dim;
  if (g.rot <= 0 || g.rot % 2 != 0 || g.rot > g.hs)
    throw ValueError(std::string(kOp) + ": rot_dim " + std::to_string(g.rot) +
                     " must be even, positive and at most the head size " + std::to_string(g.hs));
  if (!(o.theta > 0) || !std::isfinite(o.theta) || !(o.position_scale > 0) || !std::isfinite(o.position_scale))
    throw ValueError(std::string(kOp) + ": theta and position_scale must be positive and finite, got " +
                     std::to_string(o.theta) + ", " + std::to_string(o.position_scale));
  if (positions.defined()) {
    if (positions.dtype() != DType::Int64)
      throw ValueError(std::string(kOp) + ": positions must be int64, got " + dtype_name(positions.dtype()));
    g.per_batch = positions.dim() == 2;
    if (positions.shape() != Shape{g.T} && positions.shape() != Shape{g.B, g.T})
      throw ShapeError(std::string(kOp) + ": positions must be (T) or (B,T) = " + shape_str({g.B, g.T}) + ", got " +
                       shape_str(positions.shape()));
  }
  return g;
}

}  // namespace

Tensor rotary_embedding(const Tensor& x, const Tensor& positions, int64_t n_head, const RopeOptions& opt) {
  const Geometry g = check_args(x, positions, n_head, opt);
  std::vector<int64_t> pos;
  if (positions.defined()) {
    pos = positions.to_int_vector();
  } else {
    pos.resize(static_cast<size_t>(g.T));
    for (int64_t t = 0; t < g.T; ++t) pos[t] = t;
  }
  auto angles = std::make_shared<const Angles>(make_angles(pos, g.rot, opt));
  const Tensor xc = x.detach().contiguous();
  Tensor y = Tensor::empty(x.shape());
  if (y.numel() > 0) rotate(g, *angles, xc.data<float>(), y.data<float>(), 1.0f);
  if (!autograd::any_requires_grad({&x})) return y;
  autograd::record(kOp, y, {x}, [g, angles](const Tensor& grad) {
    const Tensor gc = grad.contiguous();
    Tensor dx = Tensor::empty(gc.shape());
    if (dx.numel() > 0) rotate(g, *angles, gc.data<float>(), dx.data<float>(), -1.0f);
    return std::vector<Tensor>{dx};
  });
  return y;
}

}  // namespace qkv
