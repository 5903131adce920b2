// nn::Module: registration by name, state dicts, train/eval.
#include "qkv/nn/module.h"

#include <map>
#include <set>

#include "qkv/autograd/autograd.h"

namespace qkv::nn {

void Module::check_new_name(const std::string& name, const char* what) const {
  if (name.empty() || name.find('.') != std::string::npos)
    throw ValueError(std::string("Module::") + what + ": name '" + name + "' must be non-empty and contain no '.'");
  auto taken = [&](const auto& list) {
    for (const auto& [n, _] : list)
      if (n == name) return true;
    return false;
  };
  if (taken(params_) || taken(buffers_) || taken(children_))
    throw ValueError(std::string("Module::") + what + ": name '" + name + "' is already registered");
}

Tensor Module::register_parameter(const std::string& name, Tensor t) {
  check_new_name(name, "register_parameter");
  if (!t.defined()) throw ValueError("Module::register_parameter: '" + name + "' is an undefined tensor");
  t.requires_grad_(true);
  params_.emplace_back(name, t);
  return t;
}

Tensor Module::register_buffer(const std::string& name, Tensor t) {
  check_new_name(name, "register_buffer");
  if (!t.defined()) throw ValueError("Module::register_buffer: '" + name + "' is an undefined tensor");
  buffers_.emplace_back(name, t);
  return t;
}

Tensor Module::replace_parameter(const std::string& name, Tensor t) {
  for (auto& [n, p] : params_)
    if (n == name) {
      if (!t.defined() || t.shape() != p.shape())
        throw ShapeError("Module::replace_parameter: '" + name + "' is " + shape_str(p.shape()) + ", got " +
                         (t.defined() ? shape_str(t.shape()) : std::string("undefined")));
      t.requires_grad_(true);
      p = t;
      return t;
    }
  throw ValueError("Module::replace_parameter: no parameter named '" + name + "'");
}

void Module::add_child(const std::string& name, std::shared_ptr<Module> m) {
  check_new_name(name, "register_module");
  if (!m) throw ValueError("Module::register_module: '" + name + "' is null");
  children_.emplace_back(name, std::move(m));
}

void Module::collect(const std::string& prefix, NamedTensors& params, NamedTensors& buffers,
                     NamedTensors& state) const {
  for (const auto& [n, t] : params_) {
    params.emplace_back(prefix + n, t);
    state.emplace_back(prefix + n, t);
  }
  for (const auto& [n, t] : buffers_) {
    buffers.emplace_back(prefix + n, t);
    state.emplace_back(prefix + n, t);
  }
  for (const auto& [n, c] : children_) c->collect(prefix + n + ".", params, buffers, state);
}

namespace {
NamedTensors dedup(const NamedTensors& in) {
  std::set<const TensorImpl*> seen;
  NamedTensors out;
  for (const auto& [n, t] : in)
    if (seen.insert(t.impl_ptr().get()).second) out.emplace_back(n, t);
  return out;
}
}  // namespace

NamedTensors Module::named_parameters() const {
  NamedTensors p, b, s;
  collect("", p, b, s);
  return dedup(p);
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& [_, t] : named_parameters()) out.push_back(t);
  return out;
}

NamedTensors Module::named_buffers() const {
  NamedTensors p, b, s;
  collect("", p, b, s);
  return dedup(b);
}

NamedTensors Module::state_dict() const {
  NamedTensors p, b, s;
  collect("", p, b, s);
  return s;
}

void Module::load_state_dict(const NamedTensors& sd, bool strict) {
  const NamedTensors mine = state_dict();
  std::map<std::string, const Tensor*> given;
  std::vector<std::string> unexpected, missing, mismatched, duplicate;
  for (const auto& [n, t] : sd)
    if (!given.emplace(n, &t).second) duplicate.push_back(n);
  std::set<std::string> known;
  for (const auto& [n, t] : mine) {
    known.insert(n);
    auto it = given.find(n);
    if (it == given.end()) {
      missing.push_back(n);
      continue;
    }
    const Tensor& src = *it->second;
    if (!src.defined())
      mismatched.push_back(n + ": checkpoint tensor is undefined");
    else if (src.shape() != t.shape())
      mismatched.push_back(n + ": checkpoint " + shape_str(src.shape()) + " vs model " + shape_str(t.shape()));
  }
  for (const auto& [n, _] : sd)
    if (!known.count(n)) unexpected.push_back(n);

  auto join = [](const std::vector<std::string>& v) {
    std::string s;
    for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + v[i];
    return s;
  };
  std::string msg;
  if (strict && !missing.empty()) msg += "\n  missing keys: " + join(missing);
  if (strict && !unexpected.empty()) msg += "\n  unexpected keys: " + join(unexpected);
  if (!duplicate.empty()) msg += "\n  duplicate keys: " + join(duplicate);
  if (!mismatched.empty()) msg += "\n  shape mismatches: " + join(mismatched);
  if (!msg.empty()) throw ValueError("load_state_dict: checkpoint does not fit the model:" + msg);

  NoGradGuard ng;
  for (const auto& [n, t] : mine) {
    auto it = given.find(n);
    if (it == given.end()) continue;
    Tensor dst = t;  // handle: copies into the module's own storage
    if (!it->second->same(dst)) dst.copy_(*it->second);
  }
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [_, c] : children_) c->train(on);
}

void Module::zero_grad() {
  for (Tensor& t : parameters()) t.zero_grad();
}

int64_t Module::num_parameters() const {
  int64_t n = 0;
  for (const Tensor& t : parameters()) n += t.numel();
  return n;
}

std::vector<std::pair<std::string, std::shared_ptr<Module>>> Module::named_children() const { return children_; }

std::vector<std::pair<std::string, Module*>> Module::named_modules() {
  std::vector<std::pair<std::string, Module*>> out{{"", this}};
  for (auto& [n, c] : children_)
    for (auto& [cn, m] : c->named_modules()) out.emplace_back(cn.empty() ? n : n + "." + cn, m);
  return out;
}

std::vector<std::pair<std::string, const Module*>> Module::named_modules() const {
  std::vector<std::pair<std::string, const Module*>> out;
  for (auto& [n, m] : const_cast<Module*>(this)->named_modules()) out.emplace_back(n, m);
  return out;
}

}  // namespace qkv::nn
