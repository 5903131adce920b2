#include "qkv/generate/generate.h"

#include <algorithm>
#include <string>

#include "qkv/autograd/autograd.h"

namespace qkv::generate {
namespace {

void check_prompts(const models::Decoder& model, const std::vector<std::vector<int64_t>>& prompts) {
  const int64_t V = model.vocab_size();
  for (size_t i = 0; i < prompts.size(); ++i) {
    if (prompts[i].empty()) throw ValueError("generate: prompt " + std::to_string(i) + " is empty");
    for (int64_t id : prompts[i])
      if (id < 0 || id >= V)
        throw ValueError("generate: prompt " + std::to_string(i) + " has token id " + std::to_string(id) +
                         " outside the vocabulary of " + std::to_string(V));
  }
}

}  // namespace

// Sequence i's own stream: splitmix64 of (base, i), so streams differ per index.
Generator sequence_stream(uint64_t base, size_t i) {
  uint64_t z = base + 0x9e3779b97f4a7c15ULL * (static_cast<uint64_t>(i) + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return Generator(z ^ (z >> 31));
}

models::DecodeInput left_pad(const std::vector<std::vector<int64_t>>& prompts, int64_t pad_id) {
  const int64_t B = static_cast<int64_t>(prompts.size());
  size_t T = 0;
  for (const auto& p : prompts) T = std::max(T, p.size());
  std::vector<int64_t> ids(B * T, pad_id), real(B * T, 0);
  for (int64_t b = 0; b < B; ++b) {
    const size_t off = b * T + (T - prompts[b].size());
    std::copy(prompts[b].begin(), prompts[b].end(), ids.begin() + off);
    std::fill(real.begin() + off, real.begin() + (b + 1) * T, 1);
  }
  const Shape shape{B, static_cast<int64_t>(T)};
  return {.ids = tensor_i64(ids, shape), .mask = tensor_i64(real, shape).to(DType::Bool)};
}

std::vector<std::vector<int64_t>> generate(const models::Decoder& model,
                                           const std::vector<std::vector<int64_t>>& prompts,
                                           const GenerateOptions& opt, Generator& gen,
                                           const TokenCallback& on_token) {
  opt.sampling.validate();
  model.check_ready();
  if (opt.max_new_tokens < 0) throw ValueError("max_new_tokens must be >= 0");
  check_prompts(model, prompts);
  std::vector<std::vector<int64_t>> seqs = prompts;
  if (prompts.empty() || opt.max_new_tokens == 0) return seqs;
  NoGradGuard ng;
  const size_t B = prompts.size();
  const int64_t V = model.vocab_size();
  const uint64_t base = gen.next_u64();
  std::vector<Generator> streams;
  for (size_t i = 0; i < B; ++i) streams.push_back(sequence_stream(base, opt.first_sequence + i));
  models::DecodeState st;
  st.use_cache = opt.use_cache;
  Tensor logits = model.start(st, left_pad(prompts));  // (B,V)
  std::vector<bool> done(B, false);
  std::vector<int64_t> next(B);
  for (int64_t step = 0;; ++step) {
    const Tensor l = logits.contiguous();
    const float* lp = l.data<float>();
    bool all_done = true;
    for (size_t b = 0; b < B; ++b) {
      if (done[b]) {  // keep the batch aligned: feed its last token again, never kept
        next[b] = seqs[b].back();
        continue;
      }
      next[b] = sample_token(lp + b * V, V, opt.sampling, streams[b]);
      seqs[b].push_back(next[b]);
      if (opt.on_logits) opt.on_logits(b, lp + b * V, V, next[b]);
      if (on_token) on_token(b, next[b]);
      if (opt.eos && next[b] == *opt.eos) done[b] = true;
      all_done = all_done && done[b];
    }
    if (all_done || step + 1 >= opt.max_new_tokens) break;
    logits = model.step(st, next);
  }
  return seqs;
}

}  // namespace qkv::generate
