// Named shapes for `qkv bench --config` (see bench_presets.h).
#include "bench_presets.h"

#include <filesystem>
#include <utility>
#include <vector>

#include "qkv/core/error.h"
#include "qkv/io/json.h"

namespace qkv::cli {
namespace {

using nlohmann::json;

// GPT-2 (Radford et al. 2019, Hugging Face's gpt2 configs); a Llama of
// TinyLlama-1.1B's shape; the encoder–decoder "base" model of Vaswani et al.
// 2017, Table 3 (vocabulary: a 37k shared BPE).
const std::vector<std::pair<std::string, json>>& presets() {
  static const std::vector<std::pair<std::string, json>> p = {
      {"gpt2-124m", {{"model_type", "gpt"}, {"vocab_size", 50257}, {"n_layer", 12}, {"n_head", 12}, {"n_embd", 768},
                     {"block_size", 1024}, {"dropout", 0.0}, {"bias", true}, {"activation", "gelu_tanh"}}},
      {"gpt2-medium", {{"model_type", "gpt"}, {"vocab_size", 50257}, {"n_layer", 24}, {"n_head", 16},
                       {"n_embd", 1024}, {"block_size", 1024}, {"dropout", 0.0}, {"bias", true},
                       {"activation", "gelu_tanh"}}},
      {"tinyllama-1.1b", {{"model_type", "llama"}, {"vocab_size", 32000}, {"hidden_size", 2048},
                          {"intermediate_size", 5632}, {"num_hidden_layers", 22}, {"num_attention_heads", 32},
                          {"num_key_value_heads", 4}, {"max_position_embeddings", 2048}, {"rms_norm_eps", 1e-5},
                          {"rope_theta", 10000.0}, {"tie_word_embeddings", false}}},
      {"transformer-base", {{"model_type", "transformer"}, {"vocab_size", 37000}, {"d_model", 512}, {"n_heads", 8},
                            {"d_ff", 2048}, {"n_encoder_layers", 6}, {"n_decoder_layers", 6}, {"dropout", 0.1},
                            {"max_len", 1024}}},
  };
  return p;
}

}  // namespace

std::string bench_config_names() {
  std::string s;
  for (const auto& [name, config] : presets()) s += (s.empty() ? "" : ", ") + name;
  return s;
}

json bench_config(const std::string& name_or_path) {
  for (const auto& [name, config] : presets())
    if (name == name_or_path) return config;
  if (!std::filesystem::exists(name_or_path))
    throw ValueError("--config " + name_or_path + ": neither a named shape (" + bench_config_names() +
                     ") nor a file");
  return io::read_json(name_or_path);
}

}  // namespace qkv::cli
