#include <cstring>
#include <unordered_map>
#include <unordered_set>

#include "qkv/autograd/autograd.h"

namespace qkv::autograd {
namespace {

thread_local bool g_grad_enabled = true;

// A contiguous float copy that owns its storage (safe to accumulate into).
Tensor fresh_copy(const Tensor& g) {
  Tensor c = Tensor::empty(g.shape(), DType::Float32);
  c.copy_(g);
  return c;
}

// acc += g (acc contiguous, owned); g is broadcast-free and same shape.
void accumulate_into(Tensor& acc, const Tensor& g) {
  if (acc.shape() != g.shape())
    throw ShapeError("autograd: gradient of shape " + shape_str(g.shape()) +
                     " does not match " + shape_str(acc.shape()));
  Tensor gc = g.is_contiguous() ? g : fresh_copy(g);
  float* a = acc.data<float>();
  const float* b = gc.data<float>();
  int64_t n = acc.numel();
#pragma omp parallel for simd if (n > (1 << 16))
  for (int64_t i = 0; i < n; ++i) a[i] += b[i];
}

void add_grad(std::shared_ptr<TensorImpl>& slot, const Tensor& g) {
  if (!slot) {
    // Adopt g without a copy when nothing else can see it: a contiguous tensor
    // whose handle and storage have no other owner (the caller's vector holds
    // the only reference). Otherwise copy, so that accumulating into the slot
    // can never write into a tensor someone else holds.
    if (g.is_contiguous() && g.impl_ptr().use_count() == 1 && g.impl().storage.use_count() == 1 &&
        !g.impl().grad_fn && g.dtype() == DType::Float32) {
      slot = g.impl_ptr();
      return;
    }
    slot = fresh_copy(g).impl_ptr();
  } else {
    Tensor acc(slot);
    accumulate_into(acc, g);
  }
}

// The gradient flowing into an interior node, which backward functions only
// read: the first contribution is kept as it is even when shared (an add's
// backward hands the same tensor to both inputs — the residual stream), and a
// second one is summed into a fresh buffer unless the slot owns its storage.
void add_node_grad(std::shared_ptr<TensorImpl>& slot, const Tensor& g) {
  if (!slot) {
    slot = g.is_contiguous() && g.dtype() == DType::Float32 ? g.impl_ptr() : fresh_copy(g).impl_ptr();
    return;
  }
  const bool owned = slot.use_count() == 1 && slot->storage.use_count() == 1;
  Tensor acc(slot);
  if (owned) {
    accumulate_into(acc, g);
    return;
  }
  if (acc.shape() != g.shape())
    throw ShapeError("autograd: gradient of shape " + shape_str(g.shape()) + " does not match " +
                     shape_str(acc.shape()));
  Tensor gc = g.is_contiguous() ? g : fresh_copy(g);
  Tensor sum = Tensor::empty(acc.shape(), DType::Float32);
  const float* a = acc.data<float>();
  const float* b = gc.data<float>();
  float* o = sum.data<float>();
  const int64_t n = sum.numel();
#pragma omp parallel for simd if (n > (1 << 16))
  for (int64_t i = 0; i < n; ++i) o[i] = a[i] + b[i];
  slot = sum.impl_ptr();
}

}  // namespace

bool grad_enabled() { return g_grad_enabled; }
void set_grad_enabled(bool on) { g_grad_enabled = on; }

bool any_requires_grad(std::initializer_list<const Tensor*> inputs) {
  if (!g_grad_enabled) return false;
  for (const Tensor* t : inputs)
    if (t && t->defined() && t->requires_grad()) return true;
  return false;
}

void record(const char* name, Tensor& out, const std::vector<Tensor>& inputs, BackwardFn fn) {
  if (!any_requires_grad(inputs)) return;
  auto node = std::make_shared<Node>();
  node->name = name;
  node->inputs.reserve(inputs.size());
  for (const Tensor& t : inputs) node->inputs.push_back(t.defined() ? t.impl_ptr() : nullptr);
  node->backward = std::move(fn);
  out.impl().grad_fn = std::move(node);
  out.impl().requires_grad = true;
}

void run_backward(const Tensor& root, const Tensor& grad) {
  if (!root.requires_grad())
    throw ValueError("backward: tensor " + shape_str(root.shape()) +
                     " does not require grad and has no graph");
  Tensor seed = grad;
  if (!seed.defined()) {
    if (root.numel() != 1)
      throw ShapeError("backward: implicit gradient needs a scalar, got shape " +
                       shape_str(root.shape()) + "; pass a gradient");
    seed = ones(root.shape());
  }
  if (seed.shape() != root.shape())
    throw ShapeError("backward: gradient shape " + shape_str(seed.shape()) +
                     " does not match tensor shape " + shape_str(root.shape()));

  NoGradGuard no_grad;
  if (!root.grad_fn()) {  // a leaf
    add_grad(root.impl().grad, seed);
    return;
  }
  // Topological order: iterative post-order DFS over nodes.
  // `order` holds shared pointers: clearing a node's inputs below may drop the
  // last reference to an upstream tensor, and with it its node.
  std::vector<std::shared_ptr<Node>> order;
  std::unordered_set<Node*> seen;
  std::vector<std::pair<std::shared_ptr<Node>, size_t>> stack{{root.grad_fn(), 0}};
  seen.insert(root.grad_fn().get());
  while (!stack.empty()) {
    auto& [node, i] = stack.back();
    if (node->released)
      throw ValueError(std::string("backward: the graph through '") + node->name +
                       "' was already freed by an earlier backward()");
    if (i < node->inputs.size()) {
      const auto& in = node->inputs[i++];
      if (in && in->grad_fn && !seen.count(in->grad_fn.get())) {
        seen.insert(in->grad_fn.get());
        stack.push_back({in->grad_fn, 0});
      }
    } else {
      order.push_back(node);
      stack.pop_back();
    }
  }
  std::unordered_map<Node*, std::shared_ptr<TensorImpl>> grads;
  grads[root.grad_fn().get()] = fresh_copy(seed).impl_ptr();
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    Node* node = it->get();
    auto found = grads.find(node);
    if (found == grads.end()) {  // no gradient reached this node
      node->backward = nullptr;
      node->released = true;
      continue;
    }
    Tensor g(found->second);
    grads.erase(found);
    std::vector<Tensor> in_grads = node->backward(g);
    for (size_t i = 0; i < node->inputs.size() && i < in_grads.size(); ++i) {
      auto& in = node->inputs[i];
      if (!in || !in->requires_grad || !in_grads[i].defined()) continue;
      if (in_grads[i].shape() != in->shape)
        throw ShapeError(std::string("backward of '") + node->name + "': gradient for input " +
                         std::to_string(i) + " has shape " + shape_str(in_grads[i].shape()) +
                         ", input has " + shape_str(in->shape));
      if (in->grad_fn) {
        add_node_grad(grads[in->grad_fn.get()], in_grads[i]);
      } else {
        add_grad(in->grad, in_grads[i]);
      }
    }
    node->backward = nullptr;  // frees saved tensors
    node->inputs.clear();
    node->released = true;
  }
}

}  // namespace qkv::autograd

namespace qkv {

Tensor& Tensor::requires_grad_(bool on) {
  if (on && dtype() != DType::Float32)
    throw ValueError(std::string("requires_grad_: only float32 tensors can require grad, got ") +
                     dtype_name(dtype()));
  impl().requires_grad = on;
  return *this;
}

Tensor Tensor::grad() const { return impl().grad ? Tensor(impl().grad) : Tensor(); }
void Tensor::set_grad(const Tensor& g) { impl().grad = g.defined() ? g.impl_ptr() : nullptr; }
void Tensor::zero_grad() { impl().grad.reset(); }
void Tensor::backward(const Tensor& gradient) const { autograd::run_backward(*this, gradient); }

Tensor Tensor::detach() const {
  auto impl2 = std::make_shared<TensorImpl>();
  impl2->storage = impl().storage;
  impl2->shape = impl().shape;
  impl2->strides = impl().strides;
  impl2->offset = impl().offset;
  impl2->dtype = impl().dtype;
  return Tensor(std::move(impl2));
}

}  // namespace qkv
