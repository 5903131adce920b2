// matmul and linear through kernels::sgemm. Transposed operands (a view whose
// last two dims are column-major) go to GEMM as a flag, never as a copy.
// linear's forward with a few rows (decoding) uses kernels::gemv_f32 instead;
// its backward always uses the GEMM.
#include <omp.h>

#include "op_util.h"
#include "qkv/kernels/gemm.h"
#include "qkv/kernels/gemv.h"
#include "qkv/kernels/row_invariant.h"

namespace qkv {
namespace {

// How a (…, R, C) operand's last two dims are laid out for GEMM.
struct MatLayout {
  bool trans = false;  // stored column-major: element (r, c) at r + c*ld
  int64_t ld = 0;
};

// Returns the layout if the last two dims are row- or column-major with a
// positive leading dimension; otherwise nullopt (caller makes it contiguous).
std::optional<MatLayout> mat_layout(const Tensor& t) {
  int64_t R = t.size(-2), C = t.size(-1);
  int64_t sr = t.stride(-2), sc = t.stride(-1);
  if ((sc == 1 || C == 1) && (sr >= C || R == 1)) return MatLayout{false, std::max<int64_t>(R == 1 ? C : sr, std::max<int64_t>(C, 1))};
  if ((sr == 1 || R == 1) && (sc >= R || C == 1)) return MatLayout{true, std::max<int64_t>(C == 1 ? R : sc, std::max<int64_t>(R, 1))};
  return std::nullopt;
}

// C (batch…, M, N) = A (batch…, M, K) @ B (batch…, K, N); A and B already
// broadcast-compatible in batch dims; C contiguous.
void batched_gemm(const Tensor& A_, const Tensor& B_, Tensor& C, const Shape& batch) {
  Tensor A = A_, B = B_;
  auto la = mat_layout(A);
  if (!la) { A = A.contiguous(); la = mat_layout(A); }
  auto lb = mat_layout(B);
  if (!lb) { B = B.contiguous(); lb = mat_layout(B); }
  const int64_t M = A.size(-2), K = A.size(-1), N = B.size(-1);
  const int64_t nb = shape_numel(batch);
  Shape ast = ops::broadcast_strides(A, [&] { Shape s = batch; s.push_back(M); s.push_back(K); return s; }());
  Shape bst = ops::broadcast_strides(B, [&] { Shape s = batch; s.push_back(K); s.push_back(N); return s; }());
  const float* ap = A.data<float>();
  const float* bp = B.data<float>();
  float* cp = C.data<float>();
  auto offsets = [&](int64_t i, int64_t& ao, int64_t& bo) {
    ao = bo = 0;
    for (int64_t d = static_cast<int64_t>(batch.size()) - 1; d >= 0; --d) {
      int64_t idx = i % batch[d];
      i /= batch[d];
      ao += idx * ast[d];
      bo += idx * bst[d];
    }
  };
  auto one = [&](int64_t i) {
    int64_t ao, bo;
    offsets(i, ao, bo);
    kernels::sgemm(la->trans, lb->trans, M, N, K, 1.0f, ap + ao, la->ld, bp + bo, lb->ld, 0.0f,
                   cp + i * M * N, N);
  };
  // Many small products: one per thread, each GEMM single-threaded. Few large
  // products: in sequence, each GEMM threaded by the backend.
  bool small = M * N * K < (1 << 21);
  if (nb > 1 && small && omp_get_max_threads() > 1 && !omp_in_parallel()) {
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < nb; ++i) one(i);
  } else {
    for (int64_t i = 0; i < nb; ++i) one(i);
  }
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  ops::check_float(a, "matmul", "a");
  ops::check_float(b, "matmul", "b");
  if (a.dim() == 0 || b.dim() == 0)
    throw ShapeError("matmul: " + shape_str(a.shape()) + " @ " + shape_str(b.shape()) +
                     ": both arguments need at least 1 dim");
  Tensor a1 = a.dim() == 1 ? a.detach().unsqueeze(0) : a.detach();
  Tensor b1 = b.dim() == 1 ? b.detach().unsqueeze(-1) : b.detach();
  int64_t M = a1.size(-2), K = a1.size(-1), K2 = b1.size(-2), N = b1.size(-1);
  if (K != K2)
    throw ShapeError("matmul: " + shape_str(a.shape()) + " @ " + shape_str(b.shape()) +
                     ": inner dimensions " + std::to_string(K) + " and " + std::to_string(K2) + " differ");
  Shape abatch(a1.shape().begin(), a1.shape().end() - 2), bbatch(b1.shape().begin(), b1.shape().end() - 2);
  Shape batch = broadcast_shapes(abatch, bbatch, "matmul");
  Shape out_shape = batch;
  out_shape.push_back(M);
  out_shape.push_back(N);
  Tensor out;
  if (bbatch.empty() && !abatch.empty()) {
    // (…, M, K) @ (K, N): fold the batch into M — one GEMM.
    Tensor a2 = a1.reshape({-1, K});
    Tensor o2 = Tensor::empty({a2.size(0), N});
    batched_gemm(a2, b1, o2, {});
    out = o2.view(out_shape);
  } else {
    out = Tensor::empty(out_shape);
    if (out.numel() > 0) {
      if (K == 0) out.fill_(0);
      else batched_gemm(a1, b1, out, batch);
    }
  }
  // Undo the vector promotions.
  Shape final_shape = batch;
  if (a.dim() > 1) final_shape.push_back(M);
  if (b.dim() > 1) final_shape.push_back(N);
  out = out.reshape(final_shape);
  if (!autograd::any_requires_grad({&a, &b})) return out;
  Shape as = a.shape(), bs = b.shape(), a1s = a1.shape(), b1s = b1.shape();
  bool ga = a.requires_grad(), gb = b.requires_grad();
  autograd::record("matmul", out, {a, b}, [a1, b1, out_shape, as, bs, a1s, b1s, ga, gb, K, N](const Tensor& g) {
    Tensor g1 = g.reshape(out_shape);
    Tensor da, db;
    if (ga) da = sum_to(matmul(g1, b1.transpose(-1, -2)), a1s).reshape(as);
    if (gb) {
      if (b1s.size() == 2 && a1s.size() > 2)  // fold batch: (K, BM) @ (BM, N)
        db = matmul(a1.reshape({-1, K}).t(), g1.reshape({-1, N})).reshape(bs);
      else
        db = sum_to(matmul(a1.transpose(-1, -2), g1), b1s).reshape(bs);
    }
    return std::vector<Tensor>{da, db};
  });
  return out;
}

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  ops::check_float(x, "linear", "input");
  ops::check_float(weight, "linear", "weight");
  if (weight.dim() != 2)
    throw ShapeError("linear: weight must be 2-D (out, in), got " + shape_str(weight.shape()));
  if (x.dim() == 0 || x.size(-1) != weight.size(1))
    throw ShapeError("linear: input " + shape_str(x.shape()) + " and weight " + shape_str(weight.shape()) +
                     ": input features " + (x.dim() ? std::to_string(x.size(-1)) : std::string("?")) +
                     " != weight in_features " + std::to_string(weight.size(1)));
  const int64_t in = weight.size(1), outf = weight.size(0);
  if (bias.defined()) {
    ops::check_float(bias, "linear", "bias");
    if (bias.shape() != Shape{outf})
      throw ShapeError("linear: bias " + shape_str(bias.shape()) + " must be [" + std::to_string(outf) + "]");
  }
  Tensor x2 = x.detach().reshape({-1, in}).contiguous();
  Tensor w = weight.detach().contiguous();
  const int64_t rows = x2.size(0);
  Tensor y2 = Tensor::empty({rows, outf});
  // Under kernels::RowInvariantScope each row is computed as it would be alone
  // (M = 1): by the GEMV when one row would use it, else by one GEMM per row.
  const bool invariant = kernels::row_invariant();
  if (rows > 0 && outf > 0 && in > 0 && kernels::gemv_f32_wins(invariant ? 1 : rows, in)) {
    // Decoding (a few rows): stream W once; faster than the GEMM here (bench/RESULTS.md).
    Tensor b = bias.defined() ? bias.detach().contiguous() : Tensor();
    kernels::gemv_f32(rows, outf, in, x2.data<float>(), in, w.data<float>(), in,
                      b.defined() ? b.data<float>() : nullptr, y2.data<float>(), outf);
  } else {
    float beta = 0.0f;
    if (bias.defined()) {  // C starts as the broadcast bias, GEMM adds x Wᵀ
      y2.copy_(bias.detach().expand({rows, outf}));
      beta = 1.0f;
    }
    if (in == 0) {
      if (!bias.defined()) y2.fill_(0);
    } else if (rows > 0 && outf > 0) {
      const int64_t step = invariant ? 1 : rows;
      for (int64_t r = 0; r < rows; r += step)
        kernels::sgemm(false, true, step, outf, in, 1.0f, x2.data<float>() + r * in, in, w.data<float>(), in, beta,
                       y2.data<float>() + r * outf, outf);
    }
  }
  Shape out_shape = x.shape();
  out_shape.back() = outf;
  Tensor out = y2.view(out_shape);
  if (!autograd::any_requires_grad({&x, &weight, &bias})) return out;
  Shape xs = x.shape();
  bool gx = x.requires_grad(), gw = weight.requires_grad(), gbias = bias.defined() && bias.requires_grad();
  autograd::record("linear", out, {x, weight, bias}, [x2, w, xs, gx, gw, gbias, rows, in, outf](const Tensor& g) {
    Tensor g2 = g.reshape({rows, outf}).contiguous();
    Tensor dx, dw, db;
    if (gx) {  // dx (rows,in) = g (rows,out) @ W (out,in)
      dx = Tensor::empty({rows, in});
      kernels::sgemm(false, false, rows, in, outf, 1.0f, g2.data<float>(), outf, w.data<float>(), in, 0.0f,
                     dx.data<float>(), in);
      dx = dx.view(xs);
    }
    if (gw) {  // dW (out,in) = gᵀ (out,rows) @ x (rows,in)
      dw = Tensor::empty({outf, in});
      kernels::sgemm(true, false, outf, in, rows, 1.0f, g2.data<float>(), outf, x2.data<float>(), in, 0.0f,
                     dw.data<float>(), in);
    }
    if (gbias) db = sum(g2, {0});
    return std::vector<Tensor>{dx, dw, db};
  });
  return out;
}

}  // namespace qkv
