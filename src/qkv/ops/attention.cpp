// scaled_dot_product_attention: a fused op with its own backward kernel.
// Vaswani et al. 2017, §3.2.1: Attention(Q,K,V) = softmax(QKᵀ/√d_k)V.
#include <cmath>

#include "op_util.h"
#include "qkv/kernels/attention.h"

namespace qkv {
namespace {

struct Prepared {
  Tensor q, k, v;           // contiguous (BH, T|S, hs|hv)
  Shape batch;              // broadcast leading dims
  kernels::AttentionShape a;
  Tensor mask;              // expanded view of the user mask, or undefined
  std::vector<int64_t> mask_off;
  Tensor dropout_mask;      // (BH,T,S) or undefined
};

Prepared prepare(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionOptions& opt) {
  const char* op = "scaled_dot_product_attention";
  ops::check_float(q, op, "q");
  ops::check_float(k, op, "k");
  ops::check_float(v, op, "v");
  if (q.dim() < 2 || k.dim() < 2 || v.dim() < 2)
    throw ShapeError(std::string(op) + ": q, k, v need at least 2 dims (…, T, d); got q " + shape_str(q.shape()) +
                     ", k " + shape_str(k.shape()) + ", v " + shape_str(v.shape()));
  if (q.size(-1) != k.size(-1))
    throw ShapeError(std::string(op) + ": q " + shape_str(q.shape()) + " and k " + shape_str(k.shape()) +
                     " must share the head size (last dim)");
  if (k.size(-2) != v.size(-2))
    throw ShapeError(std::string(op) + ": k " + shape_str(k.shape()) + " and v " + shape_str(v.shape()) +
                     " must have the same number of positions (dim -2)");
  Prepared p;
  auto lead = [](const Tensor& t) { return Shape(t.shape().begin(), t.shape().end() - 2); };
  p.batch = broadcast_shapes(broadcast_shapes(lead(q), lead(k), op), lead(v), op);
  auto full_shape = [&](const Tensor& t) {
    Shape s = p.batch;
    s.push_back(t.size(-2));
    s.push_back(t.size(-1));
    return s;
  };
  const int64_t BH = shape_numel(p.batch);
  p.a.BH = BH;
  p.a.T = q.size(-2);
  p.a.S = k.size(-2);
  p.a.hs = q.size(-1);
  p.a.hv = v.size(-1);
  p.a.scale = opt.scale ? *opt.scale : 1.0f / std::sqrt(static_cast<float>(std::max<int64_t>(p.a.hs, 1)));
  p.a.causal = opt.causal;
  p.q = q.detach().expand(full_shape(q)).contiguous().reshape({BH, p.a.T, p.a.hs});
  p.k = k.detach().expand(full_shape(k)).contiguous().reshape({BH, p.a.S, p.a.hs});
  p.v = v.detach().expand(full_shape(v)).contiguous().reshape({BH, p.a.S, p.a.hv});
  if (opt.mask.defined()) {
    const Tensor& m = opt.mask;
    if (m.dtype() != DType::Bool && m.dtype() != DType::UInt8 && m.dtype() != DType::Float32)
      throw ValueError(std::string(op) + ": mask must be bool (true = may attend) or float (added), got " +
                       dtype_name(m.dtype()));
    Shape target = p.batch;
    target.push_back(p.a.T);
    target.push_back(p.a.S);
    Shape bs;
    try {
      bs = broadcast_shapes(m.shape(), target, op);
    } catch (const ShapeError&) {
      bs.clear();  // reported below, naming the mask
    }
    if (bs != target)
      throw ShapeError(std::string(op) + ": mask " + shape_str(m.shape()) + " does not broadcast to " +
                       shape_str(target) + " (batch…, T, S)");
    p.mask = m.detach().expand(target);
    const Shape& st = p.mask.strides();
    const size_t nb = p.batch.size();
    p.mask_off.resize(BH);
    for (int64_t i = 0; i < BH; ++i) {  // offset of each (batch…) slice
      int64_t rem = i, off = p.mask.offset();
      for (int64_t d = static_cast<int64_t>(nb) - 1; d >= 0; --d) {
        off += (rem % p.batch[d]) * st[d];
        rem /= p.batch[d];
      }
      p.mask_off[i] = off;
    }
    p.a.mask_off = p.mask_off.data();
    p.a.mask_st = st[nb];
    p.a.mask_ss = st[nb + 1];
    if (m.dtype() == DType::Float32) p.a.add_mask = static_cast<const float*>(m.impl().storage->data);
    else p.a.bool_mask = static_cast<const uint8_t*>(m.impl().storage->data);
  }
  if (!(opt.dropout_p >= 0.0f && opt.dropout_p < 1.0f))
    throw ValueError(std::string(op) + ": dropout_p must be in [0, 1), got " + std::to_string(opt.dropout_p));
  if (opt.dropout_p > 0.0f) {
    if (!opt.gen) throw ValueError(std::string(op) + ": dropout_p > 0 needs a Generator (opt.gen)");
    p.dropout_mask = Tensor::empty({BH, p.a.T, p.a.S});
    float* dm = p.dropout_mask.data<float>();
    const float keep = 1.0f / (1.0f - opt.dropout_p);
    for (int64_t i = 0, n = p.dropout_mask.numel(); i < n; ++i) dm[i] = opt.gen->uniform() < opt.dropout_p ? 0.0f : keep;
    p.a.dropout = dm;
  }
  return p;
}

}  // namespace

Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                    const AttentionOptions& opt) {
  Prepared p = prepare(q, k, v, opt);
  const auto& a = p.a;
  Tensor out = Tensor::empty({a.BH, a.T, a.hv});
  Tensor P = Tensor::empty({a.BH, a.T, a.S});
  if (a.BH * a.T * a.hv > 0) {
    if (a.S == 0) out.fill_(0);
    else kernels::attention_forward(a, p.q.data<float>(), p.k.data<float>(), p.v.data<float>(), out.data<float>(),
                                    P.data<float>());
  }
  Shape out_shape = p.batch;
  out_shape.push_back(a.T);
  out_shape.push_back(a.hv);
  Tensor result = out.view(out_shape);
  if (!autograd::any_requires_grad({&q, &k, &v})) return result;
  Shape qs = q.shape(), ks = k.shape(), vs = v.shape(), batch = p.batch;
  autograd::record("scaled_dot_product_attention", result, {q, k, v},
                   [p = std::move(p), P, qs, ks, vs, batch](const Tensor& g) {
    kernels::AttentionShape a = p.a;  // mask_off points into p (kept alive by the closure)
    a.mask_off = p.mask_off.empty() ? nullptr : p.mask_off.data();
    Tensor go = g.contiguous().reshape({a.BH, a.T, a.hv});
    // The kernel writes every element of dq, dk, dv.
    Tensor dq = Tensor::empty({a.BH, a.T, a.hs}), dk = Tensor::empty({a.BH, a.S, a.hs}),
           dv = Tensor::empty({a.BH, a.S, a.hv});
    if (a.BH * a.T * a.S == 0) {
      dq.fill_(0);
      dk.fill_(0);
      dv.fill_(0);
    } else {
      kernels::attention_backward(a, p.q.data<float>(), p.k.data<float>(), p.v.data<float>(), P.data<float>(),
                                  go.data<float>(), dq.data<float>(), dk.data<float>(), dv.data<float>());
    }
    auto back = [&](const Tensor& d, const Shape& orig) {
      Shape full = batch;
      full.push_back(d.size(1));
      full.push_back(d.size(2));
      return sum_to(d.view(full), orig);
    };
    return std::vector<Tensor>{back(dq, qs), back(dk, ks), back(dv, vs)};
  });
  return result;
}

Tensor attention_weights(const Tensor& q, const Tensor& k, const AttentionOptions& opt) {
  NoGradGuard ng;
  AttentionOptions o = opt;
  o.dropout_p = 0.0f;
  Tensor vk = zeros(Shape(k.shape().begin(), k.shape().end() - 1)).unsqueeze(-1);
  Prepared p = prepare(q, k, vk, o);
  Tensor out = Tensor::empty({p.a.BH, p.a.T, p.a.hv});
  Tensor P = zeros({p.a.BH, p.a.T, p.a.S});
  if (p.a.BH * p.a.T * p.a.S > 0)
    kernels::attention_forward(p.a, p.q.data<float>(), p.k.data<float>(), p.v.data<float>(), out.data<float>(),
                               P.data<float>());
  Shape s = p.batch;
  s.push_back(p.a.T);
  s.push_back(p.a.S);
  return P.view(s);
}

}  // namespace qkv
