// qkv/optim/adam.h — Adam (Kingma & Ba 2015) and AdamW (Loshchilov & Hutter
// 2019), in torch.optim's exact update order (PyTorch 1.13, single-tensor):
//   Adam : g += wd·p  (L2 penalty added to the gradient)
//   AdamW: p *= 1 − lr·wd  (decoupled decay, before the moment updates)
//   m = β1·m + (1−β1)·g;  v = β2·v + (1−β2)·g²
//   p −= lr/(1−β1^t) · m / (√v / √(1−β2^t) + ε)
// with t the parameter's own step count. State: "exp_avg.i", "exp_avg_sq.i".
#pragma once
#include "qkv/optim/optimizer.h"

namespace qkv::optim {

class Adam : public Optimizer {
 public:
  Adam(std::vector<ParamGroup> groups, float lr, float beta1 = 0.9f, float beta2 = 0.999f, float eps = 1e-8f);
  void step() override;
  float beta1, beta2, eps;

 protected:
  Adam(std::vector<ParamGroup> groups, float lr, float beta1, float beta2, float eps, bool decoupled,
       const char* name);
  bool decoupled_;
};

class AdamW : public Adam {
 public:
  AdamW(std::vector<ParamGroup> groups, float lr, float beta1 = 0.9f, float beta2 = 0.999f, float eps = 1e-8f);
};

}  // namespace qkv::optim
