// validate_positions (see qkv/nn/positions.h): the config-time checks, apart
// from the modules attach_positions builds, so a config is checked without
// linking nn/ (fuzz/ relies on that).
#include "qkv/core/error.h"
#include "qkv/nn/positions.h"

namespace qkv::nn {

void validate_positions(const PositionConfig& p, int64_t head_size, const std::string& who) {
  if (p.kind == "t5" && p.t5_max_distance <= p.t5_num_buckets / 2)
    throw ValueError(who + ": t5_max_distance " + std::to_string(p.t5_max_distance) +
                     " must exceed the exact buckets t5_num_buckets / 2 = " + std::to_string(p.t5_num_buckets / 2));
  const int64_t rotary = p.rope.dim == 0 ? head_size : p.rope.dim;
  if (p.kind == "rope" && (rotary % 2 != 0 || rotary > head_size))
    throw ValueError(who + ": rope_dim " + std::to_string(p.rope.dim) + " (rotary channels " + std::to_string(rotary) +
                     ") must be even and at most the head size " + std::to_string(head_size));
}

}  // namespace qkv::nn
