// qkv/nn/param_groups.h — splitting a module's parameters into optimizer
// groups by what they are (matmul weights, embedding tables, biases, norms).
//
//   optim::AdamW opt(nn::decay_groups(model, 0.1f), 1e-3f, 0.9f, 0.99f);
#pragma once
#include <vector>

#include "qkv/core/param_group.h"
#include "qkv/nn/module.h"

namespace qkv::nn {

// The AdamW split (explicit rule): a parameter is decayed iff it has dim ≥ 2
// (matmul weights) and is not an embedding table (the weight of an
// nn::Embedding or nn::LearnedPositionalEmbedding — also when tied to an output
// projection) unless decay_embeddings. Biases and LayerNorm parameters (dim 1)
// never decay. Returns two groups, always in this order:
// {decayed, weight_decay}, {not decayed, 0}. Either may be empty.
// (nanoGPT decays every dim ≥ 2 tensor: pass decay_embeddings = true.)
// Frozen parameters (requires_grad false, e.g. a base model under LoRA) are
// left out, so the optimizer keeps no state for them. Each group carries the
// parameters' state_dict names (the optimizer's state keys).
std::vector<ParamGroup> decay_groups(const Module& m, float weight_decay, bool decay_embeddings = false);

}  // namespace qkv::nn
