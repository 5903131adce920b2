// GPTConfig: its field table, validation and config.json (see qkv/models/gpt_config.h).
#include "qkv/models/gpt_config.h"

#include "qkv/core/error.h"
#include "qkv/core/json_parse.h"
#include "qkv/models/model_size.h"
#include "qkv/models/position_fields.h"

namespace qkv::models {

const config::Table<GPTConfig>& GPTConfig::fields() {
  using config::field;
  static const config::Table<GPTConfig> t(
      "GPT config",
      concat<GPTConfig>({
          field("vocab_size", &GPTConfig::vocab_size, "Tokens in the vocabulary, V").above(0),
          field("n_layer", &GPTConfig::n_layer, "Transformer blocks").above(0),
          field("n_head", &GPTConfig::n_head, "Attention heads per block, NH").above(0),
          field("n_embd", &GPTConfig::n_embd, "Model width C (d_model)").above(0),
          field("block_size", &GPTConfig::block_size, "Training context length (rows of a learned position table)").above(0),
          field("dropout", &GPTConfig::dropout, "Dropout probability").at_least(0).below(1),
          field("bias", &GPTConfig::bias, "Biases in Linear and LayerNorm: true or false"),
          field("activation", &GPTConfig::activation, "GELU: exact (erf) or GPT-2's tanh approximation").one_of({"gelu", "gelu_tanh"}),
      }, position_fields<GPTConfig>({"learned", "sinusoidal", "rope", "alibi", "t5", "relative", "none"})));
  return t;
}

void GPTConfig::validate() const {
  fields().validate(*this);
  if (n_embd % n_head != 0)
    throw ValueError("GPT config: n_embd " + std::to_string(n_embd) + " must be divisible by n_head " +
                     std::to_string(n_head));
  nn::validate_positions(position_config(*this), n_embd / n_head, "GPT config");
  const double C = static_cast<double>(n_embd);  // 12·L·C² (blocks) + V·C + block_size·C, in double: no overflow
  check_fits_in_memory(12.0 * static_cast<double>(n_layer) * C * C + (static_cast<double>(vocab_size) +
                       static_cast<double>(block_size)) * C, "GPT config");
}

nlohmann::json GPTConfig::to_json() const {
  nlohmann::json j = fields().to_json(*this);
  j["model_type"] = "gpt";
  return j;
}

GPTConfig GPTConfig::from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw ValueError("GPT config: expected a JSON object");
  nlohmann::json rest = j;
  if (j.contains("model_type")) {
    const nlohmann::json& t = j["model_type"];
    if (!t.is_string() || t.get<std::string>() != "gpt")
      throw ValueError("GPT config: field \"model_type\" must be \"gpt\", got " + json_excerpt(t));
    rest.erase("model_type");
  }
  GPTConfig c = fields().from_json(rest);
  c.validate();
  return c;
}

}  // namespace qkv::models
