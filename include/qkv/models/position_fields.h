// qkv/models/position_fields.h — the `pos_encoding` fields every model config
// shares (docs/POSITIONS.md), written once: their config.json entries and the
// nn::PositionConfig they make. A config that has them declares members of
// these names: pos_encoding, sinusoidal_base, rope_theta, rope_dim,
// rope_layout, rope_scaling, rope_scaling_factor, t5_num_buckets,
// t5_max_distance, relative_max_distance.
#pragma once
#include <string>
#include <vector>

#include "qkv/core/config_fields.h"
#include "qkv/nn/positions.h"

namespace qkv::models {

// The field-table entries; `kinds` are the pos_encoding values the model accepts.
template <class C>
std::vector<config::Field<C>> position_fields(std::vector<std::string> kinds) {
  using config::field;
  return {
      field("pos_encoding", &C::pos_encoding, "Positions: learned table, sinusoidal, rotary (rope), ALiBi, T5 relative bias, Shaw's relative positions or none")
          .one_of(std::move(kinds)),
      field("sinusoidal_base", &C::sinusoidal_base, "Sinusoidal positions: base of the wavelengths").above(1),
      field("rope_theta", &C::rope_theta, "RoPE: base theta of the rotation frequencies").above(1),
      field("rope_dim", &C::rope_dim, "RoPE: rotary channels per head, even (0 = the whole head)").at_least(0),
      field("rope_layout", &C::rope_layout, "RoPE channel pairs: rotate_half (GPT-NeoX, Llama) or adjacent (the paper)")
          .one_of({"rotate_half", "adjacent"}),
      field("rope_scaling", &C::rope_scaling, "RoPE past the training length: none, linear interpolation or ntk")
          .one_of({"none", "linear", "ntk"}),
      field("rope_scaling_factor", &C::rope_scaling_factor, "RoPE: the scaling factor").at_least(1),
      field("t5_num_buckets", &C::t5_num_buckets, "T5 bias: relative-position buckets").at_least(2),
      field("t5_max_distance", &C::t5_max_distance, "T5 bias: offsets from here on share the last bucket").above(1),
      field("relative_max_distance", &C::relative_max_distance,
            "Relative positions (Shaw et al.): the clipping distance k of the 2k+1 learned key/value vectors")
          .above(0),
  };
}

template <class C>
nn::PositionConfig position_config(const C& c) {
  nn::PositionConfig p;
  p.kind = c.pos_encoding;
  p.sinusoidal_base = c.sinusoidal_base;
  p.rope.dim = c.rope_dim;
  p.rope.theta = c.rope_theta;
  p.rope.layout = c.rope_layout == "adjacent" ? RopeLayout::Adjacent : RopeLayout::RotateHalf;
  p.rope.scaling = c.rope_scaling;
  p.rope.factor = c.rope_scaling_factor;
  p.t5_num_buckets = c.t5_num_buckets;
  p.t5_max_distance = c.t5_max_distance;
  p.relative_max_distance = c.relative_max_distance;
  return p;
}

// Fields concatenated: a config's own entries, then the shared ones.
template <class C>
std::vector<config::Field<C>> concat(std::vector<config::Field<C>> a, std::vector<config::Field<C>> b) {
  a.insert(a.end(), std::make_move_iterator(b.begin()), std::make_move_iterator(b.end()));
  return a;
}

}  // namespace qkv::models
