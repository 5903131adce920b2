// GPTConfig: validation and config.json (see qkv/models/gpt_config.h).
#include "qkv/models/gpt_config.h"

#include "qkv/core/error.h"

namespace qkv::models {

void GPTConfig::validate() const {
  auto positive = [](int64_t v, const char* name) {
    if (v <= 0) throw ValueError(std::string("GPTConfig: ") + name + " must be > 0, got " + std::to_string(v));
  };
  positive(vocab_size, "vocab_size");
  positive(n_layer, "n_layer");
  positive(n_head, "n_head");
  positive(n_embd, "n_embd");
  positive(block_size, "block_size");
  if (n_embd % n_head != 0)
    throw ValueError("GPTConfig: n_embd " + std::to_string(n_embd) + " must be divisible by n_head " +
                     std::to_string(n_head));
  if (!(dropout >= 0.0f && dropout < 1.0f))
    throw ValueError("GPTConfig: dropout must be in [0, 1), got " + std::to_string(dropout));
  if (activation != "gelu" && activation != "gelu_tanh")
    throw ValueError("GPTConfig: activation must be \"gelu\" or \"gelu_tanh\", got \"" + activation + "\"");
}

nlohmann::json GPTConfig::to_json() const {
  return {{"model_type", "gpt"},        {"vocab_size", vocab_size}, {"n_layer", n_layer},
          {"n_head", n_head},           {"n_embd", n_embd},         {"block_size", block_size},
          {"dropout", dropout},         {"bias", bias},             {"activation", activation}};
}

GPTConfig GPTConfig::from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw ValueError("GPT config: expected a JSON object");
  GPTConfig c;
  for (const auto& [key, val] : j.items()) {
    auto need = [&](bool ok, const char* what) {
      if (!ok) throw ValueError("GPT config: field \"" + key + "\" must be " + what + ", got " + val.dump());
    };
    if (key == "model_type") {
      need(val.is_string() && val.get<std::string>() == "gpt", "\"gpt\"");
    } else if (key == "vocab_size" || key == "n_layer" || key == "n_head" || key == "n_embd" ||
               key == "block_size") {
      need(val.is_number_integer(), "an integer");
      int64_t v = val.get<int64_t>();
      if (key == "vocab_size") c.vocab_size = v;
      if (key == "n_layer") c.n_layer = v;
      if (key == "n_head") c.n_head = v;
      if (key == "n_embd") c.n_embd = v;
      if (key == "block_size") c.block_size = v;
    } else if (key == "dropout") {
      need(val.is_number(), "a number");
      c.dropout = val.get<float>();
    } else if (key == "bias") {
      need(val.is_boolean(), "true or false");
      c.bias = val.get<bool>();
    } else if (key == "activation") {
      need(val.is_string(), "a string");
      c.activation = val.get<std::string>();
    } else {
      throw ValueError("GPT config: unknown field \"" + key + "\"");
    }
  }
  c.validate();
  return c;
}

}  // namespace qkv::models
