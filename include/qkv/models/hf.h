// qkv/models/hf.h — Hugging Face model directories, as they are, in and out
// (docs/HF.md).
//
// A Hugging Face directory holds config.json (HF's field names and
// model_type), model.safetensors or shards listed by
// model.safetensors.index.json, and tokenizer.json. models::load_model reads
// one through this file: its config becomes the family's qkv config, its
// tensors the family's names and layouts. export_hf writes a qkv model back
// in the form Hugging Face transformers loads.
//
//   Family      HF model_type   qkv model_type   what changes
//   GPT-2       gpt2            gpt              names ("transformer." prefix), Conv1D weights stored (in, out)
//   Llama       llama           llama            nothing but the config's extra keys
//   BERT        bert            bert             the tied MLM decoder and position_ids buffer dropped,
//                                                weights of absent heads dropped, BertModel's names
//                                                gain "bert." (hf_bert.cpp)
#pragma once
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "qkv/core/tensor.h"
#include "qkv/io/safetensors.h"
#include "qkv/models/model.h"

namespace qkv::models {

using TensorList = std::vector<std::pair<std::string, Tensor>>;

// A config.json of a Hugging Face model_type qkv reads ("gpt2", "llama") →
// the qkv family's config JSON (its model_type, its field names). Keys that
// only describe the checkpoint (architectures, torch_dtype, token ids, …)
// are dropped; settings qkv's model cannot honour fail with a ValueError
// naming the field and value. Any other model_type passes through unchanged.
nlohmann::json config_from_hf(const nlohmann::json& config);

// The checkpoint's tensors → the family's names and layouts, for the config
// config_from_hf made (`qkv_config`): GPT-2 loses "transformer.", its Conv1D
// weights turn (in, out) → (out, in), its causal-mask buffers
// (h.N.attn.bias, h.N.attn.masked_bias) go, and a tied lm_head stored a
// second time goes. ValueError naming the tensor, the expected and found
// shape. A qkv checkpoint passes through unchanged.
void tensors_from_hf(const nlohmann::json& original_config, const nlohmann::json& qkv_config, TensorList& tensors);

// All tensors of a model directory: model.safetensors, or the shards
// model.safetensors.index.json lists (IOError naming the index and the
// shard that is missing, a tensor in two shards, or one the index puts in a
// shard that lacks it). Metadata from the single file or the first shard.
io::NamedTensors load_checkpoint(const std::string& dir, bool read_data = true);

// A directory's generation_config.json (transformers' GenerationConfig), the
// fields qkv's sampling has: each empty when absent or null. eos_token_id may
// be a list there; the first id is kept. ValueError naming the file and field
// for a wrong type. No file: all empty.
struct GenerationDefaults {
  std::optional<int64_t> eos_token_id, top_k;
  std::optional<bool> do_sample;
  std::optional<float> temperature, top_p;
};
GenerationDefaults read_generation_config(const std::string& dir);

// Writes `model` to `out` as a Hugging Face directory: config.json
// (architectures, HF field names), model.safetensors (HF names and layouts,
// metadata {"format": "pt"}), plus tokenizer.json (or, when `tokenizer_json`
// names a .model file, that SentencePiece tokenizer.model) and a
// tokenizer_config.json (the one beside the tokenizer file, else a minimal
// one) when `tokenizer_json` names a file. ValueError when the model has no
// Hugging Face form (a GPT with rotary positions, the encoder–decoder
// Transformer); nothing is written then.
void export_hf(const Model& model, const std::string& out, const std::string& tokenizer_json = "");

}  // namespace qkv::models
