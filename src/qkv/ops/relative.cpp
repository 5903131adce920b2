// relative_gather / relative_scatter: Shaw et al. 2018's clipped relative
// distances between T queries and S keys (see qkv/ops/ops.h). Each op is the
// other's adjoint, so each one's backward is a call of the other.
#include <algorithm>

#include "op_util.h"

namespace qkv {
namespace {

// Row r of a (2k+1) table for query t and key s: clip(s − (t + S − T), −k, k) + k.
inline int64_t clipped_row(int64_t t, int64_t s, int64_t T, int64_t S, int64_t k) {
  return std::clamp(s - (t + S - T), -k, k) + k;
}

// x (N,T,R) → y (N,T,S): y[n,t,s] = x[n,t,row(t,s)].
void gather_rows(const float* x, float* y, int64_t N, int64_t T, int64_t S, int64_t k) {
  const int64_t R = 2 * k + 1;
#pragma omp parallel for if (N * T * S > (1 << 16))
  for (int64_t nt = 0; nt < N * T; ++nt) {
    const int64_t t = nt % T;
    const float* xr = x + nt * R;
    float* yr = y + nt * S;
    for (int64_t s = 0; s < S; ++s) yr[s] = xr[clipped_row(t, s, T, S, k)];
  }
}

// p (N,T,S) → y (N,T,R): y[n,t,r] = Σ_{s: row(t,s)=r} p[n,t,s], summed in
// key order (the same for any thread count).
void scatter_rows(const float* p, float* y, int64_t N, int64_t T, int64_t S, int64_t k) {
  const int64_t R = 2 * k + 1;
#pragma omp parallel for if (N * T * S > (1 << 16))
  for (int64_t nt = 0; nt < N * T; ++nt) {
    const int64_t t = nt % T;
    const float* pr = p + nt * S;
    float* yr = y + nt * R;
    std::fill(yr, yr + R, 0.0f);
    for (int64_t s = 0; s < S; ++s) yr[clipped_row(t, s, T, S, k)] += pr[s];
  }
}

void check_rows(const Tensor& x, const char* op, const char* what) {
  ops::check_float(x, op, what);
  if (x.dim() < 2)
    throw ShapeError(std::string(op) + ": " + what + " must be (…,T,…) with at least 2 dims, got " +
                     shape_str(x.shape()));
}

}  // namespace

Tensor relative_gather(const Tensor& x, int64_t S) {
  const char* op = "relative_gather";
  check_rows(x, op, "x");
  const int64_t R = x.size(-1), T = x.size(-2);
  if (R % 2 != 1)
    throw ShapeError(std::string(op) + ": x's last dim must be 2k+1 (odd), got " + shape_str(x.shape()));
  if (S < 0) throw ValueError(std::string(op) + ": S must be >= 0, got " + std::to_string(S));
  const int64_t k = (R - 1) / 2, N = T > 0 ? x.numel() / (T * R) : 0;
  Shape out_shape = x.shape();
  out_shape.back() = S;
  Tensor y = Tensor::empty(out_shape);
  const Tensor xc = x.detach().contiguous();
  if (y.numel() > 0) gather_rows(xc.data<float>(), y.data<float>(), N, T, S, k);
  autograd::record(op, y, {x}, [k](const Tensor& g) { return std::vector<Tensor>{relative_scatter(g, k)}; });
  return y;
}

Tensor relative_scatter(const Tensor& p, int64_t k) {
  const char* op = "relative_scatter";
  check_rows(p, op, "p");
  if (k < 0) throw ValueError(std::string(op) + ": the clipping distance k must be >= 0, got " + std::to_string(k));
  const int64_t S = p.size(-1), T = p.size(-2), R = 2 * k + 1, N = T > 0 && S > 0 ? p.numel() / (T * S) : 0;
  Shape out_shape = p.shape();
  out_shape.back() = R;
  Tensor y = zeros(out_shape);
  const Tensor pc = p.detach().contiguous();
  if (N > 0) scatter_rows(pc.data<float>(), y.data<float>(), N, T, S, k);
  autograd::record(op, y, {p}, [S](const Tensor& g) { return std::vector<Tensor>{relative_gather(g, S)}; });
  return y;
}

}  // namespace qkv
