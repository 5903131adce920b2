// /v1/translations: request → beam search → response (see translation.h).
#include "translation.h"

#include "qkv/generate/beam.h"

namespace qkv::serve {

using nlohmann::json;

json translate(const TranslationRequest& r, const models::Transformer& model, const tokenizers::Tokenizer& tok,
               const std::string& model_id) {
  const std::vector<std::string>& texts = r.inputs;
  const models::Seq2SeqConfig& cfg = model.config;
  generate::BeamOptions opt;
  opt.beam_size = r.beam_size;
  opt.n_best = r.n_best;
  opt.length_penalty = r.length_penalty;
  opt.max_new_tokens = cfg.max_len;
  opt.eos = cfg.eos_id;
  std::vector<std::vector<int64_t>> sources;
  int64_t prompt_tokens = 0;
  for (size_t i = 0; i < texts.size(); ++i) {
    sources.push_back(tok.encode(texts[i]).ids);
    if (static_cast<int64_t>(sources.back().size()) > cfg.max_len)
      throw ApiError(400, "input " + std::to_string(i) + " has " + std::to_string(sources.back().size()) +
                              " tokens; the model reads at most " + std::to_string(cfg.max_len),
                     "invalid_request_error", "input");
    prompt_tokens += static_cast<int64_t>(sources.back().size());
  }
  const auto hyps = generate::beam_search_sources(model, sources, opt,
                                                  {.pad_id = cfg.pad_id, .bos_id = cfg.bos_id, .batch_size = 32});
  json data = json::array();
  int64_t completion_tokens = 0;
  for (size_t i = 0; i < hyps.size(); ++i) {
    json list = json::array();
    for (const generate::Hypothesis& h : hyps[i]) {
      list.push_back({{"text", tok.decode(h.tokens)}, {"score", h.score}});
      completion_tokens += static_cast<int64_t>(h.tokens.size());
    }
    data.push_back({{"index", i}, {"translations", list}});
  }
  return {{"object", "list"}, {"model", model_id}, {"data", data},
          {"usage", {{"prompt_tokens", prompt_tokens}, {"completion_tokens", completion_tokens},
                     {"total_tokens", prompt_tokens + completion_tokens}}}};
}

}  // namespace qkv::serve
