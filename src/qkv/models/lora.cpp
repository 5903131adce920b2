// LoRA adapters on a model's Linear layers and PEFT's adapter format (see
// qkv/models/lora.h). PEFT's names and config keys are those of
// peft.LoraConfig and its saved adapter_model.safetensors.
#include "qkv/models/lora.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "qkv/core/error.h"
#include "qkv/core/json_parse.h"
#include "qkv/io/json.h"
#include "qkv/io/safetensors.h"
#include "qkv/nn/layers.h"

namespace qkv::models {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string kPeftPrefix = "base_model.model.";

// The family's layer for a short target name, or the name itself.
std::string family_target(const std::string& type, const std::string& t) {
  static const std::map<std::string, std::map<std::string, std::string>> kShort = {
      {"gpt", {{"q", "attn.c_attn"}, {"k", "attn.c_attn"}, {"v", "attn.c_attn"}, {"o", "attn.c_proj"},
               {"up", "mlp.c_fc"}, {"down", "mlp.c_proj"}}},
      {"llama", {{"q", "q_proj"}, {"k", "k_proj"}, {"v", "v_proj"}, {"o", "o_proj"}, {"up", "up_proj"},
                 {"down", "down_proj"}, {"gate", "gate_proj"}}},
  };
  auto f = kShort.find(type);
  if (f == kShort.end()) return t;
  auto it = f->second.find(t);
  return it == f->second.end() ? t : it->second;
}

bool ends_with_part(const std::string& path, const std::string& target) {
  return path == target ||
         (path.size() > target.size() && path.compare(path.size() - target.size(), target.size(), target) == 0 &&
          path[path.size() - target.size() - 1] == '.');
}

// Hugging Face's path of a qkv layer path, and back (models/hf.h's names).
std::string hf_path(const std::string& type, const std::string& p) { return type == "gpt" ? "transformer." + p : p; }
std::string qkv_path(const std::string& type, const std::string& p) {
  return type == "gpt" && p.rfind("transformer.", 0) == 0 ? p.substr(12) : p;
}

std::vector<std::pair<std::string, nn::Linear*>> linears(Model& model) {
  std::vector<std::pair<std::string, nn::Linear*>> out;
  for (auto& [path, m] : model.named_modules())
    if (auto* l = dynamic_cast<nn::Linear*>(m); l && path.find("lora_") == std::string::npos) out.emplace_back(path, l);
  return out;
}

void freeze_all_but_adapters(Model& model) {
  for (auto& [name, p] : model.named_parameters()) {
    Tensor t = p;
    t.requires_grad_(name.find(".lora_A.") != std::string::npos || name.find(".lora_B.") != std::string::npos);
  }
}

std::string last_part(const std::string& path) {
  const auto dot = path.rfind('.');
  return dot == std::string::npos ? path : path.substr(dot + 1);
}

}  // namespace

LoraConfig LoraConfig::parse(const std::string& spec) {
  LoraConfig c;
  std::vector<std::string> parts;
  std::stringstream ss(spec);
  for (std::string p; std::getline(ss, p, ',');) parts.push_back(p);
  bool in_targets = false;
  for (const std::string& p : parts) {
    const auto eq = p.find('=');
    if (eq == std::string::npos) {
      if (!in_targets || p.empty()) throw ValueError("--lora: expected key=value, got \"" + p + "\" in \"" + spec + "\"");
      c.targets.push_back(p);  // more targets after targets=…
      continue;
    }
    const std::string key = p.substr(0, eq), value = p.substr(eq + 1);
    in_targets = false;
    try {
      size_t used = 0;
      if (key == "r") {
        c.r = std::stoll(value, &used);
      } else if (key == "alpha") {
        c.alpha = std::stof(value, &used);
      } else if (key == "dropout") {
        c.dropout = std::stof(value, &used);
      } else if (key == "targets") {
        c.targets = {value};
        in_targets = true;
        used = value.size();
      } else {
        throw ValueError("--lora: unknown key \"" + key + "\" (r, alpha, dropout, targets)");
      }
      if (used != value.size() || value.empty()) throw std::invalid_argument(value);
    } catch (const std::logic_error&) {  // invalid_argument, out_of_range
      throw ValueError("--lora: " + key + " = \"" + value + "\" is not a number");
    }
  }
  if (c.r < 1) throw ValueError("--lora: r must be >= 1, got " + std::to_string(c.r));
  if (!(c.alpha > 0)) throw ValueError("--lora: alpha must be > 0, got " + std::to_string(c.alpha));
  if (!(c.dropout >= 0 && c.dropout < 1))
    throw ValueError("--lora: dropout must be in [0, 1), got " + std::to_string(c.dropout));
  if (c.targets.empty() || c.targets.front().empty()) throw ValueError("--lora: targets must name at least one layer");
  return c;
}

