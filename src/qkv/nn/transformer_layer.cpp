// TransformerLayer: pre-LN (GPT-2) or post-LN (Vaswani et al. 2017).
#include "qkv/nn/transformer_layer.h"

#include "qkv/nn/trace.h"
#include "qkv/ops/ops.h"

namespace qkv::nn {

TransformerLayer::TransformerLayer(const LayerConfig& cfg, Generator& gen) : config(cfg) {
  const int64_t C = cfg.d_model, d_ff = cfg.d_ff ? cfg.d_ff : 4 * cfg.d_model;
  auto norm = [&](const char* name) {
    return register_module(name, std::make_shared<LayerNorm>(C, cfg.ln_eps, cfg.bias));
  };
  ln_1 = norm("ln_1");
  attn = register_module("attn", std::make_shared<MultiHeadAttention>(
                                     AttentionConfig{.d_model = C, .n_heads = cfg.n_heads, .bias = cfg.bias,
                                                     .dropout = cfg.dropout, .names = cfg.self_names},
                                     gen));
  if (cfg.cross_attention) {
    ln_cross_attn = norm("ln_cross_attn");
    crossattention = register_module(
        "crossattention", std::make_shared<MultiHeadAttention>(
                              AttentionConfig{.d_model = C, .n_heads = cfg.n_heads, .kv_dim = cfg.kv_dim,
                                              .cross = true, .bias = cfg.bias, .dropout = cfg.dropout,
                                              .names = cfg.cross_names},
                              gen));
  }
  ln_2 = norm("ln_2");
  mlp = register_module("mlp", std::make_shared<FeedForward>(C, d_ff, cfg.activation, cfg.dropout, cfg.bias, gen));
}

Tensor TransformerLayer::forward(const Tensor& x, const LayerArgs& args, LayerWeights* weights) const {
  // x (B,T,C). Each sub-layer: pre-LN adds f(norm(h)) to h; post-LN normalises h + f(h).
  auto sublayer = [&](const Tensor& h, const LayerNorm& ln, auto&& f) {
    return config.norm == NormPlacement::Pre ? add(h, f(ln.forward(h))) : ln.forward(add(h, f(h)));
  };
  if (is_training() && config.dropout > 0 && !args.gen)
    throw ValueError("TransformerLayer: dropout in training mode needs args.gen");
  AttentionArgs self = args.self, cross = args.cross;  // handles: copies share the tensors
  if (!self.gen) self.gen = args.gen;
  if (!cross.gen) cross.gen = args.gen;
  self.need_weights = cross.need_weights = weights != nullptr;
  auto run = [](const MultiHeadAttention& m, const Tensor& u, const AttentionArgs& a, Tensor* w) {
    AttentionOutput o = m.forward(u, a);
    if (w) *w = o.weights;
    return o.out;
  };
  Tensor h = sublayer(x, *ln_1, [&](const Tensor& u) { return run(*attn, u, self, weights ? &weights->self : nullptr); });
  if (crossattention)
    h = sublayer(h, *ln_cross_attn,
                 [&](const Tensor& u) { return run(*crossattention, u, cross, weights ? &weights->cross : nullptr); });
  Generator scratch(0);  // FeedForward's dropout draws only in training mode with p > 0
  Generator& gen = args.gen ? *args.gen : scratch;
  Tensor y = sublayer(h, *ln_2, [&](const Tensor& u) { return mlp->forward(u, gen); });
  trace_tensor(this, "out", "C", y);  // the residual stream after the layer
  return y;
}

}  // namespace qkv::nn
