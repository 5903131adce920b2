// The model registry and model directories (see qkv/models/registry.h).
#include "qkv/models/registry.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <mutex>

#include "qkv/io/json.h"
#include "qkv/io/safetensors.h"
#include "qkv/models/bert.h"
#include "qkv/models/gpt.h"
#include "qkv/models/hf.h"
#include "qkv/models/llama.h"
#include "qkv/models/lora.h"
#include "qkv/models/transformer.h"
#include "qkv/nn/init.h"

namespace qkv::models {
namespace {

namespace fs = std::filesystem;

template <class M, class Config>
ModelFactory factory_of() {
  return [](const nlohmann::json& j, Generator& gen) -> std::unique_ptr<Model> {
    return std::make_unique<M>(Config::from_json(j), gen);
  };
}

struct Registry {
  std::mutex mu;
  std::map<std::string, ModelFactory> factories{
      // The built-in families: one line each.
      {"bert", factory_of<Bert, BertConfig>()},
      {"gpt", factory_of<GPT, GPTConfig>()},
      {"llama", factory_of<Llama, LlamaConfig>()},
      {"transformer", factory_of<Transformer, Seq2SeqConfig>()},
  };
};

Registry& registry() {
  static Registry r;
  return r;
}

std::string known_types() {
  std::string s;
  for (const std::string& t : model_types()) s += (s.empty() ? "" : ", ") + ("\"" + t + "\"");
  return s;
}

// A freshly built model takes the loaded tensors' memory as its parameters'
// instead of a copy (the load would otherwise hold the weights twice: the
// file's tensors and the parameters). Only where it is safe: a parameter
// that owns its storage alone (no views of it), a file tensor of the same
// shape, dtype and contiguous layout, and each file tensor given to one
// parameter at most. The entry in `file` then is the parameter itself, so
// load_state_dict — which still checks every name and shape — copies the rest.
void adopt_loaded_storage(Model& model, io::NamedTensors& file) {
  std::map<std::string, Tensor*> by_name;
  for (auto& [name, t] : file.tensors) by_name.emplace(name, &t);
  std::set<const Storage*> taken;
  for (auto& [name, param] : model.state_dict()) {
    auto it = by_name.find(name);
    if (it == by_name.end()) continue;
    Tensor& src = *it->second;
    TensorImpl& p = param.impl();
    if (!src.defined() || src.same(param) || src.shape() != param.shape() || src.dtype() != param.dtype() ||
        !src.is_contiguous() || !param.is_contiguous() || p.storage.use_count() != 1 ||
        !taken.insert(src.impl().storage.get()).second)
      continue;
    p.storage = src.impl().storage;
    p.offset = src.offset();
    src = param;
  }
}

}  // namespace

void register_model_type(const std::string& model_type, ModelFactory factory) {
  if (model_type.empty() || !factory) throw ValueError("register_model_type: empty model_type or factory");
  std::lock_guard<std::mutex> lock(registry().mu);
  registry().factories[model_type] = std::move(factory);
}

std::vector<std::string> model_types() {
  std::lock_guard<std::mutex> lock(registry().mu);
  std::vector<std::string> out;
  for (const auto& [k, _] : registry().factories) out.push_back(k);
  return out;
}

std::unique_ptr<Model> create_model(const nlohmann::json& config, Generator& gen) {
  if (!config.is_object()) throw ValueError("model config: expected a JSON object");
  if (!config.contains("model_type") || !config["model_type"].is_string())
    throw ValueError("model config: missing \"model_type\" (one of " + known_types() + ")");
  const std::string type = config["model_type"].get<std::string>();
  ModelFactory make;
  {
    std::lock_guard<std::mutex> lock(registry().mu);
    auto it = registry().factories.find(type);
    if (it != registry().factories.end()) make = it->second;
  }
  if (!make) throw ValueError("model config: unknown model_type \"" + type + "\" (known: " + known_types() + ")");
  return make(config, gen);
}

void save_model(const std::string& dir, const Model& model, int64_t step) {
  fs::create_directories(dir);
  io::write_json_atomic(dir + "/config.json", model.config_json());
  // Tied weights appear under one name only (GPT: wte.weight, no lm_head).
  io::save_safetensors(dir + "/model.safetensors", model.state_dict(),
                       {{"format", "pt"}, {"step", std::to_string(step)}, {"producer", "qkv"}});
}

std::unique_ptr<Model> load_model(const std::string& dir) {
  if (!fs::exists(dir)) throw IOError(dir + ": no such model directory");
  if (!fs::is_directory(dir)) throw IOError(dir + ": not a directory (expected a model directory)");
  if (!fs::exists(dir + "/config.json")) throw IOError(dir + ": missing config.json");
  // A Hugging Face directory (model_type gpt2, llama, …) is read as it is:
  // its config and tensors become the family's own (models/hf.h).
  const nlohmann::json original = io::read_json(dir + "/config.json");
  std::unique_ptr<Model> model;
  nlohmann::json config;
  // Every parameter is overwritten below (the load is strict): no random draws.
  const nn::SkipRandomInit no_draws;
  try {
    config = config_from_hf(original);
    Generator gen(0);
    model = create_model(config, gen);
  } catch (const ValueError& e) {
    throw ValueError(dir + "/config.json: " + e.what());
  }
  io::NamedTensors st = load_checkpoint(dir);
  // A LoRA fine-tuning run (qkv finetune --lora) saves the adapters with the
  // base; its adapter_config.json says where they go.
  const bool has_adapters = std::any_of(st.tensors.begin(), st.tensors.end(), [](const auto& t) {
    return t.first.find(".lora_A.weight") != std::string::npos;
  });
  if (has_adapters && fs::exists(dir + "/adapter_config.json")) {
    Generator gen(0);
    load_peft_adapter(dir, *model, gen);
  }
  try {
    tensors_from_hf(original, config, st.tensors);
    adopt_loaded_storage(*model, st);  // the weights once in memory, not twice
    model->load_state_dict(st.tensors, true);
  } catch (const Error& e) {
    const std::string weights = fs::exists(dir + "/model.safetensors") ? "model.safetensors" : "model.safetensors.index.json";
    throw ValueError(dir + "/" + weights + " does not fit " + dir + "/config.json: " + e.what());
  }
  model->eval();
  return model;
}

int64_t safetensors_step(const io::NamedTensors& file, const std::string& path) {
  auto it = file.metadata.find("step");
  if (it == file.metadata.end()) return -1;
  try {
    return std::stoll(it->second);
  } catch (...) {
    throw IOError(path + ": metadata \"step\" is not an integer: " + it->second);
  }
}

}  // namespace qkv::models
