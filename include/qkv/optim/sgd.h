// qkv/optim/sgd.h — stochastic gradient descent with momentum, exactly as
// torch.optim.SGD (dampening 0): d = g + wd·p; buf = d on a parameter's first
// step, else buf = μ·buf + d; d = nesterov ? d + μ·buf : buf; p −= lr·d.
#pragma once
#include "qkv/optim/optimizer.h"

namespace qkv::optim {

class SGD : public Optimizer {
 public:
  SGD(std::vector<ParamGroup> groups, float lr, float momentum = 0.0f, bool nesterov = false);
  void step() override;
  float momentum;
  bool nesterov;
};

}  // namespace qkv::optim
