// qkv/models/lora.h — LoRA fine-tuning (Hu et al. 2021) of a model's Linear
// layers, and adapters in PEFT's format (docs/HF.md, "LoRA").
//
//   models::LoraConfig c = models::LoraConfig::parse("r=8,alpha=16,targets=q,v");
//   auto names = models::apply_lora(*model, c, gen);   // adapters on, everything else frozen
//   ... train ...
//   models::save_peft_adapter("adapter/", *model, c);  // adapter_config.json + adapter_model.safetensors
//   models::load_peft_adapter("adapter/", *other, gen); // the same adapters on another copy of the base
//
// Targets name layers by the last part of their path: the family's own names
// ("c_attn", "q_proj", "mlp.c_fc") or the short ones q, k, v, o (attention),
// up, down, gate (feed-forward). GPT's q, k and v share one fused layer,
// c_attn (what PEFT adapts for GPT-2 too): any of them adapts all three.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "qkv/core/rng.h"
#include "qkv/models/model.h"

namespace qkv::models {

struct LoraConfig {
  int64_t r = 8;        // rank
  float alpha = 16.0f;  // scaling α (the update is multiplied by α / r)
  float dropout = 0.0f; // PEFT's lora_dropout: on each adapter's input, in training
  std::vector<std::string> targets = {"q", "v"};  // the paper's choice (§7.1)
  // "r=8,alpha=16,dropout=0.05,targets=q,v" (keys in any order; targets last,
  // its values comma-separated). ValueError naming the bad key or value.
  static LoraConfig parse(const std::string& spec);
};

// Adds an adapter to every Linear whose path ends with a target (after the
// short names are mapped for this model's family) and freezes every other
// parameter. Returns the adapted layers' paths. ValueError when a target
// matches no layer (naming it and the family's layer names), or for bad r/α.
std::vector<std::string> apply_lora(Model& model, const LoraConfig& cfg, Generator& gen);
// The layers (paths) that carry an adapter.
std::vector<std::string> lora_layers(const Model& model);
// Folds every adapter into its base weight (inference at the base model's
// speed, or before export); unmerge_lora undoes it.
void merge_lora(Model& model);
void unmerge_lora(Model& model);

// Writes DIR/adapter_config.json (peft_type LORA, r, lora_alpha, lora_dropout,
// target_modules, fan_in_fan_out for GPT-2's Conv1D, task_type CAUSAL_LM) and
// DIR/adapter_model.safetensors (PEFT's names:
// "base_model.model.<Hugging Face layer path>.lora_A.weight"), atomically.
void save_peft_adapter(const std::string& dir, const Model& model, const LoraConfig& cfg,
                       const std::string& base_model = "");
// Reads a PEFT LoRA adapter directory (written by qkv or by PEFT) onto
// `model`: adds the adapters its config names and loads their weights.
// IOError/ValueError naming the file and field or tensor when the adapter is
// not LoRA, targets layers this model lacks, or has shapes of another base.
LoraConfig load_peft_adapter(const std::string& dir, Model& model, Generator& gen);

}  // namespace qkv::models
