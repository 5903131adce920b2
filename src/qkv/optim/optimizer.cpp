// Optimizer base: parameter groups, per-parameter step counts, state save/load.
// (The decay/no-decay split is nn::decay_groups: optim does not know modules.)
#include "qkv/optim/optimizer.h"

#include <map>
#include <set>


namespace qkv::optim {

Optimizer::~Optimizer() = default;

Optimizer::Optimizer(std::vector<ParamGroup> groups, float lr, const char* name)
    : name_(name), groups_(std::move(groups)), lr_(lr) {
  if (!(lr >= 0.0f)) throw ValueError(std::string(name) + ": lr must be >= 0, got " + std::to_string(lr));
  std::set<const TensorImpl*> seen;
  std::set<std::string> names;
  size_t n = 0;
  for (size_t gi = 0; gi < groups_.size(); ++gi) {
    const ParamGroup& g = groups_[gi];
    if (!(g.weight_decay >= 0.0f))
      throw ValueError(std::string(name) + ": weight_decay must be >= 0, got " + std::to_string(g.weight_decay));
    if (!g.names.empty() && g.names.size() != g.params.size())
      throw ValueError(std::string(name) + ": group " + std::to_string(gi) + " has " + std::to_string(g.names.size()) +
                       " names for " + std::to_string(g.params.size()) + " parameters");
    for (size_t j = 0; j < g.params.size(); ++j) {
      const Tensor& p = g.params[j];
      const std::string where = std::string(name) + ": group " + std::to_string(gi) + " parameter " + std::to_string(j);
      if (!p.defined()) throw ValueError(where + " is undefined");
      if (p.dtype() != DType::Float32) throw ValueError(where + " is not float32");
      if (!p.is_contiguous()) throw ValueError(where + " is not contiguous");
      if (!seen.insert(p.impl_ptr().get()).second)
        throw ValueError(where + " appears more than once (tied weights must be passed once)");
      keys_.push_back(g.names.empty() ? std::to_string(n) : g.names[j]);
      if (!names.insert(keys_.back()).second)
        throw ValueError(where + ": the name \"" + keys_.back() + "\" is used twice");
      ++n;
    }
  }
  param_steps_.assign(n, 0);
}

void Optimizer::set_lr(float lr) {
  if (!(lr >= 0.0f)) throw ValueError(std::string(name_) + ": lr must be >= 0, got " + std::to_string(lr));
  lr_ = lr;
}

void Optimizer::zero_grad() {
  for (ParamGroup& g : groups_)
    for (Tensor& p : g.params) p.zero_grad();
}

void Optimizer::add_buffer(const std::string& name) {
  std::vector<Tensor> bufs;
  for (const ParamGroup& g : groups_)
    for (const Tensor& p : g.params) bufs.push_back(zeros(p.shape()));
  buffers_.emplace_back(name, std::move(bufs));
}

NamedTensors Optimizer::state() const {
  NamedTensors out;
  out.emplace_back("step_count", tensor_i64({step_count_}, {1}));
  out.emplace_back("lr", tensor({lr_}, {1}));
  for (size_t i = 0; i < param_steps_.size(); ++i)
    out.emplace_back("step." + keys_[i], tensor_i64({param_steps_[i]}, {1}));
  for (const auto& [name, bufs] : buffers_)
    for (size_t i = 0; i < bufs.size(); ++i) out.emplace_back(name + "." + keys_[i], bufs[i]);
  return out;
}

void Optimizer::load_state(const NamedTensors& st) {
  // What state() would produce: name → expected shape.
  std::map<std::string, Shape> want;
  want["step_count"] = {1};
  want["lr"] = {1};
  // Index keys of a state saved before the groups had names → name keys.
  std::map<std::string, std::string> by_index;
  for (size_t i = 0; i < param_steps_.size(); ++i) {
    want["step." + keys_[i]] = {1};
    by_index["step." + std::to_string(i)] = "step." + keys_[i];
  }
  for (const auto& [name, bufs] : buffers_)
    for (size_t i = 0; i < bufs.size(); ++i) {
      want[name + "." + keys_[i]] = bufs[i].shape();
      by_index[name + "." + std::to_string(i)] = name + "." + keys_[i];
    }
  std::map<std::string, Tensor> got;
  std::string unexpected, missing, mismatched;
  for (const auto& [saved, t] : st) {
    auto idx = by_index.find(saved);
    const std::string& n = want.count(saved) || idx == by_index.end() ? saved : idx->second;
    auto it = want.find(n);
    if (it == want.end()) {
      unexpected += (unexpected.empty() ? "" : ", ") + n;
    } else if (!t.defined() || t.shape() != it->second) {
      mismatched += (mismatched.empty() ? "" : ", ") + n + ": state " +
                    (t.defined() ? shape_str(t.shape()) : std::string("undefined")) + " vs optimizer " +
                    shape_str(it->second);
    } else {
      got[n] = t;
    }
  }
  for (const auto& [n, _] : want)
    if (!got.count(n) && mismatched.find(n + ":") == std::string::npos) missing += (missing.empty() ? "" : ", ") + n;
  std::string msg;
  if (!missing.empty()) msg += "\n  missing: " + missing;
  if (!unexpected.empty()) msg += "\n  unexpected: " + unexpected;
  if (!mismatched.empty()) msg += "\n  shape mismatches: " + mismatched;
  if (!msg.empty()) throw ValueError(std::string(name_) + ": load_state: state does not fit this optimizer:" + msg);

  auto as_int = [&](const std::string& n) {
    int64_t v = got[n].to_int_vector()[0];
    if (v < 0) throw ValueError(std::string(name_) + ": load_state: " + n + " is negative");
    return v;
  };
  std::vector<int64_t> steps(param_steps_.size());
  for (size_t i = 0; i < steps.size(); ++i) steps[i] = as_int("step." + keys_[i]);
  const int64_t count = as_int("step_count");
  const float lr = got["lr"].to_vector()[0];
  set_lr(lr);
  step_count_ = count;
  param_steps_ = steps;
  for (auto& [name, bufs] : buffers_)
    for (size_t i = 0; i < bufs.size(); ++i) {
      const Tensor& src = got[name + "." + keys_[i]];
      if (!src.same(bufs[i])) bufs[i].copy_(src);
    }
}

}  // namespace qkv::optim
