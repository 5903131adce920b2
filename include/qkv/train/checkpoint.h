// qkv/train/checkpoint.h — model directories on disk.
//
// A model directory is what a Hugging Face user expects:
//   config.json            the model config (GPTConfig::to_json)
//   model.safetensors      the parameters, state_dict names
//   tokenizer.json         the tokenizer (written by the caller)
// Training adds, for an exact resume:
//   optimizer.safetensors  the optimizer state (Optimizer::state)
//   trainer_state.json     step, best val loss, RNG states, trainer config
// Every file is written atomically (temp + rename). The training files carry
// the step they belong to (safetensors metadata "step"; trainer_state.json
// "step"), written last, so a resume can tell a set written by one save from
// a mix left by an interrupted one.
#pragma once
#include <string>

#include "qkv/models/gpt.h"

namespace qkv::train {

// Writes config.json + model.safetensors (with metadata {"step": step}).
void save_model(const std::string& dir, const models::GPT& model, int64_t step);
// Reads config.json, builds the model, loads model.safetensors strictly.
// IOError/ValueError name the file and the field or tensor at fault.
std::unique_ptr<models::GPT> load_model(const std::string& dir);
// The step recorded in `dir`/`file` (a safetensors file), or -1 if none.
int64_t safetensors_step(const std::string& path);

}  // namespace qkv::train
