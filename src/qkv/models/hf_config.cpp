// The config side of every family's Hugging Face import (see qkv/models/hf.h):
// config.json of transformers' GPT2Config, LlamaConfig and BertConfig turned
// into the family's own JSON. No tensors here, so parsing a config links
// without the tensor library (the fuzz targets in fuzz/ rely on that).
#include <cmath>
#include <cstdint>
#include <set>

#include "hf_util.h"
#include "qkv/core/error.h"
#include "qkv/core/json_parse.h"

namespace qkv::models {

namespace hf_detail {

using nlohmann::json;

std::string field_error(const std::string& family, const std::string& key, const nlohmann::json& value, const std::string& why) {
  return family + " config.json: " + key + " = " + json_excerpt(value) + ": " + why;
}

// `key` of `hf` when present (and not null), else `fallback`.
nlohmann::json get_or(const nlohmann::json& hf, const std::string& key, const nlohmann::json& fallback) {
  auto it = hf.find(key);
  return it == hf.end() || it->is_null() ? fallback : *it;
}

void require(const nlohmann::json& hf, const std::string& family, const std::string& key, const nlohmann::json& expected,
             const std::string& why) {
  const nlohmann::json v = get_or(hf, key, expected);
  if (v != expected) throw ValueError(field_error(family, key, v, why));
}

std::string hf_type(const json& config) {
  return config.is_object() && config.contains("model_type") && config["model_type"].is_string()
             ? config["model_type"].get<std::string>()
             : "";
}

namespace {

const std::set<std::string> kBertCheckpointKeys = {
    "_name_or_path", "torch_dtype", "transformers_version", "use_cache", "gradient_checkpointing",
    "bos_token_id", "eos_token_id", "sep_token_id", "output_past", "return_dict", "_attn_implementation_autoset",
    "directionality", "pooler_fc_size", "pooler_num_attention_heads", "pooler_num_fc_layers", "pooler_size_per_head",
    "pooler_type", "output_hidden_states", "output_attentions", "tie_word_embeddings", "chunk_size_feed_forward"};

}  // namespace

json bert_from_hf(const json& hf) {
  const std::string F = "BERT";
  require(hf, F, "is_decoder", false, "qkv's BERT is an encoder (no causal self-attention)");
  require(hf, F, "add_cross_attention", false, "qkv's BERT has no cross-attention");
  require(hf, F, "position_embedding_type", "absolute",
          "only absolute (learned) positions are supported (not relative_key / relative_key_query)");
  const json pt = get_or(hf, "problem_type", "single_label_classification");
  if (pt != json("single_label_classification"))
    throw ValueError(field_error(F, "problem_type", pt, "only single_label_classification is supported"));
  json q = hf;
  for (const std::string& k : kBertCheckpointKeys) q.erase(k);
  q.erase("is_decoder"), q.erase("add_cross_attention"), q.erase("problem_type");
  if (q.contains("pad_token_id") && q["pad_token_id"].is_null()) q.erase("pad_token_id");
  if (q.contains("architectures") && q["architectures"].is_array() && q["architectures"].size() > 1)
    q["architectures"] = json::array({q["architectures"][0]});  // the first class is the one loaded
  return q;
}

}  // namespace hf_detail

namespace {

using namespace hf_detail;
using nlohmann::json;

// Keys that describe a checkpoint, not the network: dropped on import.
const std::set<std::string> kCheckpointKeys = {
    "_name_or_path", "architectures", "torch_dtype", "transformers_version", "use_cache", "bos_token_id",
    "eos_token_id", "pad_token_id", "sep_token_id", "decoder_start_token_id", "task_specific_params",
    "_attn_implementation_autoset", "output_past", "return_dict", "id2label", "label2id"};

// ------------------------------------------------------------------ GPT-2

json gpt_from_gpt2(const json& hf) {
  const std::string F = "GPT-2";
  json q = json::object();
  q["model_type"] = "gpt";
  for (const char* k : {"vocab_size", "n_embd", "n_layer", "n_head"})
    if (hf.contains(k)) q[k] = hf[k];
  q["block_size"] = get_or(hf, "n_positions", get_or(hf, "n_ctx", 1024));
  const json n_embd = get_or(hf, "n_embd", 768);
  const json inner = get_or(hf, "n_inner", nullptr);
  // (an n_embd out of range is GPTConfig's to refuse; 4 * it must not overflow here, found by fuzz_model_config)
  const bool embd_ok = n_embd.is_number_integer() && n_embd.get<int64_t>() > 0 && n_embd.get<int64_t>() <= INT64_MAX / 4;
  if (!inner.is_null() && embd_ok && inner != json(4 * n_embd.get<int64_t>()))
    throw ValueError(field_error(F, "n_inner", inner, "qkv's GPT has a feed-forward of 4 * n_embd = " +
                                                          std::to_string(4 * n_embd.get<int64_t>())));
  const std::string act = get_or(hf, "activation_function", "gelu_new").get<std::string>();
  if (act == "gelu_new" || act == "gelu_pytorch_tanh" || act == "gelu_fast")
    q["activation"] = "gelu_tanh";
  else if (act == "gelu")
    q["activation"] = "gelu";
  else
    throw ValueError(field_error(F, "activation_function", act, "qkv's GPT has gelu_new (tanh) or gelu"));
  q["dropout"] = get_or(hf, "resid_pdrop", 0.1);  // one rate for embeddings, attention and residuals
  q["bias"] = true;
  q["pos_encoding"] = "learned";
  const json eps = get_or(hf, "layer_norm_epsilon", 1e-5);
  if (!eps.is_number() || std::abs(eps.get<double>() - 1e-5) > 1e-12)
    throw ValueError(field_error(F, "layer_norm_epsilon", eps, "qkv's GPT uses 1e-05"));
  require(hf, F, "scale_attn_weights", true, "qkv's attention always scales by 1/sqrt(head size)");
  require(hf, F, "scale_attn_by_inverse_layer_idx", false, "not supported");
  require(hf, F, "tie_word_embeddings", true, "qkv's GPT ties lm_head to wte");
  return q;
}

// ------------------------------------------------------------------ Llama

json llama_from_hf(const json& hf) {
  const std::string F = "Llama";
  require(hf, F, "attention_bias", false, "qkv's Llama has no attention biases");
  require(hf, F, "mlp_bias", false, "qkv's Llama has no feed-forward biases");
  require(hf, F, "rope_scaling", nullptr, "RoPE scaling of Hugging Face's Llama is not supported yet");
  const json pt = get_or(hf, "pretraining_tp", 1);
  if (pt != json(1)) throw ValueError(field_error(F, "pretraining_tp", pt, "only 1 (the plain matmuls) is supported"));
  json q = hf;
  for (const char* k : {"attention_bias", "mlp_bias", "rope_scaling", "pretraining_tp", "attention_dropout"})
    q.erase(k);
  if (q.contains("head_dim")) {
    const json hd = q["head_dim"];
    q.erase("head_dim");
    const int64_t C = q.value("hidden_size", int64_t{0}), H = q.value("num_attention_heads", int64_t{1});
    if (!hd.is_null() && H > 0 && hd != json(C / H))
      throw ValueError(field_error(F, "head_dim", hd, "qkv's Llama has head_dim = hidden_size / num_attention_heads = " +
                                                         std::to_string(C / H)));
  }
  return q;
}

// The rest of the HF config keys, filtered for the family's strict parser.
json drop_checkpoint_keys(json j) {
  for (const std::string& k : kCheckpointKeys) j.erase(k);
  return j;
}

}  // namespace

nlohmann::json config_from_hf(const nlohmann::json& config) {
  const std::string type = hf_type(config);
  try {
    if (type == "gpt2") return gpt_from_gpt2(config);
    if (type == "llama") return drop_checkpoint_keys(llama_from_hf(config));
    if (type == "bert") return bert_from_hf(config);
  } catch (const json::exception& e) {  // a field of the wrong type, e.g. "activation_function": 3
    const std::string what = strip_json_prefix(e.what());
    throw ValueError("a " + type + " config.json field has the wrong type: " + what);
  }
  return config;
}

}  // namespace qkv::models
