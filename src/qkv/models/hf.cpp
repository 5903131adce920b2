// Hugging Face directories in and out (see qkv/models/hf.h). The field and
// tensor names are those of transformers' GPT2Config / GPT2LMHeadModel and
// LlamaConfig / LlamaForCausalLM; BERT's are in hf_bert.cpp, every family's
// config import (config_from_hf) in hf_config.cpp.
#include "qkv/core/json_parse.h"
#include "qkv/models/hf.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <regex>
#include <set>

#include "qkv/autograd/autograd.h"
#include "qkv/core/error.h"
#include "qkv/io/file.h"
#include "qkv/io/json.h"
#include "qkv/nn/layers.h"
#include "qkv/ops/ops.h"
#include "hf_util.h"

namespace qkv::models {

namespace hf_detail {

bool same_values(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape()) return false;
  NoGradGuard ng;
  return amax(abs(sub(a.to(DType::Float32), b.to(DType::Float32)))).item() == 0.0f;
}

}  // namespace hf_detail

namespace {

using namespace hf_detail;

namespace fs = std::filesystem;
using nlohmann::json;

// ------------------------------------------------------------------ GPT-2

json gpt2_from_gpt(const json& q) {
  if (q.value("pos_encoding", "learned") != "learned" || !q.value("bias", true))
    throw ValueError("export: a Hugging Face GPT-2 has learned positions and biases; this model has pos_encoding " +
                     q.value("pos_encoding", std::string("learned")) + ", bias " + (q.value("bias", true) ? "true" : "false"));
  const double p = q.value("dropout", 0.0);
  return json{{"architectures", {"GPT2LMHeadModel"}},
              {"model_type", "gpt2"},
              {"vocab_size", q.at("vocab_size")},
              {"n_positions", q.at("block_size")},
              {"n_ctx", q.at("block_size")},
              {"n_embd", q.at("n_embd")},
              {"n_layer", q.at("n_layer")},
              {"n_head", q.at("n_head")},
              {"n_inner", nullptr},
              {"activation_function", q.value("activation", "gelu") == "gelu_tanh" ? "gelu_new" : "gelu"},
              {"resid_pdrop", p},
              {"embd_pdrop", p},
              {"attn_pdrop", p},
              {"layer_norm_epsilon", 1e-5},
              {"initializer_range", 0.02},
              {"scale_attn_weights", true},
              {"tie_word_embeddings", true},
              {"use_cache", true}};
}

// GPT-2's Conv1D layers keep their weight as (in, out): x·W + b.
const std::regex kConv1D(R"(h\.\d+\.(attn\.c_attn|attn\.c_proj|mlp\.c_fc|mlp\.c_proj)\.weight)");
const std::regex kMaskBuffer(R"(h\.\d+\.attn\.(bias|masked_bias))");

Shape conv1d_shape(const std::string& name, int64_t C) {
  if (name.find("c_attn") != std::string::npos) return {C, 3 * C};
  if (name.find("mlp.c_fc") != std::string::npos) return {C, 4 * C};
  if (name.find("mlp.c_proj") != std::string::npos) return {4 * C, C};
  return {C, C};
}


void gpt_tensors_from_gpt2(const json& q, TensorList& tensors) {
  const int64_t C = q.at("n_embd").get<int64_t>();
  TensorList out;
  const Tensor* lm_head = nullptr;
  for (auto& [raw, t] : tensors) {
    std::string name = raw.rfind("transformer.", 0) == 0 ? raw.substr(12) : raw;
    if (std::regex_match(name, kMaskBuffer)) continue;  // the causal mask, a buffer
    if (name == "lm_head.weight") {
      lm_head = &t;
      continue;
    }
    if (std::regex_match(name, kConv1D)) {
      const Shape want = conv1d_shape(name, C);
      if (t.shape() != want)
        throw ValueError("tensor '" + raw + "' is " + shape_str(t.shape()) + "; config.json (n_embd " +
                         std::to_string(C) + ") expects " + shape_str(want) + " (Conv1D: in, out)");
      out.emplace_back(name, t.transpose(0, 1).contiguous());
      continue;
    }
    out.emplace_back(name, t);
  }
  if (lm_head) {  // tied: stored twice by some writers; it must be wte
    const auto wte = std::find_if(out.begin(), out.end(), [](const auto& p) { return p.first == "wte.weight"; });
    if (wte == out.end() || !same_values(*lm_head, wte->second))
      throw ValueError("tensor 'lm_head.weight' differs from 'wte.weight'; qkv's GPT ties them");
  }
  tensors = std::move(out);
}

TensorList gpt2_tensors_from_gpt(const TensorList& sd) {
  TensorList out;
  for (const auto& [name, t] : sd)
    out.emplace_back("transformer." + name, std::regex_match(name, kConv1D) ? t.transpose(0, 1).contiguous() : t);
  return out;  // lm_head: tied, transformers restores it from wte
}


json hf_from_llama(const json& q) {
  json hf = q;
  hf["architectures"] = {"LlamaForCausalLM"};
  hf["attention_bias"] = false;
  hf["mlp_bias"] = false;
  hf["rope_scaling"] = nullptr;
  hf["pretraining_tp"] = 1;
  hf["use_cache"] = true;
  return hf;
}

void llama_tensors_from_hf(const json& q, TensorList& tensors) {
  if (!q.value("tie_word_embeddings", false)) return;
  TensorList out;
  const Tensor* lm_head = nullptr;
  for (auto& [name, t] : tensors) {
    if (name == "lm_head.weight")
      lm_head = &t;
    else
      out.emplace_back(name, t);
  }
  if (lm_head) {
    const auto e = std::find_if(out.begin(), out.end(), [](const auto& p) { return p.first == "model.embed_tokens.weight"; });
    if (e == out.end() || !same_values(*lm_head, e->second))
      throw ValueError("tensor 'lm_head.weight' differs from 'model.embed_tokens.weight' but tie_word_embeddings is true");
  }
  tensors = std::move(out);
}

}  // namespace

