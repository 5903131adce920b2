// qkv/nn/positions.h — a position method chosen by name (`pos_encoding`,
// docs/POSITIONS.md) and the part of it that lives in self-attention: rotary
// queries/keys (rope), ALiBi slopes (alibi) or Shaw et al.'s relative
// key/value vectors (relative). The input-side tables
// (learned, sinusoidal) and the T5 bias are modules of their own
// (qkv/nn/positional.h) that a model owns.
#pragma once
#include <cstdint>
#include <string>

#include "qkv/nn/attention.h"
#include "qkv/nn/positional.h"

namespace qkv::nn {

struct PositionConfig {
  std::string kind = "learned";  // learned | sinusoidal | rope | alibi | t5 | relative | none
  double sinusoidal_base = 10000.0;
  RopeConfig rope;
  int64_t t5_num_buckets = 32;
  int64_t t5_max_distance = 128;
  int64_t relative_max_distance = 16;  // Shaw et al.'s clipping distance k
};

// ValueError, prefixed by `who` ("GPT config"), for settings the field bounds
// cannot see: a rotary dimension that is odd or wider than the head, T5
// buckets that leave no room for the log-spaced ones.
void validate_positions(const PositionConfig& p, int64_t head_size, const std::string& who);

// Gives a self-attention module the attention-side part of the method (rope:
// its qk_transform; alibi: its slopes; relative: its key/value tables, drawn
// from `gen`); the other kinds leave it unchanged.
void attach_positions(MultiHeadAttention& attn, const PositionConfig& p, Generator& gen);

}  // namespace qkv::nn
