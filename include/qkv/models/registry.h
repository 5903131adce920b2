// qkv/models/registry.h — every model family by its config.json
// "model_type", and model directories on disk.
//
//   std::unique_ptr<Model> m = models::load_model("runs/shakespeare");   // any family
//   auto gpt = models::load_model_as<models::GPT>(dir);                  // one family, or a clear error
//   models::save_model(dir, *m, step);
//
// A model directory is what a Hugging Face user expects:
//   config.json         the model's config_json() ("model_type" included)
//   model.safetensors   state_dict() under its names, metadata {"step": N}
// (tokenizer.json is written by whoever knows the tokenizer; a training run
// adds optimizer.safetensors and trainer_state.json, train/trainer.h.)
// Every file is written atomically (temp + rename).
//
// A new family is its model file plus one line in registry.cpp's built-in
// table (or a register_model_type call from outside the library).
#pragma once
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "qkv/core/error.h"
#include "qkv/core/rng.h"
#include "qkv/io/safetensors.h"
#include "qkv/models/model.h"

namespace qkv::models {

// Builds an initialised model from its config JSON (ValueError naming the
// field at fault).
using ModelFactory = std::function<std::unique_ptr<Model>(const nlohmann::json& config, Generator& gen)>;

// Adds (or replaces) a family. The built-in families are always present.
void register_model_type(const std::string& model_type, ModelFactory factory);
// Registered model_type names, sorted.
std::vector<std::string> model_types();
// The model config.json describes: ValueError when "model_type" is missing or
// unknown (naming the known ones) or the family's config rejects a field.
std::unique_ptr<Model> create_model(const nlohmann::json& config, Generator& gen);

// Writes config.json + model.safetensors (metadata {"step": step}).
void save_model(const std::string& dir, const Model& model, int64_t step);
// Reads config.json, builds the model of its model_type and loads
// model.safetensors strictly; returned in eval mode. IOError/ValueError name
// the directory, file and field or tensor at fault.
std::unique_ptr<Model> load_model(const std::string& dir);
// load_model, then a check that the family is T: otherwise ValueError
// "DIR holds a 'bert' model, which <what> cannot use".
template <class T>
std::unique_ptr<T> load_model_as(const std::string& dir, const std::string& what = "this command") {
  std::unique_ptr<Model> m = load_model(dir);
  if (auto* t = dynamic_cast<T*>(m.get())) {
    m.release();
    return std::unique_ptr<T>(t);
  }
  throw ValueError(dir + " holds a '" + m->model_type() + "' model, which " + what + " cannot use");
}
// The step recorded in a loaded safetensors file's metadata ("step"), or -1
// if none; IOError naming `path` when it is not an integer.
int64_t safetensors_step(const io::NamedTensors& file, const std::string& path);

}  // namespace qkv::models
