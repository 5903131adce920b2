// libFuzzer target: a model directory's config.json, as models::load_model
// reads it — parsed with its depth bounded, converted from Hugging Face's form
// (gpt2, llama, bert) by config_from_hf, then the family's Config::from_json
// (GPT, Llama, BERT, the encoder–decoder Transformer), which validates bounds
// and the memory the model would need. An accepted config must survive its
// own round trip (what qkv writes, qkv reads back the same).
#include <nlohmann/json.hpp>

#include "fuzz_util.h"
#include "qkv/core/json_parse.h"
#include "qkv/models/bert_config.h"
#include "qkv/models/gpt_config.h"
#include "qkv/models/hf.h"
#include "qkv/models/llama_config.h"
#include "qkv/models/transformer_config.h"

namespace {

template <class Config>
void round_trip(const nlohmann::json& j) {
  const Config c = Config::from_json(j);
  const Config again = Config::from_json(c.to_json());
  qkv::fuzz::check(again == c, "Config::from_json(c.to_json()) == c");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  nlohmann::json original;
  try {
    original = qkv::parse_json(text, "config.json");
  } catch (const nlohmann::json::exception&) {
    return 0;  // io::read_json words these; not the part under test
  } catch (const qkv::Error&) {
    return 0;
  }
  qkv::fuzz::expect_clean([&] {
    const nlohmann::json config = qkv::models::config_from_hf(original);
    const std::string type = config.is_object() && config.contains("model_type") && config["model_type"].is_string()
                                 ? config["model_type"].get<std::string>()
                                 : "";
    if (type == "gpt") round_trip<qkv::models::GPTConfig>(config);
    else if (type == "llama") round_trip<qkv::models::LlamaConfig>(config);
    else if (type == "bert") round_trip<qkv::models::BertConfig>(config);
    else if (type == "transformer") round_trip<qkv::models::Seq2SeqConfig>(config);
  });
  return 0;
}
