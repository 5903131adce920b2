// LlamaConfig: its field table, validation and config.json (see qkv/models/llama_config.h).
#include "qkv/models/llama_config.h"

#include "qkv/core/error.h"
#include "qkv/core/json_parse.h"
#include "qkv/models/model_size.h"

namespace qkv::models {

const config::Table<LlamaConfig>& LlamaConfig::fields() {
  using config::field;
  using L = LlamaConfig;
  static const config::Table<L> t(
      "Llama config",
      {
          field("vocab_size", &L::vocab_size, "Tokens in the vocabulary, V").above(0),
          field("hidden_size", &L::hidden_size, "Model width C (d_model)").above(0).alias("n_embd"),
          field("intermediate_size", &L::intermediate_size, "SwiGLU feed-forward width").above(0),
          field("num_hidden_layers", &L::num_hidden_layers, "Decoder layers").above(0).alias("n_layer"),
          field("num_attention_heads", &L::num_attention_heads, "Query heads per layer, NH").above(0).alias("n_head"),
          field("num_key_value_heads", &L::num_key_value_heads,
                "Key/value heads (grouped-query attention; 1 = multi-query), dividing NH; 0 = NH")
              .at_least(0)
              .alias("n_kv_head"),
          field("rms_norm_eps", &L::rms_norm_eps, "RMSNorm epsilon").above(0),
          field("rope_theta", &L::rope_theta, "RoPE: base theta of the rotation frequencies").above(1),
          field("max_position_embeddings", &L::max_position_embeddings,
                "Context length: training windows and the KV cache")
              .above(0)
              .alias("block_size"),
          field("tie_word_embeddings", &L::tie_word_embeddings, "Output projection tied to embed_tokens: true or false"),
          field("initializer_range", &L::initializer_range, "Std of the normal initial weights").above(0),
          field("hidden_act", &L::hidden_act, "The gate's activation").one_of({"silu"}),
      });
  return t;
}

void LlamaConfig::validate() const {
  fields().validate(*this);
  const std::string n = std::to_string(num_attention_heads);
  if (hidden_size % num_attention_heads != 0)
    throw ValueError("Llama config: hidden_size " + std::to_string(hidden_size) +
                     " must be divisible by num_attention_heads " + n);
  if (num_attention_heads % kv_heads() != 0)
    throw ValueError("Llama config: num_attention_heads " + n + " must be divisible by num_key_value_heads " +
                     std::to_string(kv_heads()) + " (each key/value head serves a whole group of query heads)");
  {
    const double C = static_cast<double>(hidden_size), F = static_cast<double>(intermediate_size);
    const double kv = static_cast<double>(kv_heads() * head_dim());
    check_fits_in_memory(static_cast<double>(num_hidden_layers) * (2 * C * C + 2 * C * kv + 3 * C * F) +
                             static_cast<double>(vocab_size) * C * (tie_word_embeddings ? 1 : 2),
                         "Llama config");
  }
  if (head_dim() % 2 != 0)
    throw ValueError("Llama config: the head size hidden_size / num_attention_heads = " + std::to_string(head_dim()) +
                     " must be even (RoPE turns channel pairs)");
}

nlohmann::json LlamaConfig::to_json() const {
  nlohmann::json j = fields().to_json(*this);
  j["num_key_value_heads"] = kv_heads();
  j["model_type"] = "llama";
  return j;
}

LlamaConfig LlamaConfig::from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw ValueError("Llama config: expected a JSON object");
  nlohmann::json rest = j;
  if (j.contains("model_type")) {
    const nlohmann::json& t = j["model_type"];
    if (!t.is_string() || t.get<std::string>() != "llama")
      throw ValueError("Llama config: field \"model_type\" must be \"llama\", got " + json_excerpt(t));
    rest.erase("model_type");
  }
  LlamaConfig c = fields().from_json(rest);
  c.validate();
  c.num_key_value_heads = c.kv_heads();
  return c;
}

}  // namespace qkv::models
