// Continuous batching over the decoding interface (see qkv/generate/continuous.h).
#include "qkv/generate/continuous.h"

#include <string>
#include <utility>

#include "qkv/autograd/autograd.h"
#include "qkv/generate/generate.h"
#include "qkv/kernels/row_invariant.h"
#include "qkv/nn/kv_cache.h"
#include "qkv/ops/ops.h"

namespace qkv::generate {

ContinuousBatch::ContinuousBatch(const models::CausalDecoderLM& model) : model_(model) {}

void ContinuousBatch::check(const SequenceSpec& s, size_t index) const {
  const std::string who = "sequence " + std::to_string(index) + ": ";
  try {
    s.sampling.validate();
  } catch (const ValueError& e) {
    throw ValueError(who + e.what());
  }
  const int64_t V = model_.vocab_size(), ctx = model_.context_length();
  const auto n = static_cast<int64_t>(s.prompt.size());
  if (n == 0) throw ValueError(who + "the prompt is empty");
  for (int64_t id : s.prompt)
    if (id < 0 || id >= V)
      throw ValueError(who + "the prompt has token id " + std::to_string(id) + " outside the vocabulary of " +
                       std::to_string(V));
  if (s.max_new_tokens < 1) throw ValueError(who + "max_new_tokens must be >= 1");
  if (s.max_new_tokens > ctx - n)  // never cropped: a cropped row could not share the batch's cache
    throw ValueError(who + "the prompt's " + std::to_string(n) + " tokens + max_new_tokens " +
                     std::to_string(s.max_new_tokens) + " exceed the context length of " + std::to_string(ctx));
  if (s.logprobs < -1 || s.logprobs > V)
    throw ValueError(who + "logprobs must be in [-1, " + std::to_string(V) + "], got " + std::to_string(s.logprobs));
}

std::vector<uint64_t> ContinuousBatch::add(std::vector<SequenceSpec> specs) {
  for (size_t i = 0; i < specs.size(); ++i) check(specs[i], i);
  if (specs.empty()) return {};
  model_.check_ready();
  NoGradGuard ng;
  // One prefill per prompt: a prompt's rounding then does not depend on its
  // companions (a padded batch of prompts runs GEMMs of another shape).
  for (const SequenceSpec& s : specs) {
    models::DecodeState fresh;
    Tensor first = model_.start(fresh, left_pad({s.prompt}));  // (1,V)
    models::join_states(state_, std::move(fresh));
    logits_ = logits_.defined() ? cat({logits_, first}, 0) : first;
  }
  std::vector<uint64_t> ids;
  for (SequenceSpec& s : specs) {
    ids.push_back(next_id_);
    rows_.push_back({.id = next_id_++, .spec = std::move(s)});
  }
  return ids;
}

void ContinuousBatch::cancel(uint64_t sequence) {
  for (Row& r : rows_)
    if (r.id == sequence) r.cancelled = true;
}

void ContinuousBatch::drop_rows(const std::vector<bool>& leave) {
  std::vector<int64_t> keep;
  for (size_t b = 0; b < rows_.size(); ++b)
    if (!leave[b]) keep.push_back(static_cast<int64_t>(b));
  if (keep.size() == rows_.size()) return;
  std::vector<Row> kept;
  for (int64_t b : keep) kept.push_back(std::move(rows_[static_cast<size_t>(b)]));
  rows_ = std::move(kept);
  if (keep.empty()) {  // nothing runs: start afresh with the next add()
    state_ = models::DecodeState{};
    logits_ = Tensor();
    return;
  }
  model_.reorder(state_, keep);
  logits_ = nn::take_rows(logits_, keep);
  models::drop_leading_padding(state_);
}

std::vector<TokenEvent> ContinuousBatch::step() {
  std::vector<bool> leave(rows_.size());
  for (size_t b = 0; b < rows_.size(); ++b) leave[b] = rows_[b].cancelled;
  drop_rows(leave);
  if (rows_.empty()) return {};
  NoGradGuard ng;
  const int64_t V = model_.vocab_size();
  const Tensor l = logits_.contiguous();
  const float* lp = l.data<float>();
  std::vector<TokenEvent> events;
  std::vector<int64_t> next;
  leave.assign(rows_.size(), false);
  for (size_t b = 0; b < rows_.size(); ++b) {
    Row& r = rows_[b];
    const float* row = lp + static_cast<int64_t>(b) * V;
    TokenEvent e{.sequence = r.id, .token = sample_token(row, V, r.spec.sampling, r.spec.stream)};
    if (r.spec.logprobs >= 0) {
      TokenLogprobs lps = token_logprobs(row, V, e.token, r.spec.logprobs);
      e.logprob = lps.logprob;
      e.top = std::move(lps.top);
    }
    ++r.generated;
    for (int64_t stop : r.spec.stop_ids)
      if (e.token == stop) e.finish = FinishReason::Stop;
    if (e.finish == FinishReason::None && r.generated >= r.spec.max_new_tokens) e.finish = FinishReason::Length;
    leave[b] = e.finish != FinishReason::None;
    if (!leave[b]) next.push_back(e.token);
    events.push_back(std::move(e));
  }
  drop_rows(leave);
  kernels::RowInvariantScope each_row_as_alone;
  if (!rows_.empty()) logits_ = model_.step(state_, next);
  return events;
}

}  // namespace qkv::generate
