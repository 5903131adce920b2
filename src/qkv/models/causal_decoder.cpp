// Decoding for decoder-only causal LMs: left-padded prefill, one token per
// step, nanoGPT's crop past the context length (see qkv/models/causal_decoder.h).
#include "qkv/models/causal_decoder.h"

#include <algorithm>
#include <string>

#include "qkv/autograd/autograd.h"
#include "qkv/nn/layers.h"
#include "qkv/ops/ops.h"

namespace qkv::models {

namespace {
bool all_true(const Tensor& mask) {
  for (int64_t v : mask.to_int_vector())
    if (v == 0) return false;
  return true;
}
}  // namespace

Tensor positions_from_mask(const Tensor& mask) {
  const int64_t B = mask.size(0), W = mask.size(1);
  std::vector<int64_t> pos(static_cast<size_t>(B * W));
  const std::vector<int64_t> p = mask.to_int_vector();
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0, seen = 0; t < W; ++t) {
      seen += p[b * W + t] != 0 ? 1 : 0;
      pos[b * W + t] = seen > 0 ? seen - 1 : 0;
    }
  return tensor_i64(pos, {B, W});
}

Tensor CausalDecoderLM::start(DecodeState& st, const DecodeInput& in) const {
  const std::string who = model_type() + "::start";
  const Tensor& ids = in.ids;
  if (!ids.defined() || ids.dim() != 2 || ids.size(1) < 1 || ids.dtype() != DType::Int64)
    throw ShapeError(who + ": ids must be (B,T) int64 with T >= 1, got " +
                     (ids.defined() ? shape_str(ids.shape()) : std::string("nothing")));
  if (in.mask.defined() && (in.mask.shape() != ids.shape() || in.mask.dtype() != DType::Bool))
    throw ShapeError(who + ": mask must be bool " + shape_str(ids.shape()) + " like ids, got " +
                     shape_str(in.mask.shape()));
  st.ids = ids.contiguous();
  st.mask = in.mask.defined() ? in.mask.contiguous() : ones(ids.shape(), DType::Bool);
  const Tensor last = st.mask.narrow(1, ids.size(1) - 1, 1).contiguous();
  if (!all_true(last)) throw ValueError(who + ": prompts must be left-padded (every row's last token real)");
  return prefill(st);
}

Tensor CausalDecoderLM::prefill(DecodeState& st) const {
  NoGradGuard ng;
  const int64_t B = st.ids.size(0), L = st.ids.size(1), W = std::min(L, context_length());
  const Tensor ids = st.ids.narrow(1, L - W, W).contiguous(), mask = st.mask.narrow(1, L - W, W).contiguous();
  CausalInputs in;
  if (!all_true(mask)) in.positions = positions_from_mask(mask), in.key_mask = mask;
  if (st.use_cache) {
    if (st.cache.batch() != B || st.cache.num_layers() != cache_layers()) st.cache = make_cache(B);
    st.cache.clear();
    in.cache = &st.cache;
  }
  return last_token_logits(ids, in);
}

Tensor CausalDecoderLM::step(DecodeState& st, const std::vector<int64_t>& next) const {
  const int64_t B = st.batch();
  if (static_cast<int64_t>(next.size()) != B)
    throw ShapeError(model_type() + "::step: got " + std::to_string(next.size()) + " tokens for a batch of " +
                     std::to_string(B));
  Tensor col = tensor_i64(next, {B, 1});
  st.ids = cat({st.ids, col}, 1);
  st.mask = cat({st.mask, ones({B, 1}, DType::Bool)}, 1);
  if (!st.use_cache || st.cache.length() >= context_length()) return prefill(st);
  NoGradGuard ng;
  const int64_t W = st.cache.length() + 1, L = st.ids.size(1);
  const Tensor window = st.mask.narrow(1, L - W, W).contiguous();  // cached keys + the new one
  CausalInputs in;
  in.cache = &st.cache;
  if (!all_true(window)) {
    in.positions = positions_from_mask(window).narrow(1, W - 1, 1).contiguous();  // (B,1)
    in.key_mask = window;
  }
  return last_token_logits(col, in);
}

int64_t CausalDecoderLM::decode_weight_bytes() const {
  int64_t bytes = 0;
  for (const auto& [name, t] : named_parameters()) bytes += t.numel() * int64_t(sizeof(float));
  for (const auto& [name, m] : named_modules()) {
    if (const auto* lin = dynamic_cast<const nn::Linear*>(m); lin && lin->qweight)
      bytes += lin->qweight->bytes() - lin->weight.numel() * int64_t(sizeof(float));
    if (const auto* emb = dynamic_cast<const nn::Embedding*>(m))  // a lookup reads one row
      bytes -= (emb->weight.numel() - emb->weight.size(1)) * int64_t(sizeof(float));
  }
  return bytes + tied_head_bytes();
}

}  // namespace qkv::models
