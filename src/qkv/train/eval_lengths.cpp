// score_at_length (see qkv/train/eval_lengths.h): chunks of length/2 targets,
// each scored from the window of `length` tokens that ends with it.
#include "qkv/train/eval_lengths.h"

#include <algorithm>

#include "qkv/autograd/autograd.h"
#include "qkv/ops/ops.h"

namespace qkv::train {

namespace {

// One window: inputs tokens[a, a+len), targets tokens[a+1, a+len+1), of which
// the positions from `scored` on count.
struct Window {
  int64_t a = 0, scored = 0, len = 0;
};

// Sum of the cross-entropies of a batch of windows (targets before `scored`
// are ignored).
double window_loss_sum(const models::CausalLM& model, const std::vector<int64_t>& tokens,
                       const std::vector<Window>& ws, int64_t L) {
  const int64_t B = static_cast<int64_t>(ws.size());
  std::vector<int64_t> x(static_cast<size_t>(B * L)), y(static_cast<size_t>(B * L));
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < L; ++t) {
      x[b * L + t] = tokens[ws[b].a + t];
      y[b * L + t] = t >= ws[b].scored ? tokens[ws[b].a + t + 1] : -100;
    }
  Generator gen(0);  // eval mode: dropout never draws
  const Tensor logits = model.lm_logits(tensor_i64(x, {B, L}), gen);
  CrossEntropyOptions o;
  o.reduction = CrossEntropyOptions::Reduction::Sum;
  return static_cast<double>(cross_entropy(logits, tensor_i64(y, {B, L}), o).item());
}

// The windows scored in batches of up to `batch` (consecutive windows of one
// length): the mean cross-entropy of their counted targets, or the model's
// refusal (e.g. a learned position table too short) as `error`.
LengthScore score_windows(const models::CausalLM& model, const std::vector<int64_t>& tokens,
                          const std::vector<Window>& windows, int64_t length, int64_t batch) {
  NoGradGuard ng;
  LengthScore s;
  s.length = length;
  for (const Window& w : windows) s.targets += w.len - w.scored;
  double sum = 0;
  try {
    for (size_t i = 0; i < windows.size();) {
      size_t j = i;
      std::vector<Window> ws;
      while (j < windows.size() && windows[j].len == windows[i].len && static_cast<int64_t>(ws.size()) < batch)
        ws.push_back(windows[j++]);
      sum += window_loss_sum(model, tokens, ws, windows[i].len);
      i = j;
    }
  } catch (const ValueError& e) {
    s.error = e.what();
    s.targets = 0;
    return s;
  }
  s.loss = sum / static_cast<double>(s.targets);
  return s;
}

}  // namespace

LengthScore score_at_length(const models::CausalLM& model, const std::vector<int64_t>& tokens, int64_t L,
                            const LengthEvalOptions& opt) {
  if (L < 2) throw ValueError("eval-lengths: a length must be >= 2, got " + std::to_string(L));
  if (opt.batch < 1) throw ValueError("eval-lengths: batch must be >= 1, got " + std::to_string(opt.batch));
  const int64_t N = static_cast<int64_t>(tokens.size()), first = opt.first ? opt.first : L;
  if (first < L)
    throw ValueError("eval-lengths: the first scored target (" + std::to_string(first) +
                     ") must come after a whole window of " + std::to_string(L) + " tokens");
  int64_t end = N;
  if (opt.max_targets > 0) end = std::min(N, first + opt.max_targets);
  if (first >= end)
    throw ValueError("eval-lengths: " + std::to_string(N) + " tokens leave nothing to score after the first " +
                     std::to_string(first) + " (use more data or shorter lengths)");
  const int64_t S = std::max<int64_t>(L / 2, 1);
  std::vector<Window> windows;
  for (int64_t e = first; e < end; e += S) {
    const int64_t f = std::min(e + S, end);  // targets [e, f)
    const int64_t a = f - L - 1;             // window inputs [a, a+L) end at f−1
    windows.push_back({a, e - a - 1, L});
  }
  return score_windows(model, tokens, windows, L, opt.batch);
}

LengthScore sliding_window_perplexity(const models::CausalLM& model, const std::vector<int64_t>& tokens,
                                      int64_t context, int64_t stride, int64_t batch) {
  const int64_t N = static_cast<int64_t>(tokens.size());
  if (context < 2) throw ValueError("perplexity: the context must be >= 2 tokens, got " + std::to_string(context));
  if (stride < 1 || stride > context)
    throw ValueError("perplexity: the stride must be between 1 and the context " + std::to_string(context) + ", got " +
                     std::to_string(stride));
  if (batch < 1) throw ValueError("perplexity: batch must be >= 1, got " + std::to_string(batch));
  if (N < 2) throw ValueError("perplexity: the text has " + std::to_string(N) + " token(s); at least 2 are needed");
  std::vector<Window> windows;
  for (int64_t begin = 0, prev_end = 0; prev_end < N; begin += stride) {
    const int64_t end = std::min(begin + context, N);
    // Inputs tokens[begin, end − 1) predict tokens[begin + 1, end); those
    // from max(prev_end, begin + 1) on are new. (With stride = context a
    // window's first token has no context in it and goes unscored, as in
    // Hugging Face's loop.)
    const int64_t from = std::max(prev_end, begin + 1);
    prev_end = end;
    if (from < end) windows.push_back({begin, from - begin - 1, end - 1 - begin});
  }
  return score_windows(model, tokens, windows, context, batch);
}

}  // namespace qkv::train
