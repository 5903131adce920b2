// qkv/autograd/autograd.h — reverse-mode automatic differentiation.
//
// Every op whose inputs need a gradient records a Node on its output: the op's
// name, its inputs, and a backward closure mapping d(output) to d(each input)
// (already reduced to each input's shape). Tensor::backward() walks the nodes
// in reverse topological order, sums the gradients flowing into each node,
// accumulates (+=) into .grad of leaves that require grad, and frees the graph.
// Nothing is recorded under NoGradGuard or when no input requires grad.
// Backward closures run with grad mode off (no double backward yet).
#pragma once
#include <functional>
#include <memory>
#include <vector>

#include "qkv/core/tensor.h"

namespace qkv::autograd {

bool grad_enabled();
void set_grad_enabled(bool on);

// RAII: disables graph recording in its scope (inference, optimizer updates).
class NoGradGuard {
 public:
  NoGradGuard() : prev_(grad_enabled()) { set_grad_enabled(false); }
  ~NoGradGuard() { set_grad_enabled(prev_); }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool prev_;
};

// grads[i] is the gradient for inputs[i]; leave it undefined when input i does
// not require grad (or its gradient is zero).
using BackwardFn = std::function<std::vector<Tensor>(const Tensor& grad_output)>;

struct Node {
  const char* name = "";
  std::vector<std::shared_ptr<TensorImpl>> inputs;
  BackwardFn backward;
  bool released = false;
};

// True if grad mode is on and any defined input requires grad.
bool any_requires_grad(std::initializer_list<const Tensor*> inputs);
inline bool any_requires_grad(const std::vector<Tensor>& inputs) {
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad()) return grad_enabled();
  return false;
}

// Attaches a node to `out` if any input requires grad (and grad mode is on).
// The closure must not capture `out` itself (that would be a cycle): capture
// out.detach() when the backward needs the output values.
void record(const char* name, Tensor& out, const std::vector<Tensor>& inputs, BackwardFn fn);

// Runs backward from `root` with seed `grad` (same shape as root).
void run_backward(const Tensor& root, const Tensor& grad);

}  // namespace qkv::autograd

namespace qkv {
using autograd::NoGradGuard;
}
