// qkv/core/param_group.h — a set of parameters that share optimizer settings.
//
// It lives in core because two layers that must not know each other meet
// here: nn decides which parameters belong together (nn::decay_groups, by
// module type) and optim consumes the groups (optim::ParamGroup is this type).
#pragma once
#include <string>
#include <vector>

#include "qkv/core/tensor.h"

namespace qkv {

struct ParamGroup {
  std::vector<Tensor> params;
  float weight_decay = 0.0f;  // decoupled (AdamW) or L2 (SGD, Adam) decay for this group
  // Optional, one per parameter ("h.0.attn.c_attn.weight"): the optimizer
  // then keys its saved state by name, so a checkpoint survives a change in
  // parameter order or grouping. Empty: keyed by position.
  std::vector<std::string> names;
};

}  // namespace qkv
