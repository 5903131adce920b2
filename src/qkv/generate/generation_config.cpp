// generate::apply_generation_config (see qkv/generate/generate.h).
#include "qkv/generate/generate.h"

namespace qkv::generate {

void apply_generation_config(const models::GenerationDefaults& g, const std::string& dir, int64_t vocab,
                             bool sampling_given, GenerateOptions& opt) {
  if (g.eos_token_id) {
    if (*g.eos_token_id >= vocab)
      throw ValueError(dir + "/generation_config.json: eos_token_id " + std::to_string(*g.eos_token_id) +
                       " is not below vocab_size " + std::to_string(vocab));
    opt.eos = *g.eos_token_id;
  }
  if (sampling_given || !g.do_sample) return;
  if (!*g.do_sample) {
    opt.sampling.temperature = 0.0f;  // greedy
    return;
  }
  if (g.temperature) opt.sampling.temperature = *g.temperature;
  if (g.top_k) opt.sampling.top_k = *g.top_k;
  if (g.top_p) opt.sampling.top_p = *g.top_p;
  try {
    opt.sampling.validate();
  } catch (const ValueError& e) {
    throw ValueError(dir + "/generation_config.json: " + e.what());
  }
}

}  // namespace qkv::generate
