// Seq2SeqConfig: its field table, validation and config.json (see qkv/models/transformer_config.h).
#include "qkv/models/transformer_config.h"

#include "qkv/core/error.h"
#include "qkv/core/json_parse.h"
#include "qkv/models/model_size.h"
#include "qkv/models/position_fields.h"

namespace qkv::models {

const config::Table<Seq2SeqConfig>& Seq2SeqConfig::fields() {
  using config::field;
  using S = Seq2SeqConfig;
  static const config::Table<S> t(
      "Transformer config",
      concat<S>({
          field("vocab_size", &S::vocab_size, "Tokens in the shared source/target vocabulary, V").above(0),
          field("d_model", &S::d_model, "Model width C (d_model)").above(0),
          field("n_heads", &S::n_heads, "Attention heads per layer, NH").above(0),
          field("d_ff", &S::d_ff, "Inner width of the position-wise feed-forward").above(0),
          field("n_encoder_layers", &S::n_encoder_layers, "Encoder layers").above(0),
          field("n_decoder_layers", &S::n_decoder_layers, "Decoder layers").above(0),
          field("dropout", &S::dropout, "Dropout probability (P_drop)").at_least(0).below(1),
          field("max_len", &S::max_len, "Longest target a decoder cache holds (rows of learned position tables)").above(0),
          field("norm_first", &S::norm_first, "LayerNorm before each sub-layer (pre-LN) instead of after (post-LN)"),
          field("activation", &S::activation, "Feed-forward activation").one_of({"relu", "gelu"}),
          field("pad_id", &S::pad_id, "Padding token id").at_least(0),
          field("bos_id", &S::bos_id, "Beginning-of-sentence id: the decoder's first input").at_least(0),
          field("eos_id", &S::eos_id, "End-of-sentence id: the last label of every target").at_least(0),
      }, position_fields<S>({"sinusoidal", "learned", "rope", "alibi", "t5", "relative", "none"})));
  return t;
}

void Seq2SeqConfig::validate() const {
  fields().validate(*this);
  if (d_model % n_heads != 0)
    throw ValueError("Transformer config: d_model " + std::to_string(d_model) + " must be divisible by n_heads " +
                     std::to_string(n_heads));
  nn::validate_positions(position_config(*this), d_model / n_heads, "Transformer config");
  const double C = static_cast<double>(d_model), F = static_cast<double>(d_ff);
  check_fits_in_memory(static_cast<double>(n_encoder_layers) * (4 * C * C + 2 * C * F) +
                           static_cast<double>(n_decoder_layers) * (8 * C * C + 2 * C * F) +
                           (static_cast<double>(vocab_size) + 2 * static_cast<double>(max_len)) * C,
                       "Transformer config");
  for (auto [key, id] : {std::pair{"pad_id", pad_id}, {"bos_id", bos_id}, {"eos_id", eos_id}})
    if (id >= vocab_size)
      throw ValueError(std::string("Transformer config: ") + key + " " + std::to_string(id) +
                       " is outside the vocabulary of vocab_size " + std::to_string(vocab_size));
  if (bos_id == pad_id || eos_id == pad_id)
    throw ValueError("Transformer config: bos_id and eos_id must differ from pad_id " + std::to_string(pad_id));
}

nlohmann::json Seq2SeqConfig::to_json() const {
  nlohmann::json j = fields().to_json(*this);
  j["model_type"] = "transformer";
  return j;
}

Seq2SeqConfig Seq2SeqConfig::from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw ValueError("Transformer config: expected a JSON object");
  nlohmann::json rest = j;
  if (j.contains("model_type")) {
    const nlohmann::json& t = j["model_type"];
    if (!t.is_string() || t.get<std::string>() != "transformer")
      throw ValueError("Transformer config: field \"model_type\" must be \"transformer\", got " + json_excerpt(t));
    rest.erase("model_type");
  }
  Seq2SeqConfig c = fields().from_json(rest);
  c.validate();
  return c;
}

}  // namespace qkv::models
