// qkv/nn/init.h — in-place weight initialisers (no graph), drawn from an
// explicit Generator on one thread, so values depend only on the seed.
#pragma once
#include <cstdint>

#include "qkv/core/rng.h"
#include "qkv/nn/module.h"

namespace qkv::nn {

// While one lives on this thread, normal_ and uniform_ leave their tensors
// as they are (the generator is not drawn from): for a model built only to
// have every parameter overwritten by a strict checkpoint load
// (models::load_model), where the draws were a third of loading a 124M model.
class SkipRandomInit {
 public:
  SkipRandomInit();
  ~SkipRandomInit();
  SkipRandomInit(const SkipRandomInit&) = delete;
  SkipRandomInit& operator=(const SkipRandomInit&) = delete;

 private:
  bool outer_;
};

void normal_(Tensor& t, float mean, float std, Generator& gen);
void uniform_(Tensor& t, float low, float high, Generator& gen);
void zeros_(Tensor& t);
void ones_(Tensor& t);

// GPT-2 / nanoGPT initialisation (Radford et al. 2019), applied to every
// descendant of m in registration order: Linear and Embedding (and
// LearnedPositionalEmbedding) weights ~ N(0, 0.02), Linear biases zero,
// LayerNorm weight 1 and bias 0; then every parameter whose name ends in
// "c_proj.weight" (the residual projections) is redrawn from
// N(0, 0.02/√(2·n_layer)). A tensor tied under two names is drawn twice, as
// in nanoGPT.
void init_gpt2(Module& m, int64_t n_layer, Generator& gen);

}  // namespace qkv::nn
