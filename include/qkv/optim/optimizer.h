// qkv/optim/optimizer.h — the optimizer interface and parameter groups.
//
//   auto groups = nn::decay_groups(model, 0.1f);         // decay / no-decay (qkv/nn/param_groups.h)
//   optim::AdamW opt(groups, 1e-3f, 0.9f, 0.99f);
//   for (int64_t it = 0; it < iters; ++it) {
//     opt.set_lr(schedule->lr(it));
//     opt.zero_grad();
//     loss(model, batch).backward();
//     optim::clip_grad_norm(model.parameters(), 1.0f);
//     opt.step();
//   }
//
// Updates are fused loops over each parameter's float data (no graph, no
// per-element allocation), split across threads for large tensors; each element
// is updated by exactly one thread, so results do not depend on the thread
// count. Parameters without a .grad are skipped (and, as in PyTorch, their
// per-parameter step count does not advance).
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "qkv/core/param_group.h"
#include "qkv/core/tensor.h"

namespace qkv::optim {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

// {params, weight_decay}; defined in core so that nn::decay_groups can make
// groups without nn and optim knowing each other.
using ParamGroup = qkv::ParamGroup;

class Optimizer {
 public:
  virtual ~Optimizer();
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  virtual void step() = 0;
  void zero_grad();  // drops every parameter's .grad
  float lr() const { return lr_; }
  void set_lr(float lr);
  int64_t step_count() const { return step_count_; }  // step() calls so far
  const std::vector<ParamGroup>& param_groups() const { return groups_; }

  // Everything needed to resume exactly: "step_count" (int64 [1]), "lr"
  // (float32 [1]), and per parameter "step.<key>" (int64 [1]) and the
  // optimizer's buffers ("exp_avg.<key>", ...), where <key> is the
  // parameter's name when the groups carry names (ParamGroup::names) and its
  // flat index over the groups otherwise.
  // The buffer tensors are the live state (not copies); clone to snapshot.
  virtual NamedTensors state() const;
  // Copies a state() back in; throws ValueError naming missing, unexpected
  // and mis-shaped entries (nothing is changed then). With named groups,
  // index keys ("exp_avg.3", state saved before names existed) are accepted
  // too, by position.
  virtual void load_state(const NamedTensors& state);

 protected:
  Optimizer(std::vector<ParamGroup> groups, float lr, const char* name);
  // Named per-parameter buffers, e.g. {"exp_avg", bufs}; zero-initialised.
  void add_buffer(const std::string& name);
  std::vector<Tensor>& buffer(size_t k) { return buffers_[k].second; }
  // Calls f(flat index, param, its contiguous grad, weight decay) for every
  // parameter that has a grad, advancing its step count first.
  template <class F> void for_each_with_grad(F f);
  int64_t param_step(size_t i) const { return param_steps_[i]; }
  // The state key of flat parameter i: its name, or its index.
  const std::string& key(size_t i) const { return keys_[i]; }

  const char* name_;
  std::vector<ParamGroup> groups_;
  float lr_;
  int64_t step_count_ = 0;
  std::vector<int64_t> param_steps_;
  std::vector<std::string> keys_;  // per flat parameter
  std::vector<std::pair<std::string, std::vector<Tensor>>> buffers_;
};

template <class F> void Optimizer::for_each_with_grad(F f) {
  size_t i = 0;
  for (const ParamGroup& g : groups_)
    for (const Tensor& p : g.params) {
      Tensor grad = p.grad();
      if (grad.defined()) {
        if (grad.shape() != p.shape())
          throw ShapeError(std::string(name_) + ": grad " + shape_str(grad.shape()) + " does not match parameter " +
                           shape_str(p.shape()));
        ++param_steps_[i];
        f(i, p, grad.contiguous(), g.weight_decay);
      }
      ++i;
    }
  ++step_count_;
}

}  // namespace qkv::optim
