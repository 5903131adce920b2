// GPT as a models::Decoder: left-padded prefill, one token per step, and
// nanoGPT's context crop past block_size (see qkv/models/gpt.h).
#include <string>

#include "qkv/autograd/autograd.h"
#include "qkv/models/gpt.h"
#include "qkv/ops/ops.h"

namespace qkv::models {

namespace {

bool all_true(const Tensor& mask) {
  for (int64_t v : mask.to_int_vector())
    if (v == 0) return false;
  return true;
}

// Position ids of left-padded rows: each row counts from its first real
// token (pads get 0; their outputs are never used). mask (B,W) → (B,W).
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

}  // namespace

void GPT::check_ready() const {
  if (is_training() && config.dropout > 0)
    throw ValueError("generate: the model is in training mode with dropout; call model.eval() first");
}

Tensor GPT::start(DecodeState& st, const DecodeInput& in) const {
  const Tensor& ids = in.ids;
  if (!ids.defined() || ids.dim() != 2 || ids.size(1) < 1 || ids.dtype() != DType::Int64)
    throw ShapeError("GPT::start: ids must be (B,T) int64 with T >= 1, got " +
                     (ids.defined() ? shape_str(ids.shape()) : std::string("nothing")));
  if (in.mask.defined() && (in.mask.shape() != ids.shape() || in.mask.dtype() != DType::Bool))
    throw ShapeError("GPT::start: mask must be bool " + shape_str(ids.shape()) + " like ids, got " +
                     shape_str(in.mask.shape()));
  st.ids = ids.contiguous();
  st.mask = in.mask.defined() ? in.mask.contiguous() : ones(ids.shape(), DType::Bool);
  const Tensor last = st.mask.narrow(1, ids.size(1) - 1, 1).contiguous();
  if (!all_true(last)) throw ValueError("GPT::start: prompts must be left-padded (every row's last token real)");
  return prefill(st);
}

Tensor GPT::prefill(DecodeState& st) const {
  NoGradGuard ng;
  Generator gen(0);  // eval mode: dropout never draws
  const int64_t B = st.ids.size(0), L = st.ids.size(1), W = std::min(L, config.block_size);
  const Tensor ids = st.ids.narrow(1, L - W, W).contiguous(), mask = st.mask.narrow(1, L - W, W).contiguous();
  GPTInputs in;
  if (!all_true(mask)) in.positions = positions_from_mask(mask), in.key_mask = mask;
  if (st.use_cache) {
    if (st.cache.batch() != B || st.cache.num_layers() != config.n_layer) st.cache = make_cache(B);
    st.cache.clear();
    in.cache = &st.cache;
  }
  return last_logits(hidden(ids, gen, in));
}

Tensor GPT::step(DecodeState& st, const std::vector<int64_t>& next) const {
  const int64_t B = st.batch();
  if (static_cast<int64_t>(next.size()) != B)
    throw ShapeError("GPT::step: got " + std::to_string(next.size()) + " tokens for a batch of " + std::to_string(B));
  Tensor col = tensor_i64(next, {B, 1});
  st.ids = cat({st.ids, col}, 1);
  st.mask = cat({st.mask, ones({B, 1}, DType::Bool)}, 1);
  if (!st.use_cache || st.cache.length() >= config.block_size) return prefill(st);
  NoGradGuard ng;
  Generator gen(0);
  const int64_t W = st.cache.length() + 1, L = st.ids.size(1);
  const Tensor window = st.mask.narrow(1, L - W, W).contiguous();  // cached keys + the new one
  GPTInputs in;
  in.cache = &st.cache;
  if (!all_true(window)) {
    in.positions = positions_from_mask(window).narrow(1, W - 1, 1).contiguous();  // (B,1)
    in.key_mask = window;
  }
  return last_logits(hidden(col, gen, in));
}

}  // namespace qkv::models
