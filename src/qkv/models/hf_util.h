// Private to src/qkv/models/hf*.cpp: the helpers every family's Hugging Face
// conversion shares, and the families converted outside hf.cpp.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "qkv/models/hf.h"

namespace qkv::models::hf_detail {

// "<family> config.json: <key> = <value>: <why>"
std::string field_error(const std::string& family, const std::string& key, const nlohmann::json& value,
                        const std::string& why);
// `key` of `hf` when present (and not null), else `fallback`.
nlohmann::json get_or(const nlohmann::json& hf, const std::string& key, const nlohmann::json& fallback);
// ValueError (field_error) unless `key` is absent, null or `expected`.
void require(const nlohmann::json& hf, const std::string& family, const std::string& key,
             const nlohmann::json& expected, const std::string& why);
// config["model_type"] when it is a string, else "" (hf_config.cpp).
std::string hf_type(const nlohmann::json& config);
// Same shape and bit-equal values (after conversion to float32).
bool same_values(const Tensor& a, const Tensor& b);

// BERT (hf_config.cpp: the config; hf_bert.cpp: the tensors): qkv's "bert" keeps Hugging Face's names, so these only
// drop what describes the checkpoint or a head the architecture lacks.
nlohmann::json bert_from_hf(const nlohmann::json& hf);
void bert_tensors_from_hf(const nlohmann::json& qkv_config, TensorList& tensors);
nlohmann::json hf_from_bert(const nlohmann::json& qkv_config);
TensorList hf_tensors_from_bert(const nlohmann::json& qkv_config, const TensorList& state);

}  // namespace qkv::models::hf_detail
