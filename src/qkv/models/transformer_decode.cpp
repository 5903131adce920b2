// The Transformer as a models::Decoder (see qkv/models/transformer.h): the
// sources are encoded once; the decoder then runs one token at a time over its
// KV cache, its cross-attention keys/values computed from the memory on the
// first call and reused. After a reorder (beam search) the rows are beams:
// memory, source mask and cross-attention keys/values keep one row per
// sentence, and st.source_rows tells each beam its sentence.
#include <string>

#include "qkv/autograd/autograd.h"
#include "qkv/models/transformer.h"
#include "qkv/ops/ops.h"

namespace qkv::models {

namespace {

Tensor last_row(const Tensor& logits) { return logits.select(1, logits.size(1) - 1).contiguous(); }  // (B,V)

void check_start(const DecodeInput& in) {
  const Tensor& ids = in.ids;
  if (!in.source_ids.defined())
    throw ValueError("Transformer::start: source_ids (B,S) are required: the sentences to translate");
  if (!ids.defined() || ids.dim() != 2 || ids.size(1) < 1 || ids.dtype() != DType::Int64)
    throw ShapeError("Transformer::start: ids must be (B,T) int64 with T >= 1 (e.g. one BOS per row), got " +
                     (ids.defined() ? shape_str(ids.shape()) : std::string("nothing")));
  if (in.source_ids.dim() != 2 || in.source_ids.size(0) != ids.size(0))
    throw ShapeError("Transformer::start: source_ids " + shape_str(in.source_ids.shape()) +
                     " must be (B,S) with the batch of ids " + shape_str(ids.shape()));
  if (in.mask.defined())
    for (int64_t v : in.mask.to_int_vector())
      if (v == 0) throw ValueError("Transformer::start: target prompts cannot be padded; give every row the same length");
}

}  // namespace

void Transformer::check_ready() const {
  if (is_training() && config.dropout > 0)
    throw ValueError("generate: the model is in training mode with dropout; call model.eval() first");
}

Tensor Transformer::start(DecodeState& st, const DecodeInput& in) const {
  check_start(in);
  NoGradGuard ng;
  Generator gen(0);  // eval mode: dropout never draws
  st.ids = in.ids.contiguous();
  st.mask = ones(st.ids.shape(), DType::Bool);
  st.source_mask = in.source_mask;
  st.source_rows.clear();  // one row per sentence until a reorder
  st.memory = encode(in.source_ids, in.source_mask, gen);
  if (!st.use_cache) return last_row(decode(st.ids, st.memory, gen, {.src_mask = st.source_mask}));
  st.cache = make_cache(st.ids.size(0));
  return last_row(decode(st.ids, st.memory, gen, {.src_mask = st.source_mask, .cache = &st.cache}));
}

Tensor Transformer::step(DecodeState& st, const std::vector<int64_t>& next) const {
  const int64_t B = st.batch();
  if (static_cast<int64_t>(next.size()) != B)
    throw ShapeError("Transformer::step: got " + std::to_string(next.size()) + " tokens for a batch of " +
                     std::to_string(B));
  const Tensor col = tensor_i64(next, {B, 1});
  st.ids = cat({st.ids, col}, 1);
  st.mask = cat({st.mask, ones({B, 1}, DType::Bool)}, 1);
  NoGradGuard ng;
  Generator gen(0);
  const DecodeArgs args{.src_mask = st.source_mask, .source_rows = st.source_rows};
  if (!st.use_cache) return last_row(decode(st.ids, st.memory, gen, args));
  // The cross-attention keys/values are in the cache: memory is not read again.
  DecodeArgs cached = args;
  cached.cache = &st.cache;
  return last_row(decode(col, Tensor(), gen, cached));
}

}  // namespace qkv::models
