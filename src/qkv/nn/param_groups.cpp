// nn::decay_groups (see qkv/nn/param_groups.h).
#include "qkv/nn/param_groups.h"

#include <set>

#include "qkv/nn/layers.h"
#include "qkv/nn/positional.h"

namespace qkv::nn {

std::vector<ParamGroup> decay_groups(const Module& m, float weight_decay, bool decay_embeddings) {
  std::set<const TensorImpl*> tables;  // embedding tables
  for (auto& [_, mod] : m.named_modules()) {
    if (auto* e = dynamic_cast<const Embedding*>(mod)) tables.insert(e->weight.impl_ptr().get());
    if (auto* e = dynamic_cast<const LearnedPositionalEmbedding*>(mod)) tables.insert(e->weight.impl_ptr().get());
  }
  std::vector<ParamGroup> groups{{{}, weight_decay}, {{}, 0.0f}};
  for (const auto& [name, p] : m.named_parameters()) {
    if (!p.requires_grad()) continue;  // frozen: no optimizer state
    const bool table = tables.count(p.impl_ptr().get()) > 0;
    const bool decay = p.dim() >= 2 && (decay_embeddings || !table);
    groups[decay ? 0 : 1].params.push_back(p);
    groups[decay ? 0 : 1].names.push_back(name);
  }
  return groups;
}

}  // namespace qkv::nn
