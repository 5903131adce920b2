#include "qkv/train/checkpoint.h"

#include <filesystem>

#include "qkv/io/json.h"
#include "qkv/io/safetensors.h"

namespace qkv::train {

namespace fs = std::filesystem;

void save_model(const std::string& dir, const models::GPT& model, int64_t step) {
  fs::create_directories(dir);
  io::write_json_atomic(dir + "/config.json", model.config.to_json());
  auto sd = model.state_dict();
  // Tied weights appear under one name only (wte.weight); the output
  // projection has no separate tensor.
  io::save_safetensors(dir + "/model.safetensors", sd,
                       {{"format", "pt"}, {"step", std::to_string(step)}, {"producer", "qkv"}});
}

std::unique_ptr<models::GPT> load_model(const std::string& dir) {
  if (!fs::is_directory(dir)) throw IOError(dir + ": not a model directory (does not exist)");
  for (const char* f : {"config.json", "model.safetensors"})
    if (!fs::exists(dir + "/" + f)) throw IOError(dir + ": missing " + f);
  models::GPTConfig cfg;
  try {
    cfg = models::GPTConfig::from_json(io::read_json(dir + "/config.json"));
  } catch (const ValueError& e) {
    throw ValueError(dir + "/config.json: " + e.what());
  }
  Generator gen(0);
  auto model = std::make_unique<models::GPT>(cfg, gen);
  io::NamedTensors st = io::load_safetensors(dir + "/model.safetensors");
  try {
    model->load_state_dict(st.tensors, true);
  } catch (const Error& e) {
    throw ValueError(dir + "/model.safetensors does not fit " + dir + "/config.json: " + e.what());
  }
  model->eval();
  return model;
}

int64_t safetensors_step(const std::string& path) {
  io::NamedTensors st = io::load_safetensors(path);
  auto it = st.metadata.find("step");
  if (it == st.metadata.end()) return -1;
  try {
    return std::stoll(it->second);
  } catch (...) {
    throw IOError(path + ": metadata \"step\" is not an integer: " + it->second);
  }
}

}  // namespace qkv::train
