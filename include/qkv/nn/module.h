// qkv/nn/module.h — the base class of every layer and model.
//
// A Module is a plain class that owns, by name, its parameters (trainable
// tensors), buffers (non-trainable state) and child modules, in registration
// order. Names compose with dots, so checkpoint keys come for free and match
// PyTorch / Hugging Face: a GPT's "h.0.attn.c_attn.weight". Each concrete
// module exposes a typed `forward`; there is no virtual forward.
//
//   class Mlp : public nn::Module {
//    public:
//     Mlp(Generator& gen) {
//       fc = register_module("fc", std::make_shared<nn::Linear>(4, 8, true, gen));
//     }
//     Tensor forward(const Tensor& x) const { return relu(fc->forward(x)); }
//     std::shared_ptr<nn::Linear> fc;
//   };
//
// Order of keys (as torch.nn.Module): a module's own parameters, then its own
// buffers, then each child's keys recursively. A tensor registered under two
// names (tied weights) appears once in named_parameters()/parameters() — under
// its first name in that order — but under both names in state_dict(), as in
// PyTorch. Tie weights through the registry (e.g. Linear::tie_weight), never by
// assigning a layer's member handle: the registry would keep the old tensor.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "qkv/core/tensor.h"

namespace qkv::nn {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

class Module {
 public:
  Module() = default;
  virtual ~Module() = default;
  // Modules own tensors by handle; copying one would silently share weights.
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // Recursive, registration order, deduplicated by tensor identity.
  NamedTensors named_parameters() const;
  std::vector<Tensor> parameters() const;
  NamedTensors named_buffers() const;
  // Parameters and buffers (all names, also of tied tensors), registration order.
  NamedTensors state_dict() const;
  // Copies each value into the existing tensor in place (no graph; the
  // tensors keep requires_grad, and handles held by layers stay valid).
  // Throws ValueError listing every missing key, unexpected key and shape
  // mismatch ("h.0.ln_1.weight: checkpoint [64] vs model [128]"). With
  // strict = false, missing and unexpected keys are ignored but shape
  // mismatches still throw (as PyTorch). Nothing is modified when it throws.
  void load_state_dict(const NamedTensors& sd, bool strict = true);

  // Training mode (dropout active) for this module and all descendants.
  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }

  // Drops every parameter's .grad (the next backward starts from zero).
  void zero_grad();
  // Total element count of parameters() (tied tensors counted once).
  int64_t num_parameters() const;

  // Direct children, and all descendants with dotted names ("" = this one),
  // in registration order (pre-order).
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> named_children() const;
  std::vector<std::pair<std::string, Module*>> named_modules();
  std::vector<std::pair<std::string, const Module*>> named_modules() const;

 protected:
  // Marks t as requiring grad and keeps it under `name`; returns the handle.
  Tensor register_parameter(const std::string& name, Tensor t);
  Tensor register_buffer(const std::string& name, Tensor t);
  // Replaces the tensor registered as parameter `name` (same shape; for tying).
  Tensor replace_parameter(const std::string& name, Tensor t);
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> m) {
    add_child(name, m);
    return m;
  }

 private:
  void add_child(const std::string& name, std::shared_ptr<Module> m);
  void check_new_name(const std::string& name, const char* what) const;
  void collect(const std::string& prefix, NamedTensors& params, NamedTensors& buffers,
               NamedTensors& state) const;

  NamedTensors params_, buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

}  // namespace qkv::nn
