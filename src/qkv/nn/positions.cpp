// The attention-side position methods (see qkv/nn/positions.h).
#include "qkv/nn/positions.h"

#include "qkv/core/error.h"

namespace qkv::nn {

void attach_positions(MultiHeadAttention& attn, const PositionConfig& p, Generator& gen) {
  const int64_t n_heads = attn.config.n_heads;
  if (p.kind == "alibi") attn.alibi_slopes = alibi_slopes(n_heads);
  if (p.kind == "relative") attn.add_relative_positions(p.relative_max_distance, gen);
  if (p.kind == "rope") attn.qk_transform = RotaryEmbedding(p.rope, n_heads, attn.head_size);
}

}  // namespace qkv::nn