void tensors_from_hf(const nlohmann::json& original_config, const nlohmann::json& qkv_config, TensorList& tensors) {
  const std::string type = hf_type(original_config);
  if (type == "gpt2") gpt_tensors_from_gpt2(qkv_config, tensors);
  if (type == "llama") llama_tensors_from_hf(qkv_config, tensors);
  if (type == "bert") bert_tensors_from_hf(qkv_config, tensors);
}

io::NamedTensors load_checkpoint(const std::string& dir, bool read_data) {
  const std::string single = dir + "/model.safetensors", index_path = dir + "/model.safetensors.index.json";
  if (fs::exists(single) || !fs::exists(index_path)) {
    if (!fs::exists(single)) throw IOError(dir + ": missing model.safetensors (or model.safetensors.index.json)");
    return io::load_safetensors(single, read_data);
  }
  const json index = io::read_json(index_path);
  if (!index.is_object() || !index.contains("weight_map") || !index["weight_map"].is_object())
    throw IOError(index_path + ": expected an object with a \"weight_map\" object");
  std::map<std::string, std::string> where;  // tensor → shard
  std::vector<std::string> shards;           // in the order first named
  for (const auto& [name, file] : index["weight_map"].items()) {
    if (!file.is_string()) throw IOError(index_path + ": weight_map[\"" + name + "\"] is not a file name");
    const std::string f = file.get<std::string>();
    if (f.empty() || f.find('/') != std::string::npos || f.find("..") != std::string::npos)
      throw IOError(index_path + ": weight_map[\"" + name + "\"] = \"" + f + "\" is not a file in " + dir);
    where[name] = f;
    if (std::find(shards.begin(), shards.end(), f) == shards.end()) shards.push_back(f);
  }
  io::NamedTensors all;
  std::map<std::string, std::string> seen;  // tensor → the shard it came from
  for (const std::string& f : shards) {
    if (!fs::exists(dir + "/" + f)) throw IOError(index_path + ": names shard " + f + ", which is missing");
    io::NamedTensors part = io::load_safetensors(dir + "/" + f, read_data);
    if (all.metadata.empty()) all.metadata = part.metadata;
    for (auto& [name, t] : part.tensors) {
      auto [it, fresh] = seen.emplace(name, f);
      if (!fresh) throw IOError(index_path + ": tensor '" + name + "' is in two shards, " + it->second + " and " + f);
      all.tensors.emplace_back(name, std::move(t));
    }
    all.file_dtypes.insert(part.file_dtypes.begin(), part.file_dtypes.end());
  }
  for (const auto& [name, f] : seen) {
    auto w = where.find(name);
    if (w == where.end() || w->second != f)
      throw IOError(index_path + ": tensor '" + name + "' is in " + f + " but the weight_map puts it " +
                    (w == where.end() ? std::string("nowhere") : "in " + w->second));
  }
  for (const auto& [name, f] : where)
    if (!seen.count(name)) throw IOError(index_path + ": tensor '" + name + "' is not in its shard " + f);
  return all;
}

