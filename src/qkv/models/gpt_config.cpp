// GPTConfig: its field table, validation and config.json (see qkv/models/gpt_config.h).
#include "qkv/models/gpt_config.h"

#include "qkv/core/error.h"

namespace qkv::models {

const config::Table<GPTConfig>& GPTConfig::fields() {
  using config::field;
  static const config::Table<GPTConfig> t(
      "GPT config",
      {
          field("vocab_size", &GPTConfig::vocab_size, "Tokens in the vocabulary, V").above(0),
          field("n_layer", &GPTConfig::n_layer, "Transformer blocks").above(0),
          field("n_head", &GPTConfig::n_head, "Attention heads per block, NH").above(0),
          field("n_embd", &GPTConfig::n_embd, "Model width C (d_model)").above(0),
          field("block_size", &GPTConfig::block_size, "Training context length (rows of a learned position table)").above(0),
          field("dropout", &GPTConfig::dropout, "Dropout probability").at_least(0).below(1),
          field("bias", &GPTConfig::bias, "Biases in Linear and LayerNorm: true or false"),
          field("activation", &GPTConfig::activation, "GELU: exact (erf) or GPT-2's tanh approximation").one_of({"gelu", "gelu_tanh"}),
          field("pos_encoding", &GPTConfig::pos_encoding, "Positions: learned table, sinusoidal, rotary (rope), ALiBi, T5 relative bias, Shaw's relative positions or none")
              .one_of({"learned", "sinusoidal", "rope", "alibi", "t5", "relative", "none"}),
          field("sinusoidal_base", &GPTConfig::sinusoidal_base, "Sinusoidal positions: base of the wavelengths").above(1),
          field("rope_theta", &GPTConfig::rope_theta, "RoPE: base theta of the rotation frequencies").above(1),
          field("rope_dim", &GPTConfig::rope_dim, "RoPE: rotary channels per head, even (0 = the whole head)").at_least(0),
          field("rope_layout", &GPTConfig::rope_layout, "RoPE channel pairs: rotate_half (GPT-NeoX, Llama) or adjacent (the paper)")
              .one_of({"rotate_half", "adjacent"}),
          field("rope_scaling", &GPTConfig::rope_scaling, "RoPE past the training length: none, linear interpolation or ntk")
              .one_of({"none", "linear", "ntk"}),
          field("rope_scaling_factor", &GPTConfig::rope_scaling_factor, "RoPE: the scaling factor").at_least(1),
          field("t5_num_buckets", &GPTConfig::t5_num_buckets, "T5 bias: relative-position buckets").at_least(2),
          field("t5_max_distance", &GPTConfig::t5_max_distance, "T5 bias: offsets from here on share the last bucket").above(1),
          field("relative_max_distance", &GPTConfig::relative_max_distance,
                "Relative positions (Shaw et al.): the clipping distance k of the 2k+1 learned key/value vectors").above(0),
      });
  return t;
}

void GPTConfig::validate() const {
  fields().validate(*this);
  if (n_embd % n_head != 0)
    throw ValueError("GPT config: n_embd " + std::to_string(n_embd) + " must be divisible by n_head " +
                     std::to_string(n_head));
  const int64_t head_size = n_embd / n_head;
  if (pos_encoding == "t5" && t5_max_distance <= t5_num_buckets / 2)
    throw ValueError("GPT config: t5_max_distance " + std::to_string(t5_max_distance) +
                     " must exceed the exact buckets t5_num_buckets / 2 = " + std::to_string(t5_num_buckets / 2));
  const int64_t rotary = rope_dim == 0 ? head_size : rope_dim;
  if (pos_encoding == "rope" && (rotary % 2 != 0 || rotary > head_size))
    throw ValueError("GPT config: rope_dim " + std::to_string(rope_dim) + " (rotary channels " +
                     std::to_string(rotary) + ") must be even and at most the head size " + std::to_string(head_size) +
                     " (n_embd / n_head)");
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
      throw ValueError("GPT config: field \"model_type\" must be \"gpt\", got " + t.dump());
    rest.erase("model_type");
  }
  GPTConfig c = fields().from_json(rest);
  c.validate();
  return c;
}

}  // namespace qkv::models
