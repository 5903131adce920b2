#include "qkv/generate/generate.h"

#include <map>

#include "qkv/autograd/autograd.h"
#include "qkv/ops/ops.h"

namespace qkv::generate {
namespace {

// Runs one batch of equal-length prompts (indices `which` into `prompts`).
void generate_batch(const models::GPT& model, std::vector<std::vector<int64_t>>& seqs,
                    const std::vector<size_t>& which, const GenerateOptions& opt, Generator& gen,
                    const TokenCallback& on_token) {
  const int64_t B = static_cast<int64_t>(which.size());
  const int64_t block = model.config.block_size, V = model.config.vocab_size;
  std::vector<bool> done(B, false);
  models::KVCache cache;
  bool cache_valid = false;
  Generator dropout_gen(0);  // eval mode: dropout never draws
  for (int64_t step = 0; step < opt.max_new_tokens; ++step) {
    const int64_t len = static_cast<int64_t>(seqs[which[0]].size());
    Tensor logits;  // (B, V): the next token's
    if (opt.use_cache && cache_valid && cache.len < block) {
      std::vector<int64_t> last(B);
      for (int64_t b = 0; b < B; ++b) last[b] = seqs[which[b]].back();
      logits = model.next_token_logits(tensor_i64(last, {B, 1}), dropout_gen, &cache);
    } else {
      // (Re)fill: the last min(len, block) tokens of every sequence.
      const int64_t T = std::min(len, block);
      std::vector<int64_t> ctx;
      ctx.reserve(B * T);
      for (int64_t b = 0; b < B; ++b) {
        const auto& s = seqs[which[b]];
        ctx.insert(ctx.end(), s.end() - T, s.end());
      }
      if (opt.use_cache) {
        cache = model.make_cache(B);
        logits = model.next_token_logits(tensor_i64(ctx, {B, T}), dropout_gen, &cache);
        cache_valid = true;
      } else {
        logits = model.next_token_logits(tensor_i64(ctx, {B, T}), dropout_gen, nullptr);
      }
    }
    Tensor lastl = logits.contiguous();
    const float* lp = lastl.data<float>();
    bool all_done = true;
    for (int64_t b = 0; b < B; ++b) {
      if (done[b]) {  // keep the batch aligned: repeat the last token, drop it later
        seqs[which[b]].push_back(seqs[which[b]].back());
        continue;
      }
      int64_t tok = sample_token(lp + b * V, V, opt.sampling, gen);
      seqs[which[b]].push_back(tok);
      if (on_token) on_token(which[b], tok);
      if (opt.eos && tok == *opt.eos) done[b] = true;
      all_done = all_done && done[b];
    }
    if (all_done) break;
  }
}

}  // namespace

std::vector<std::vector<int64_t>> generate(const models::GPT& model,
                                           const std::vector<std::vector<int64_t>>& prompts,
                                           const GenerateOptions& opt, Generator& gen,
                                           const TokenCallback& on_token) {
  opt.sampling.validate();
  if (model.is_training() && model.config.dropout > 0)
    throw ValueError("generate: the model is in training mode with dropout; call model.eval() first");
  if (opt.max_new_tokens < 0) throw ValueError("max_new_tokens must be >= 0");
  for (size_t i = 0; i < prompts.size(); ++i) {
    if (prompts[i].empty()) throw ValueError("generate: prompt " + std::to_string(i) + " is empty");
    for (int64_t id : prompts[i])
      if (id < 0 || id >= model.config.vocab_size)
        throw ValueError("generate: prompt " + std::to_string(i) + " has token id " + std::to_string(id) +
                         " outside the vocabulary of " + std::to_string(model.config.vocab_size));
  }
  NoGradGuard ng;
  std::vector<std::vector<int64_t>> seqs = prompts;
  std::map<size_t, std::vector<size_t>> by_len;  // equal lengths batch together
  for (size_t i = 0; i < prompts.size(); ++i) by_len[prompts[i].size()].push_back(i);
  for (const auto& [len, which] : by_len) generate_batch(model, seqs, which, opt, gen, on_token);
  // Sequences that stopped at EOS were padded with repeats to keep the batch
  // aligned: cut each right after its first generated EOS.
  if (opt.eos)
    for (size_t i = 0; i < seqs.size(); ++i)
      for (size_t j = prompts[i].size(); j < seqs[i].size(); ++j)
        if (seqs[i][j] == *opt.eos) {
          seqs[i].resize(j + 1);
          break;
        }
  return seqs;
}

}  // namespace qkv::generate
