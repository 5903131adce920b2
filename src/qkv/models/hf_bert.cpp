// BERT's Hugging Face form (see hf_util.h). qkv's BertConfig and parameter
// names are transformers' BertConfig and BertFor* names, so a directory maps
// one to one except for:
//   config   keys that describe the checkpoint (transformers_version,
//            torch_dtype, …) are dropped; settings qkv cannot honour
//            (is_decoder, add_cross_attention, relative position
//            embeddings) fail naming the field;
//   tensors  the tied decoder (cls.predictions.decoder.weight = the word
//            embeddings, decoder.bias = cls.predictions.bias) and the
//            position_ids buffer go; weights of heads the architecture does
//            not have go (bert-base-uncased is a BertForMaskedLM that also
//            carries the pooler and the NSP head), as from_pretrained ignores
//            them; a BertModel's names gain "bert."; TF-era LayerNorm
//            gamma/beta become weight/bias.
#include <algorithm>
#include <set>

#include "hf_util.h"
#include "qkv/core/error.h"
#include "qkv/models/bert_config.h"

namespace qkv::models::hf_detail {
namespace {

using nlohmann::json;

bool starts_with(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }

std::string replace_suffix(const std::string& name, const std::string& from, const std::string& to) {
  if (name.size() >= from.size() && name.compare(name.size() - from.size(), from.size(), from) == 0)
    return name.substr(0, name.size() - from.size()) + to;
  return name;
}

const Tensor* find(const TensorList& ts, const std::string& name) {
  auto it = std::find_if(ts.begin(), ts.end(), [&](const auto& p) { return p.first == name; });
  return it == ts.end() ? nullptr : &it->second;
}

}  // namespace

void bert_tensors_from_hf(const json& qkv_config, TensorList& tensors) {
  const BertConfig c = BertConfig::from_json(qkv_config);
  const bool mlm = c.head == BertHead::PreTraining || c.head == BertHead::MaskedLM;
  const bool base = std::any_of(tensors.begin(), tensors.end(),
                                [](const auto& t) { return starts_with(t.first, "embeddings."); });
  TensorList out;
  for (auto& [name0, t] : tensors) {
    const bool body = starts_with(name0, "embeddings.") || starts_with(name0, "encoder.") || starts_with(name0, "pooler.");
    std::string name = base && body ? "bert." + name0 : name0;
    name = replace_suffix(replace_suffix(name, "LayerNorm.gamma", "LayerNorm.weight"), "LayerNorm.beta", "LayerNorm.bias");
    if (name == "bert.embeddings.position_ids" || name == "cls.predictions.decoder.weight" ||
        name == "cls.predictions.decoder.bias")
      continue;  // a buffer, and the tied decoder (checked below)
    if (starts_with(name, "bert.pooler.") && !bert_head_has_pooler(c.head)) continue;
    if (starts_with(name, "cls.seq_relationship.") && c.head != BertHead::PreTraining) continue;
    if (starts_with(name, "cls.") && !mlm) continue;
    out.emplace_back(name, t);
  }
  if (mlm) {
    auto tied = [&](const std::string& name, const std::string& to) {
      const Tensor* a = find(tensors, name);
      const Tensor* b = find(out, to);
      if (a && b && !same_values(*a, *b))
        throw ValueError("tensor '" + name + "' differs from '" + to + "' (BERT ties them)");
    };
    tied("cls.predictions.decoder.weight", "bert.embeddings.word_embeddings.weight");
    tied("cls.predictions.decoder.bias", "cls.predictions.bias");
  }
  tensors = std::move(out);
}

json hf_from_bert(const json& q) {
  json hf = q;
  hf["is_decoder"] = false;
  hf["add_cross_attention"] = false;
  hf["use_cache"] = true;
  hf["tie_word_embeddings"] = true;
  return hf;
}

TensorList hf_tensors_from_bert(const json& qkv_config, const TensorList& state) {
  const BertConfig c = BertConfig::from_json(qkv_config);
  if (c.head != BertHead::None) return state;
  TensorList out;  // BertModel: no "bert." prefix
  for (const auto& [name, t] : state) out.emplace_back(starts_with(name, "bert.") ? name.substr(5) : name, t);
  return out;
}

}  // namespace qkv::models::hf_detail
