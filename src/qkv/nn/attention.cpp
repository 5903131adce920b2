// MultiHeadAttention (Vaswani et al. 2017, §3.2.2): projections, the cache,
// masks, then one fused multi-head attention op and the output projection.
#include "qkv/nn/attention.h"

#include <limits>

#include "qkv/autograd/autograd.h"
#include "qkv/nn/trace.h"
#include "qkv/ops/ops.h"

namespace qkv::nn {

namespace {
const char* kOp = "MultiHeadAttention";

std::string dims(int64_t B, const std::string& mid, int64_t C) {
  return "(" + std::to_string(B) + "," + mid + "," + std::to_string(C) + ")";
}
}  // namespace

ProjectionNames ProjectionNames::separate(std::string q, std::string k, std::string v, std::string out) {
  ProjectionNames n;
  n.fused = false;
  n.q = std::move(q), n.k = std::move(k), n.v = std::move(v), n.out = std::move(out);
  return n;
}

MultiHeadAttention::MultiHeadAttention(const AttentionConfig& cfg, Generator& gen) : config(cfg), head_size(0) {
  const int64_t C = cfg.d_model, NH = cfg.n_heads;
  if (C <= 0 || NH <= 0 || C % NH != 0)
    throw ValueError(std::string(kOp) + ": d_model (" + std::to_string(C) + ") must be a positive multiple of n_heads (" +
                     std::to_string(NH) + ")");
  if (cfg.kv_dim < 0) throw ValueError(std::string(kOp) + ": kv_dim must be >= 0");
  if (!(cfg.dropout >= 0.0f && cfg.dropout < 1.0f))
    throw ValueError(std::string(kOp) + ": dropout must be in [0, 1), got " + std::to_string(cfg.dropout));
  if (cfg.kv_dim != 0 && !cfg.cross) throw ValueError(std::string(kOp) + ": kv_dim is for cross-attention only");
  const int64_t NKV = cfg.n_kv_heads ? cfg.n_kv_heads : NH;
  if (NKV <= 0 || NH % NKV != 0)
    throw ValueError(std::string(kOp) + ": n_heads (" + std::to_string(NH) + ") must be divisible by n_kv_heads (" +
                     std::to_string(NKV) + ")");
  config.n_kv_heads = NKV;
  config.kv_dim = cfg.kv_dim ? cfg.kv_dim : C;
  head_size = C / NH;
  const int64_t Ckv = config.kv_dim, W = kv_width();  // W: key (and value) width
  const ProjectionNames& n = cfg.names;
  auto lin = [&](const std::string& name, int64_t in, int64_t out) {
    return register_module(name, std::make_shared<Linear>(in, out, cfg.bias, gen));
  };
  if (n.fused && !cfg.cross) {
    qkv_proj = lin(n.qkv, C, C + 2 * W);
  } else if (n.fused) {
    q_proj = lin(n.q, C, C);
    kv_proj = lin(n.kv, Ckv, 2 * W);
  } else {
    q_proj = lin(n.q, C, C);
    k_proj = lin(n.k, Ckv, W);
    v_proj = lin(n.v, Ckv, W);
  }
  if (!n.out.empty()) out_proj = lin(n.out, C, C);
  attn_dropout = register_module("attn_dropout", std::make_shared<Dropout>(cfg.dropout));
  resid_dropout = register_module("resid_dropout", std::make_shared<Dropout>(cfg.dropout));
}

Tensor combine_attention_masks(const Tensor& mask, const Tensor& key_mask) {
  if (mask.defined() && mask.dtype() != DType::Bool && mask.dtype() != DType::Float32)
    throw ValueError(std::string(kOp) + ": mask must be bool (true = may attend) or float32 (added to the scores), got " +
                     dtype_name(mask.dtype()));
  if (!key_mask.defined()) return mask;
  if (key_mask.dtype() != DType::Bool)
    throw ValueError(std::string(kOp) + ": key_mask must be bool (true = real token), got " +
                     dtype_name(key_mask.dtype()));
  if (key_mask.dim() != 2)
    throw ShapeError(std::string(kOp) + ": key_mask must be (B,S), got " + shape_str(key_mask.shape()));
  Tensor keep = key_mask.reshape({key_mask.size(0), 1, 1, key_mask.size(1)});  // (B,1,1,S)
  if (!mask.defined()) return keep;
  Tensor pad;  // −∞ where the key is padding, 0 elsewhere (no gradient)
  {
    NoGradGuard ng;
    pad = masked_fill(zeros(keep.shape()), logical_not(keep), -std::numeric_limits<float>::infinity());
  }
  // A float mask keeps its gradient (a learned relative bias): bias + pad.
  if (mask.dtype() == DType::Float32) return add(mask, pad);
  NoGradGuard ng;
  return gt(mul(mask.to(DType::Float32), keep.to(DType::Float32)), 0.5f);  // AND
}

namespace {

// Query rows b read context row rows[b] of G. When the rows come in equal
// consecutive groups (beam search: K beams per sentence), the K·T queries of
// a group attend to their one context row as one longer query sequence —
// cross-attention has no causal mask, so each query still sees exactly the
// keys it would alone — and nothing is copied: q (B,T,C) is viewed as
// (G,K·T,C). Otherwise keys, values and key mask are gathered per row.
void share_context(const std::vector<int64_t>& rows, int64_t B, Tensor& k, Tensor& v, Tensor& q, Tensor& key_mask,
                   int64_t& Bq, int64_t& group) {
  const int64_t G = k.size(0);
  if (static_cast<int64_t>(rows.size()) != B)
    throw ShapeError(std::string(kOp) + ": context_rows has " + std::to_string(rows.size()) + " entries for " +
                     std::to_string(B) + " query rows");
  for (int64_t r : rows)
    if (r < 0 || r >= G)
      throw ValueError(std::string(kOp) + ": context_rows entry " + std::to_string(r) + " outside the context's " +
                       std::to_string(G) + " rows");
  if (key_mask.defined() && key_mask.dim() >= 1 && key_mask.size(0) != G)
    throw ShapeError(std::string(kOp) + ": with context_rows, key_mask must be (G,S) with the context's G = " +
                     std::to_string(G) + ", got " + shape_str(key_mask.shape()));
  bool grouped = B % G == 0;
  const int64_t K = grouped ? B / G : 1;
  for (int64_t b = 0; grouped && b < B; ++b) grouped = rows[b] == b / K;
  if (grouped) {
    q = q.contiguous().reshape({G, K * q.size(1), q.size(2)});
    Bq = G, group = K;
    return;
  }
  const Tensor idx = tensor_i64(rows, {B});
  k = index_select(k, 0, idx), v = index_select(v, 0, idx);
  if (key_mask.defined()) key_mask = take_rows(key_mask, rows);
}

// --trace: q, k, v as the heads see them — (B,T,C) viewed as (B,NH,T,hs),
// keys and values (B,S,NKV·hs) as (B,NKV,S,hs) — and the probabilities
// softmax(q·kᵀ/√hs) (B,NH,T,S), computed here only for the trace.
void trace_heads(const Module* m, const Tensor& q, const Tensor& k, const Tensor& v, int64_t NH, int64_t NKV,
                 int64_t hs) {
  const int64_t B = q.size(0), T = q.size(1), S = k.size(1);
  const std::string kv = NKV == NH ? "(B,S,C)" : "(B,S,NKV·hs)";
  trace_tensor(m, "q", "(B,T,C)", q, "(B,NH,T,hs)", {B, NH, T, hs});
  trace_tensor(m, "k", kv, k, NKV == NH ? "(B,NH,S,hs)" : "(B,NKV,S,hs)", {k.size(0), NKV, S, hs});
  trace_tensor(m, "v", kv, v, NKV == NH ? "(B,NH,S,hs)" : "(B,NKV,S,hs)", {v.size(0), NKV, S, hs});
}

}  // namespace

struct MultiHeadAttention::Projected {
  Tensor qkv;      // (B,T,3C) when the fused self-attention op can take it whole
  Tensor q, k, v;  // (B,T,C) and (B,S,W) otherwise, W = kv_width()
};

MultiHeadAttention::Projected MultiHeadAttention::project(const Tensor& x, const AttentionArgs& args) const {
  const int64_t B = x.size(0), C = config.d_model, W = kv_width();
  Projected p;
  if (!config.cross) {
    if (qkv_proj) {
      p.qkv = qkv_proj->forward(x, args.gen);  // (B,T,C+2W) = q | k | v, heads side by side
      p.q = p.qkv.narrow(2, 0, C), p.k = p.qkv.narrow(2, C, W), p.v = p.qkv.narrow(2, C + W, W);
      if (W != C) p.qkv = Tensor();  // the fused op takes three equal parts only
    } else {
      p.q = q_proj->forward(x, args.gen), p.k = k_proj->forward(x, args.gen), p.v = v_proj->forward(x, args.gen);
    }
    if (qk_transform) {
      qk_transform(p.q, p.k, args.positions);
      p.qkv = Tensor();
    }
    if (args.cache) {  // append the new keys/values; attend over all of them
      args.cache->append(p.k, p.v);
      p.k = args.cache->keys(), p.v = args.cache->values();
      p.qkv = Tensor();
    }
    return p;
  }
  p.q = q_proj->forward(x, args.gen);
  // With context_rows the context has its own batch (one row per sentence),
  // checked in forward() against the rows that read it.
  const bool own_batch = !args.context_rows.empty();
  if (args.cache && args.cache->len > 0) {  // cross keys/values computed on an earlier call
    if (!own_batch && args.cache->k.size(0) != B)
      throw ShapeError(std::string(kOp) + ": the cache holds batch " + std::to_string(args.cache->k.size(0)) +
                       ", x has " + std::to_string(B));
    p.k = args.cache->keys(), p.v = args.cache->values();
    return p;
  }
  const Tensor& ctx = args.context;
  if (!ctx.defined()) throw ValueError(std::string(kOp) + ": cross-attention needs a context (B,S,C_kv)");
  if (ctx.dim() != 3 || (!own_batch && ctx.size(0) != B) || ctx.size(2) != config.kv_dim)
    throw ShapeError(std::string(kOp) + ": context must be " + dims(B, "S", config.kv_dim) +
                     (own_batch ? " with any batch (context_rows given)" : "") + ", got " + shape_str(ctx.shape()));
  if (kv_proj) {
    std::vector<Tensor> kv = kv_proj->forward(ctx, args.gen).split(W, 2);  // (B,S,2W) → 2 × (B,S,W)
    p.k = kv[0], p.v = kv[1];
  } else {
    p.k = k_proj->forward(ctx, args.gen), p.v = v_proj->forward(ctx, args.gen);
  }
  if (args.cache) args.cache->assign(p.k, p.v);
  return p;
}

AttentionOutput MultiHeadAttention::forward(const Tensor& x, const AttentionArgs& args) const {
  const int64_t C = config.d_model, NH = config.n_heads, hs = head_size;
  if (x.dim() != 3 || x.size(2) != C)
    throw ShapeError(std::string(kOp) + ": x must be (B,T," + std::to_string(C) + "), got " + shape_str(x.shape()));
  if (!config.cross && args.context.defined())
    throw ValueError(std::string(kOp) + ": a self-attention module got a context; configure it with cross = true");
  const int64_t B = x.size(0), T = x.size(1);
  if (!args.context_rows.empty() && !config.cross)
    throw ValueError(std::string(kOp) + ": context_rows is for cross-attention only");
  Projected p = project(x, args);
  const int64_t S = p.k.size(1);
  Tensor q = p.q, key_mask = args.key_mask;  // what the attention op gets, (Bq,Tq,C) and (Bq,S)
  int64_t Bq = B, group = 1;                 // group: query rows per context row (shared keys/values)
  if (!args.context_rows.empty()) share_context(args.context_rows, B, p.k, p.v, q, key_mask, Bq, group);
  if (key_mask.defined() && key_mask.shape() != Shape{Bq, S})
    throw ShapeError(std::string(kOp) + ": key_mask must be (B,S) = " + shape_str({Bq, S}) + ", got " +
                     shape_str(key_mask.shape()));
  AttentionOptions opt;
  opt.mask = combine_attention_masks(args.mask, key_mask);
  opt.causal = args.causal;
  opt.alibi_slopes = alibi_slopes;
  if (is_training() && attn_dropout->p > 0) {
    if (!args.gen) throw ValueError(std::string(kOp) + ": attention dropout in training mode needs args.gen");
    opt.dropout_p = attn_dropout->p;
    opt.gen = args.gen;
  }
  AttentionOutput res;
  const bool traced = tracing();
  if (traced) trace_heads(this, q, p.k, p.v, NH, config.n_kv_heads, hs);
  if ((args.need_weights || traced) && !rel_pos) {
    NoGradGuard ng;
    AttentionOptions wopt = opt;
    wopt.dropout_p = 0.0f;
    auto heads = [&](const Tensor& t, int64_t n) { return t.reshape({t.size(0), t.size(1), n, hs}).transpose(1, 2); };
    const int64_t NKV = config.n_kv_heads;
    Tensor k = heads(p.k, NKV);  // (Bq,NKV,S,hs), each key head repeated for its NH/NKV query heads
    if (NKV != NH) k = k.unsqueeze(2).expand({k.size(0), NKV, NH / NKV, S, hs}).reshape({k.size(0), NH, S, hs});
    res.weights = attention_weights(heads(q, NH), k, wopt);  // (Bq,NH,Tq,S)
    if (group > 1)  // (G,NH,K·T,S) → (G,K,NH,T,S) → (B,NH,T,S)
      res.weights = res.weights.reshape({Bq, NH, group, T, S}).transpose(1, 2).contiguous().reshape({B, NH, T, S});
    trace_tensor(this, "weights", "(B,NH,T,S)", res.weights);
    if (!args.need_weights) res.weights = Tensor();  // computed for the trace alone
  }
  // Heads stay side by side in the projections' rows: no transposes, no copies.
  Tensor y = rel_pos          ? relative_attention(q, p.k, p.v, key_mask, args, res)
             : p.qkv.defined() ? multi_head_self_attention(p.qkv, NH, opt)
                               : multi_head_attention(q, p.k, p.v, NH, opt);  // (Bq,Tq,C)
  if (group > 1) y = y.reshape({B, T, C});
  trace_tensor(this, "heads", "(B,T,C)", y);  // the heads' outputs side by side, before W^O
  if (!out_proj) {  // the caller projects (and drops out) the heads' output
    res.out = y;
    return res;
  }
  y = out_proj->forward(y, args.gen);
  if (is_training() && resid_dropout->p > 0) {
    if (!args.gen) throw ValueError(std::string(kOp) + ": dropout in training mode needs args.gen");
    y = resid_dropout->forward(y, *args.gen);
  }
  trace_tensor(this, "out", "(B,T,C)", y);
  res.out = y;
  return res;
}

}  // namespace qkv::nn