GenerationDefaults read_generation_config(const std::string& dir) {
  GenerationDefaults g;
  const std::string path = dir + "/generation_config.json";
  if (!fs::exists(path)) return g;
  const json j = io::read_json(path);
  if (!j.is_object()) throw ValueError(path + ": expected a JSON object");
  auto get = [&](const char* key) -> const json* {
    auto it = j.find(key);
    return it == j.end() || it->is_null() ? nullptr : &*it;
  };
  auto wrong = [&](const char* key, const char* want) {
    return ValueError(path + ": " + key + " must be " + want + ", got " + j[key].type_name());
  };
  if (const json* v = get("eos_token_id")) {
    const json& first = v->is_array() && !v->empty() ? (*v)[0] : *v;
    if (!first.is_number_integer() || first.get<int64_t>() < 0) throw wrong("eos_token_id", "a token id (or a list of them)");
    g.eos_token_id = first.get<int64_t>();
  }
  if (const json* v = get("do_sample")) {
    if (!v->is_boolean()) throw wrong("do_sample", "true or false");
    g.do_sample = v->get<bool>();
  }
  if (const json* v = get("temperature")) {
    if (!v->is_number()) throw wrong("temperature", "a number");
    g.temperature = v->get<float>();
  }
  if (const json* v = get("top_p")) {
    if (!v->is_number()) throw wrong("top_p", "a number");
    g.top_p = v->get<float>();
  }
  if (const json* v = get("top_k")) {
    if (!v->is_number_integer()) throw wrong("top_k", "an integer");
    g.top_k = v->get<int64_t>();
  }
  return g;
}

void export_hf(const Model& model, const std::string& out, const std::string& tokenizer_json) {
  const json q = model.config_json();
  const std::string type = model.model_type();
  // LoRA adapters must be merged into the base weights first (merge_lora);
  // their own tensors are not part of a Hugging Face model.
  for (const auto& [path, m] : model.named_modules())
    if (auto* l = dynamic_cast<const nn::Linear*>(m); l && l->has_lora() && !l->lora_merged)
      throw ValueError("export: layer " + path + " has an unmerged LoRA adapter; merge it first (models::merge_lora)");
  TensorList sd;
  for (auto& [name, t] : model.state_dict())
    if (name.find(".lora_A.") == std::string::npos && name.find(".lora_B.") == std::string::npos) sd.emplace_back(name, t);
  json config;
  TensorList tensors;
  if (type == "gpt") {
    config = gpt2_from_gpt(q);
    tensors = gpt2_tensors_from_gpt(sd);
  } else if (type == "llama") {
    config = hf_from_llama(q);
    tensors = sd;
  } else if (type == "bert") {
    config = hf_from_bert(q);
    tensors = hf_tensors_from_bert(q, sd);
  } else {
    throw ValueError("export: a '" + type +
                     "' model has no Hugging Face form in qkv (gpt → gpt2, llama → llama, bert → bert)");
  }
  if (!tokenizer_json.empty() && !fs::exists(tokenizer_json)) throw IOError(tokenizer_json + ": no such file");
  fs::create_directories(out);
  io::save_safetensors(out + "/model.safetensors", tensors, {{"format", "pt"}});
  io::write_json_atomic(out + "/config.json", config);
  if (!tokenizer_json.empty()) {  // tokenizer.json, or a SentencePiece tokenizer.model (Llama's slow tokenizer)
    const bool spm = fs::path(tokenizer_json).extension() == ".model";
    io::write_file_atomic(out + (spm ? "/tokenizer.model" : "/tokenizer.json"), io::read_file(tokenizer_json));
    // The source's own tokenizer_config.json (its add_bos_token …) goes along;
    // else the class, and for LlamaTokenizer (which adds <s> by default) that
    // qkv's runs train without it.
    const fs::path own = fs::path(tokenizer_json).parent_path() / "tokenizer_config.json";
    if (fs::is_regular_file(own))
      io::write_file_atomic(out + "/tokenizer_config.json", io::read_file(own.string()));
    else if (spm)
      io::write_json_atomic(out + "/tokenizer_config.json",
                            json{{"tokenizer_class", "LlamaTokenizer"}, {"add_bos_token", false}, {"add_eos_token", false}});
    else
      io::write_json_atomic(out + "/tokenizer_config.json", json{{"tokenizer_class", "PreTrainedTokenizerFast"}});
  }
}

}  // namespace qkv::models
