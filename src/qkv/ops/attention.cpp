// scaled_dot_product_attention: a fused op with its own backward kernel.
// Vaswani et al. 2017, §3.2.1: Attention(Q,K,V) = softmax(QKᵀ/√d_k)V.
#include <cmath>

#include "op_util.h"
#include "qkv/kernels/attention.h"

namespace qkv {
namespace {

struct Prepared {
  Tensor q, k, v;           // the operands the kernel reads (layouts in a)
  Shape batch;              // broadcast leading dims (scaled_dot_product_attention)
  kernels::AttentionShape a;
  Tensor mask;              // expanded view of the user mask, or undefined
  std::vector<int64_t> mask_off;
  Tensor dropout_mask;      // (BH,T,S) or undefined
  Tensor alibi;             // (H) contiguous slopes, or undefined
};

// Points the kernel at opt.alibi_slopes, one per head; H is the last batch dim.
void prepare_alibi(Prepared& p, const Shape& batch, const AttentionOptions& opt, const char* op) {
  if (!opt.alibi_slopes.defined()) return;
  const Tensor& m = opt.alibi_slopes;
  const int64_t H = batch.empty() ? 1 : batch.back();
  if (m.dtype() != DType::Float32 || m.dim() != 1 || m.size(0) != H)
    throw ShapeError(std::string(op) + ": alibi_slopes must be float32 (H) = (" + std::to_string(H) +
                     ") for the heads, got " + dtype_name(m.dtype()) + " " + shape_str(m.shape()));
  p.alibi = m.detach().contiguous();
  p.a.alibi = p.alibi.data<float>();
  p.a.H = H;
}

// Points the kernel at opt.mask (broadcast to batch + (T,S), where batch
// multiplies out to a.BH problems) and draws the dropout mask.
void prepare_mask_and_dropout(Prepared& p, const Shape& batch, const AttentionOptions& opt, const char* op) {
  const int64_t BH = p.a.BH;
  if (opt.mask.defined()) {
    const Tensor& m = opt.mask;
    if (m.dtype() != DType::Bool && m.dtype() != DType::UInt8 && m.dtype() != DType::Float32)
      throw ValueError(std::string(op) + ": mask must be bool (true = may attend) or float (added), got " +
                       dtype_name(m.dtype()));
    Shape target = batch;
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
    const size_t nb = batch.size();
    p.mask_off.resize(BH);
    for (int64_t i = 0; i < BH; ++i) {  // offset of each (batch…) slice
      int64_t rem = i, off = p.mask.offset();
      for (int64_t d = static_cast<int64_t>(nb) - 1; d >= 0; --d) {
        off += (rem % batch[d]) * st[d];
        rem /= batch[d];
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
    opt.gen->fill_dropout_mask(dm, p.dropout_mask.numel(), opt.dropout_p, keep);
    p.a.dropout = dm;
  }
  prepare_alibi(p, batch, opt, op);
}

// A float mask that requires grad (a learned relative bias) gets the scores'
// gradient: the kernel writes it into a zeroed (BH,T,S) buffer, summed here to
// the mask's own (broadcast) shape.
bool mask_needs_grad(const AttentionOptions& opt) {
  return opt.mask.defined() && opt.mask.dtype() == DType::Float32 && autograd::any_requires_grad({&opt.mask});
}

// Inputs to record: the operands, plus the mask when it needs a gradient.
std::vector<Tensor> with_mask(std::vector<Tensor> in, const AttentionOptions& opt) {
  if (mask_needs_grad(opt)) in.push_back(opt.mask);
  return in;
}

Tensor mask_gradient(const Tensor& dscores, const Shape& batch, const kernels::AttentionShape& a, const Shape& mask) {
  Shape full = batch;
  full.push_back(a.T);
  full.push_back(a.S);
  return sum_to(dscores.view(full), mask);
}

float default_scale(const AttentionOptions& opt, int64_t hs) {
  return opt.scale ? *opt.scale : 1.0f / std::sqrt(static_cast<float>(std::max<int64_t>(hs, 1)));
}

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
  p.a.scale = default_scale(opt, p.a.hs);
  p.a.causal = opt.causal;
  // Heads are the last batch dim when ALiBi needs to know them (the layouts
  // below are one (T,·) block per problem either way).
  p.a.H = opt.alibi_slopes.defined() && !p.batch.empty() ? p.batch.back() : 1;
  p.a.set_heads_major();
  p.q = q.detach().expand(full_shape(q)).contiguous().reshape({BH, p.a.T, p.a.hs});
  p.k = k.detach().expand(full_shape(k)).contiguous().reshape({BH, p.a.S, p.a.hs});
  p.v = v.detach().expand(full_shape(v)).contiguous().reshape({BH, p.a.S, p.a.hv});
  prepare_mask_and_dropout(p, p.batch, opt, op);
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
  const bool mg = mask_needs_grad(opt);
  if (!autograd::any_requires_grad({&q, &k, &v}) && !mg) return result;
  Shape qs = q.shape(), ks = k.shape(), vs = v.shape(), batch = p.batch, ms = mg ? opt.mask.shape() : Shape{};
  autograd::record("scaled_dot_product_attention", result, with_mask({q, k, v}, opt),
                   [p = std::move(p), P, qs, ks, vs, batch, ms, mg](const Tensor& g) {
    kernels::AttentionShape a = p.a;  // mask_off points into p (kept alive by the closure)
    a.mask_off = p.mask_off.empty() ? nullptr : p.mask_off.data();
    Tensor dscores = mg ? zeros({a.BH, a.T, a.S}) : Tensor();
    if (mg) a.dscores = dscores.data<float>();
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
    std::vector<Tensor> grads{back(dq, qs), back(dk, ks), back(dv, vs)};
    if (mg) grads.push_back(mask_gradient(dscores, batch, a, ms));
    return grads;
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

// ---- multi-head attention on heads side by side in the last dim

namespace {

// An operand (B, L, W) the kernel reads by rows: unit stride in the last dim
// (slices of a fused projection qualify), any other strides.
Tensor by_rows(const Tensor& t) {
  Tensor d = t.detach();
  return d.stride(2) == 1 ? d : d.contiguous();
}

kernels::HeadLayout layout_of(const Tensor& t, int64_t d) { return {t.stride(0), d, t.stride(1)}; }

// Shapes, layouts (output and its gradient: contiguous (B,T,H·hv)), mask and
// dropout for H query heads over (B,T|S,·) operands, k and v holding H / group
// heads (grouped-query attention; group 1 = one key/value head per query head).
Prepared prepare_heads(const Tensor& q, const Tensor& k, const Tensor& v, int64_t H, int64_t hs, int64_t hv,
                       const AttentionOptions& opt, const char* op, int64_t group = 1) {
  Prepared p;
  const int64_t B = q.size(0);
  p.a.BH = B * H;
  p.a.H = H;
  p.a.kv_group = group;
  p.a.T = q.size(1);
  p.a.S = k.size(1);
  p.a.hs = hs;
  p.a.hv = hv;
  p.a.scale = default_scale(opt, hs);
  p.a.causal = opt.causal;
  // The self-attention op passes one tensor three times: prepare it once.
  p.q = by_rows(q);
  p.k = &k == &q ? p.q : by_rows(k);
  p.v = &v == &q ? p.q : &v == &k ? p.k : by_rows(v);
  p.a.q = layout_of(p.q, hs);
  p.a.k = layout_of(p.k, hs);
  p.a.v = layout_of(p.v, hv);
  p.a.out = p.a.dout = kernels::HeadLayout::rows(p.a.T, H * hv, hv);
  prepare_mask_and_dropout(p, {B, H}, opt, op);
  return p;
}

void check_heads(int64_t H, int64_t width, const char* op, const char* what, const Tensor& t) {
  if (H <= 0) throw ValueError(std::string(op) + ": n_head must be positive, got " + std::to_string(H));
  if (width % H != 0)
    throw ShapeError(std::string(op) + ": " + what + " " + shape_str(t.shape()) + " has " + std::to_string(width) +
                     " features, not a multiple of n_head " + std::to_string(H));
}

// Runs the forward kernel on p (operand bases at the given columns) and
// returns the (B,T,H·hv) output and the probabilities P for the backward.
std::pair<Tensor, Tensor> run_heads(const Prepared& p, int64_t qc, int64_t kc, int64_t vc) {
  const auto& a = p.a;
  const int64_t B = a.BH / std::max<int64_t>(a.H, 1);
  Tensor out = Tensor::empty({B, a.T, a.H * a.hv});
  Tensor P = Tensor::empty({a.BH, a.T, a.S});
  if (a.BH * a.T > 0)
    kernels::attention_forward(a, p.q.data<float>() + qc, p.k.data<float>() + kc, p.v.data<float>() + vc,
                               out.data<float>(), P.data<float>());
  return {out, P};
}

}  // namespace

Tensor multi_head_attention(const Tensor& q, const Tensor& k, const Tensor& v, int64_t n_head,
                            const AttentionOptions& opt) {
  const char* op = "multi_head_attention";
  ops::check_float(q, op, "q");
  ops::check_float(k, op, "k");
  ops::check_float(v, op, "v");
  if (q.dim() != 3 || k.dim() != 3 || v.dim() != 3 || k.size(0) != q.size(0) || v.size(0) != q.size(0) ||
      k.size(1) != v.size(1))
    throw ShapeError(std::string(op) + ": need q (B,T,H·hs), k (B,S,Hkv·hs), v (B,S,Hkv·hv); got q " +
                     shape_str(q.shape()) + ", k " + shape_str(k.shape()) + ", v " + shape_str(v.shape()));
  check_heads(n_head, q.size(2), op, "q", q);
  // Key/value heads (grouped-query attention): as many as k's width holds
  // query-sized heads, dividing the query heads evenly.
  const int64_t hs = q.size(2) / n_head;
  const int64_t n_kv = hs > 0 && k.size(2) % hs == 0 ? k.size(2) / hs : 0;
  if (n_kv <= 0 || n_head % n_kv != 0 || v.size(2) % n_kv != 0)
    throw ShapeError(std::string(op) + ": k " + shape_str(k.shape()) + " and v " + shape_str(v.shape()) +
                     " must hold key/value heads of q's head size " + std::to_string(hs) + " (q " +
                     shape_str(q.shape()) + ", n_head " + std::to_string(n_head) +
                     "), a number that divides n_head");
  Prepared p = prepare_heads(q, k, v, n_head, hs, v.size(2) / n_kv, opt, op, n_head / n_kv);
  auto [out, P] = run_heads(p, 0, 0, 0);
  const bool mg = mask_needs_grad(opt);
  if (!autograd::any_requires_grad({&q, &k, &v}) && !mg) return out;
  const Shape ms = mg ? opt.mask.shape() : Shape{};
  autograd::record("multi_head_attention", out, with_mask({q, k, v}, opt), [p = std::move(p), P, ms, mg](const Tensor& g) {
    kernels::AttentionShape a = p.a;
    a.mask_off = p.mask_off.empty() ? nullptr : p.mask_off.data();
    Tensor dscores = mg ? zeros({a.BH, a.T, a.S}) : Tensor();
    if (mg) a.dscores = dscores.data<float>();
    Tensor go = g.contiguous();
    Tensor dq = Tensor::empty(p.q.shape()), dk = Tensor::empty(p.k.shape()), dv = Tensor::empty(p.v.shape());
    a.dq = kernels::HeadLayout::rows(a.T, dq.size(2), a.hs);
    a.dk = kernels::HeadLayout::rows(a.S, dk.size(2), a.hs);
    a.dv = kernels::HeadLayout::rows(a.S, dv.size(2), a.hv);
    if (a.BH * a.T == 0) {
      dq.fill_(0), dk.fill_(0), dv.fill_(0);
    } else {
      if (a.S == 0) dq.fill_(0);  // the kernel writes dq only where keys exist
      kernels::attention_backward(a, p.q.data<float>(), p.k.data<float>(), p.v.data<float>(), P.data<float>(),
                                  go.data<float>(), dq.data<float>(), dk.data<float>(), dv.data<float>());
    }
    std::vector<Tensor> grads{dq, dk, dv};
    if (mg) grads.push_back(mask_gradient(dscores, {a.BH / a.H, a.H}, a, ms));
    return grads;
  });
  return out;
}

Tensor multi_head_self_attention(const Tensor& qkv, int64_t n_head, const AttentionOptions& opt) {
  const char* op = "multi_head_self_attention";
  ops::check_float(qkv, op, "qkv");
  if (qkv.dim() != 3 || qkv.size(2) % 3 != 0)
    throw ShapeError(std::string(op) + ": qkv must be (B,T,3·C) = q | k | v, got " + shape_str(qkv.shape()));
  const int64_t C = qkv.size(2) / 3;
  check_heads(n_head, C, op, "q, k, v (each C wide) of qkv", qkv);
  const int64_t hs = C / n_head;
  Prepared p = prepare_heads(qkv, qkv, qkv, n_head, hs, hs, opt, op);
  auto [out, P] = run_heads(p, 0, C, 2 * C);
  const bool mg = mask_needs_grad(opt);
  if (!autograd::any_requires_grad({&qkv}) && !mg) return out;
  const Shape ms = mg ? opt.mask.shape() : Shape{};
  autograd::record("multi_head_self_attention", out, with_mask({qkv}, opt), [p = std::move(p), P, C, ms, mg](const Tensor& g) {
    kernels::AttentionShape a = p.a;
    a.mask_off = p.mask_off.empty() ? nullptr : p.mask_off.data();
    Tensor go = g.contiguous();
    // One gradient for the fused projection: d(qkv) = dq | dk | dv, every
    // element written by the kernel.
    Tensor d = Tensor::empty(p.q.shape());
    Tensor dscores = mg ? zeros({a.BH, a.T, a.S}) : Tensor();
    if (a.BH * a.T == 0) {
      d.fill_(0);
    } else {
      if (mg) a.dscores = dscores.data<float>();
      a.dq = a.dk = a.dv = kernels::HeadLayout::rows(a.T, 3 * C, a.hs);
      const float* base = p.q.data<float>();
      float* db = d.data<float>();
      kernels::attention_backward(a, base, base + C, base + 2 * C, P.data<float>(), go.data<float>(), db, db + C,
                                  db + 2 * C);
    }
    std::vector<Tensor> grads{d};
    if (mg) grads.push_back(mask_gradient(dscores, {a.BH / a.H, a.H}, a, ms));
    return grads;
  });
  return out;
}

}  // namespace qkv