std::vector<std::string> apply_lora(Model& model, const LoraConfig& cfg, Generator& gen) {
  const auto layers = linears(model);
  std::set<std::string> wanted;
  for (const std::string& t : cfg.targets) {
    const std::string ft = family_target(model.model_type(), t);
    bool any = false;
    for (const auto& [path, l] : layers) any |= ends_with_part(path, ft);
    if (!any) {
      std::set<std::string> names;
      for (const auto& [path, l] : layers) names.insert(last_part(path));
      std::string known;
      for (const std::string& n : names) known += (known.empty() ? "" : ", ") + n;
      throw ValueError("LoRA: target \"" + t + "\" matches no Linear layer of this " + model.model_type() +
                       " model (its layers: " + known + "; short names q, k, v, o, up, down, gate)");
    }
    wanted.insert(ft);
  }
  std::vector<std::string> adapted;
  for (const auto& [path, l] : layers) {
    if (!std::any_of(wanted.begin(), wanted.end(), [&](const std::string& t) { return ends_with_part(path, t); }))
      continue;
    l->add_lora(cfg.r, cfg.alpha, gen, cfg.dropout);
    adapted.push_back(path);
  }
  freeze_all_but_adapters(model);
  return adapted;
}

std::vector<std::string> lora_layers(const Model& model) {
  std::vector<std::string> out;
  for (const auto& [path, m] : model.named_modules())
    if (auto* l = dynamic_cast<const nn::Linear*>(m); l && l->has_lora()) out.push_back(path);
  return out;
}

void merge_lora(Model& model) {
  for (auto& [path, l] : linears(model))
    if (l->has_lora()) l->merge_lora();
}

void unmerge_lora(Model& model) {
  for (auto& [path, l] : linears(model))
    if (l->has_lora()) l->unmerge_lora();
}

void save_peft_adapter(const std::string& dir, const Model& model, const LoraConfig& cfg,
                       const std::string& base_model) {
  const std::string type = model.model_type();
  std::vector<std::pair<std::string, Tensor>> tensors;
  std::set<std::string> modules;
  for (const auto& [path, m] : model.named_modules()) {
    const auto* l = dynamic_cast<const nn::Linear*>(m);
    if (!l || !l->has_lora()) continue;
    if (l->lora_merged) throw ValueError("save_peft_adapter: " + path + "'s adapter is merged; unmerge it first");
    const std::string p = kPeftPrefix + hf_path(type, path);
    tensors.emplace_back(p + ".lora_A.weight", l->lora_A->weight);
    tensors.emplace_back(p + ".lora_B.weight", l->lora_B->weight);
    modules.insert(last_part(path));
  }
  if (tensors.empty()) throw ValueError("save_peft_adapter: the model has no LoRA adapter");
  json c = {{"peft_type", "LORA"},
            {"task_type", "CAUSAL_LM"},
            {"r", cfg.r},
            {"lora_alpha", cfg.alpha},
            {"lora_dropout", cfg.dropout},
            {"target_modules", std::vector<std::string>(modules.begin(), modules.end())},
            {"fan_in_fan_out", type == "gpt"},  // GPT-2's Conv1D stores (in, out)
            {"bias", "none"},
            {"use_rslora", false},
            {"modules_to_save", nullptr},
            {"init_lora_weights", true},
            {"inference_mode", true},
            {"base_model_name_or_path", base_model}};
  fs::create_directories(dir);
  io::save_safetensors(dir + "/adapter_model.safetensors", tensors, {{"format", "pt"}});
  io::write_json_atomic(dir + "/adapter_config.json", c);
}

LoraConfig load_peft_adapter(const std::string& dir, Model& model, Generator& gen) {
  const std::string cfg_path = dir + "/adapter_config.json", st_path = dir + "/adapter_model.safetensors";
  if (!fs::exists(cfg_path)) throw IOError(dir + ": missing adapter_config.json (not a PEFT adapter directory)");
  if (!fs::exists(st_path))
    throw IOError(dir + ": missing adapter_model.safetensors" +
                  std::string(fs::exists(dir + "/adapter_model.bin") ? " (adapter_model.bin, a pickle, is not read)" : ""));
  const json j = io::read_json(cfg_path);
  auto bad = [&](const std::string& key, const std::string& why) {
    return ValueError(cfg_path + ": " + key + " = " + (j.contains(key) ? json_excerpt(j[key]) : "(missing)") + ": " + why);
  };
  if (j.value("peft_type", "") != "LORA") throw bad("peft_type", "only LORA adapters are read");
  if (!j.contains("r") || !j["r"].is_number_integer() || j["r"].get<int64_t>() < 1) throw bad("r", "must be an integer >= 1");
  if (!j.contains("lora_alpha") || !j["lora_alpha"].is_number()) throw bad("lora_alpha", "must be a number");
  if (j.contains("lora_dropout") && !j["lora_dropout"].is_null() &&
      !(j["lora_dropout"].is_number() && j["lora_dropout"].get<double>() >= 0 && j["lora_dropout"].get<double>() < 1))
    throw bad("lora_dropout", "must be a number in [0, 1)");
  if (j.value("use_rslora", false)) throw bad("use_rslora", "rank-stabilised scaling is not supported");
  if (j.contains("use_dora") && j["use_dora"].is_boolean() && j["use_dora"].get<bool>())
    throw bad("use_dora", "DoRA is not supported");
  if (j.contains("bias") && j["bias"] != "none") throw bad("bias", "only \"none\" is supported");
  if (j.contains("modules_to_save") && !j["modules_to_save"].is_null() && !j["modules_to_save"].empty())
    throw bad("modules_to_save", "fully trained extra modules are not supported");
  LoraConfig cfg;
  cfg.r = j["r"].get<int64_t>();
  cfg.alpha = j["lora_alpha"].get<float>();
  if (j.contains("lora_dropout") && j["lora_dropout"].is_number()) cfg.dropout = j["lora_dropout"].get<float>();
  cfg.targets.clear();
  if (j.contains("target_modules") && j["target_modules"].is_array())
    for (const auto& t : j["target_modules"]) cfg.targets.push_back(t.get<std::string>());

  const std::string type = model.model_type();
  const io::NamedTensors st = io::load_safetensors(st_path);
  std::map<std::string, nn::Linear*> layers;
  for (auto& [path, l] : linears(model)) layers[path] = l;
  std::map<std::string, std::pair<Tensor, Tensor>> adapters;  // qkv layer path → (A, B)
  for (const auto& [name, t] : st.tensors) {
    const bool is_a = name.size() > 14 && name.compare(name.size() - 14, 14, ".lora_A.weight") == 0;
    const bool is_b = name.size() > 14 && name.compare(name.size() - 14, 14, ".lora_B.weight") == 0;
    if (name.rfind(kPeftPrefix, 0) != 0 || (!is_a && !is_b))
      throw ValueError(st_path + ": tensor '" + name + "' is not a LoRA matrix (base_model.model.<layer>.lora_A|B.weight)");
    const std::string path = qkv_path(type, name.substr(kPeftPrefix.size(), name.size() - 14 - kPeftPrefix.size()));
    if (!layers.count(path))
      throw ValueError(st_path + ": tensor '" + name + "' adapts layer " + path + ", which this " + type +
                       " model does not have (an adapter for another base?)");
    (is_a ? adapters[path].first : adapters[path].second) = t;
  }
  if (adapters.empty()) throw ValueError(st_path + ": no LoRA tensors");
  for (const auto& [path, ab] : adapters) {
    nn::Linear* l = layers[path];
    const auto& [A, B] = ab;
    if (!A.defined() || !B.defined())
      throw ValueError(st_path + ": layer " + path + " has lora_" + (A.defined() ? "A" : "B") + " but not lora_" +
                       (A.defined() ? "B" : "A"));
    const Shape want_a{cfg.r, l->in_features}, want_b{l->out_features, cfg.r};
    if (A.shape() != want_a || B.shape() != want_b)
      throw ValueError(st_path + ": layer " + path + ": lora_A " + shape_str(A.shape()) + ", lora_B " +
                       shape_str(B.shape()) + "; this model and r = " + std::to_string(cfg.r) + " expect " +
                       shape_str(want_a) + " and " + shape_str(want_b) + " (an adapter for another base?)");
  }
  for (const auto& [path, ab] : adapters) {
    nn::Linear* l = layers[path];
    l->add_lora(cfg.r, cfg.alpha, gen, cfg.dropout);
    l->lora_A->weight.copy_(ab.first);
    l->lora_B->weight.copy_(ab.second);
  }
  freeze_all_but_adapters(model);
  return cfg;
}

}  // namespace qkv::models
