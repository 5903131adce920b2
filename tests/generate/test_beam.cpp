// Beam search on a toy decoder whose next-token log-probabilities are a fixed
// table (by last token and length): exhaustive enumeration gives the true
// ranking, so a wide beam must reproduce it exactly, scores follow
// lp(n) = ((5+n)/6)^α, and the length limit, early stop and option checks
// can be seen directly. Real models: test_beam_models.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>

#include "qkv/generate/beam.h"
#include "qkv/ops/ops.h"

using namespace qkv;
using generate::BeamOptions;
using generate::Hypothesis;

namespace {

constexpr int64_t kEos = 0, kBos = 4, kV = 5;
using Table = std::function<std::vector<double>(int64_t last, int64_t len)>;  // → probabilities (V)

// A models::Decoder reading its next-token distribution from `table`; prompts
// are one token (BOS), sources are ignored (only their length matters to the limit).
class Toy : public models::Decoder {
 public:
  explicit Toy(Table t) : table(std::move(t)) {}
  int64_t vocab_size() const override { return kV; }
  Tensor start(models::DecodeState& st, const models::DecodeInput& in) const override {
    st.ids = in.ids.contiguous();
    return logits(st);
  }
  Tensor step(models::DecodeState& st, const std::vector<int64_t>& next) const override {
    ++steps;
    st.ids = cat({st.ids, tensor_i64(next, {st.batch(), 1})}, 1);
    return logits(st);
  }
  Table table;
  mutable int steps = 0;

 private:
  Tensor logits(const models::DecodeState& st) const {
    const int64_t B = st.batch(), L = st.ids.size(1);
    const std::vector<int64_t> ids = st.ids.to_int_vector();
    std::vector<float> out;
    for (int64_t b = 0; b < B; ++b)
      for (double p : table(ids[b * L + L - 1], L - 1)) out.push_back(static_cast<float>(std::log(p)));
    return tensor(out, {B, kV});
  }
};

// A fixed pseudo-random table: every (last, len) its own distribution over
// tokens 0..3 (BOS is never generated).
std::vector<double> random_probs(int64_t last, int64_t len) {
  std::vector<double> p(kV, 0.0);
  uint64_t z = 0x9e3779b97f4a7c15ULL * static_cast<uint64_t>(last * 31 + len + 1);
  double sum = 0;
  for (int64_t v = 0; v < kV - 1; ++v) {
    z = z * 6364136223846793005ULL + 1442695040888963407ULL;
    p[v] = 0.05 + static_cast<double>(z >> 40) / static_cast<double>(1ULL << 24);
    sum += p[v];
  }
  for (double& x : p) x /= sum;
  return p;
}

double lp(int64_t n, double alpha) { return std::pow((5.0 + static_cast<double>(n)) / 6.0, alpha); }

// Every hypothesis of at most `limit` tokens, scored as beam.h defines.
std::vector<Hypothesis> enumerate(const Table& table, int64_t limit, double alpha) {
  std::vector<Hypothesis> all;
  std::function<void(std::vector<int64_t>&, double)> rec = [&](std::vector<int64_t>& toks, double logp) {
    const int64_t last = toks.empty() ? kBos : toks.back();
    const std::vector<double> p = table(last, static_cast<int64_t>(toks.size()));
    const int64_t n = static_cast<int64_t>(toks.size()) + 1;
    for (int64_t v = 0; v < kV; ++v) {
      if (p[v] <= 0) continue;
      const double l = logp + std::log(p[v]);
      if (v == kEos) {
        all.push_back({toks, l, l / lp(n, alpha), true});
      } else if (n == limit) {
        std::vector<int64_t> t = toks;
        t.push_back(v);
        all.push_back({t, l, l / lp(n, alpha), false});
      } else {
        toks.push_back(v);
        rec(toks, l);
        toks.pop_back();
      }
    }
  };
  std::vector<int64_t> toks;
  rec(toks, 0.0);
  std::sort(all.begin(), all.end(), [](const Hypothesis& a, const Hypothesis& b) { return a.score > b.score; });
  return all;
}

models::DecodeInput bos(int64_t B) { return {.ids = tensor_i64(std::vector<int64_t>(B, kBos), {B, 1})}; }

BeamOptions options(int64_t beam, float alpha, int64_t limit) {
  return {.beam_size = beam, .length_penalty = alpha, .max_len_a = 0, .max_len_b = limit, .eos = kEos};
}

}  // namespace

TEST(Beam, WideBeamFindsTheExhaustiveRankingAndScoresFollowLp) {
  for (float alpha : {0.0f, 0.6f, 1.5f}) {
    Toy toy(random_probs);
    BeamOptions o = options(128, alpha, 4);
    o.n_best = 6;
    const auto hyps = generate::beam_search(toy, bos(1), o);
    const auto truth = enumerate(random_probs, 4, alpha);
    ASSERT_EQ(hyps.size(), 1u);
    ASSERT_EQ(hyps[0].size(), 6u);
    for (size_t i = 0; i < 6; ++i) {
      const Hypothesis& h = hyps[0][i];
      EXPECT_EQ(h.tokens, truth[i].tokens) << "alpha " << alpha << " rank " << i;
      EXPECT_NEAR(h.score, truth[i].score, 1e-5) << "alpha " << alpha << " rank " << i;
      EXPECT_EQ(h.finished, truth[i].finished);
      const int64_t n = static_cast<int64_t>(h.tokens.size()) + (h.finished ? 1 : 0);  // eos counts
      EXPECT_NEAR(h.score, h.log_prob / lp(n, alpha), 1e-9);
      if (i > 0) {
        EXPECT_GE(hyps[0][i - 1].score, h.score);                 // sorted
        EXPECT_NE(hyps[0][i - 1].tokens, h.tokens);               // distinct
      }
    }
  }
}

TEST(Beam, NarrowBeamIsNeverBetterThanTheTruthAndSentencesAreIndependent) {
  Toy toy(random_probs);
  BeamOptions o = options(2, 0.6f, 4);
  const auto one = generate::beam_search(toy, bos(1), o);
  const auto three = generate::beam_search(toy, bos(3), o);  // three identical sentences in one batch
  const auto truth = enumerate(random_probs, 4, 0.6);
  EXPECT_LE(one[0][0].score, truth[0].score + 1e-9);
  for (const auto& h : three) {
    EXPECT_EQ(h[0].tokens, one[0][0].tokens);
    EXPECT_DOUBLE_EQ(h[0].score, one[0][0].score);
  }
}

TEST(Beam, LengthPenaltyChangesTheWinner) {
  // Raw: eos at once (log .407 = −0.9) beats 1 1 1 eos (−1.2). Normalised with
  // α = 1: −0.9 / lp(1) = −0.9 < −1.2 / lp(4) = −0.8, so the longer one wins.
  const Table t = [](int64_t last, int64_t len) -> std::vector<double> {
    if (last == kBos) return {std::exp(-0.9), 0.55, 1 - std::exp(-0.9) - 0.55, 0, 0};
    if (last == 1 && len < 3) return {0.05, 0.9, 0.05, 0, 0};
    if (last == 1) {  // len 3: eos completes log P = −1.2
      const double pe = std::exp(-1.2 - std::log(0.55) - 2 * std::log(0.9));
      return {pe, 1 - pe - 0.01, 0.01, 0, 0};
    }
    return {0.1, 0.1, 0.8, 0, 0};
  };
  // A beam wide enough that the finished set is not full of shorter ones
  // (eos after 0, 1, 2 tokens) before 1 1 1 eos arrives: the first
  // beam_size finished are kept (beam.h).
  Toy toy(t);
  const auto raw = generate::beam_search(toy, bos(1), options(16, 0.0f, 4));
  const auto norm = generate::beam_search(toy, bos(1), options(16, 1.0f, 4));
  EXPECT_EQ(raw[0][0].tokens, std::vector<int64_t>{});
  EXPECT_EQ(norm[0][0].tokens, (std::vector<int64_t>{1, 1, 1}));
  EXPECT_NEAR(norm[0][0].log_prob, -1.2, 1e-5);
  EXPECT_NEAR(norm[0][0].score, -0.8, 1e-5);
  EXPECT_EQ(raw[0][0].tokens, enumerate(t, 4, 0.0)[0].tokens);
  EXPECT_EQ(norm[0][0].tokens, enumerate(t, 4, 1.0)[0].tokens);
  // With beam 4 the finished set is full (eos after 0, 1 and 2 tokens) before
  // 1 1 1 eos comes, and a full set admits no more: the short one stays.
  EXPECT_EQ(generate::beam_search(toy, bos(1), options(4, 1.0f, 4))[0][0].tokens, std::vector<int64_t>{});
}

// Beam 1 stops where greedy stops: after eos first (P .5) the runner-up
// "1 eos" would score better with α = 2 (−0.81 / lp(2) = −0.59 > −0.69),
// but the finished set (size 1) is full, and the live "1 1" (−6.1) cannot
// win at the limit either (−6.1 / lp(10) = −0.98).
TEST(Beam, BeamOneStopsWhereGreedyStops) {
  const Table t = [](int64_t last, int64_t) -> std::vector<double> {
    if (last == kBos) return {0.5, 0.45, 0.05, 0, 0};
    return {0.99, 0.005, 0.005, 0, 0};
  };
  for (float alpha : {0.0f, 2.0f}) {
    Toy toy(t);
    const auto hyps = generate::beam_search(toy, bos(1), options(1, alpha, 10));
    EXPECT_TRUE(hyps[0][0].tokens.empty()) << "alpha " << alpha;
    EXPECT_TRUE(hyps[0][0].finished);
    EXPECT_LE(toy.steps, 1);
  }
}

TEST(Beam, LengthLimitIsASPlusBCappedByMaxNewTokens) {
  const Table never_eos = [](int64_t, int64_t) -> std::vector<double> { return {0, 0.5, 0.3, 0.2, 0}; };
  Toy toy(never_eos);
  models::DecodeInput in = bos(3);
  in.source_ids = zeros({3, 4}, DType::Int64);
  in.source_mask = tensor_bool({true, true, true, true, true, true, true, false, true, false, false, false}, {3, 4});
  BeamOptions o = options(3, 0.6f, 1);
  o.max_len_a = 1.5f, o.max_new_tokens = 6;  // limits: min(6, 1.5·4+1) = 6, ⌊1.5·3+1⌋ = 5, ⌊1.5·1+1⌋ = 2
  const auto hyps = generate::beam_search(toy, in, o);
  const std::vector<size_t> want{6, 5, 2};
  for (size_t b = 0; b < 3; ++b) {
    EXPECT_EQ(hyps[b][0].tokens.size(), want[b]) << "sentence " << b;
    EXPECT_FALSE(hyps[b][0].finished);
    EXPECT_EQ(hyps[b][0].tokens, std::vector<int64_t>(want[b], 1));
  }
  EXPECT_EQ(toy.steps, 5);  // the last token of the longest needs no step after it
}

TEST(Beam, StopsEarlyWhenNoLiveHypothesisCanWin) {
  const Table mostly_eos = [](int64_t, int64_t) -> std::vector<double> { return {0.9, 0.05, 0.03, 0.02, 0}; };
  Toy raw(mostly_eos), norm(mostly_eos);
  const auto a = generate::beam_search(raw, bos(1), options(2, 0.0f, 50));
  const auto b = generate::beam_search(norm, bos(1), options(2, 0.6f, 50));
  for (const auto* h : {&a, &b}) {
    EXPECT_TRUE((*h)[0][0].finished);
    EXPECT_TRUE((*h)[0][0].tokens.empty());
  }
  // α = 0: after one step both live hypotheses (≈ −6) are below the worst
  // finished (≈ −3.1). α = 0.6: the bound divides by lp(50) ≈ 3.8, so a few
  // more steps are needed — still far from the 49 of the length limit.
  EXPECT_EQ(raw.steps, 1);
  EXPECT_LE(norm.steps, 6);
}

TEST(Beam, BadOptionsAreRejectedNamingTheField) {
  auto rejects = [](BeamOptions o, const std::string& field) {
    try {
      o.validate();
      ADD_FAILURE() << field << " accepted";
    } catch (const ValueError& e) {
      EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
    }
  };
  const BeamOptions ok = options(2, 0.6f, 5);
  EXPECT_NO_THROW(ok.validate());
  BeamOptions o = ok;
  o.beam_size = 0;
  rejects(o, "beam_size");
  o = ok, o.n_best = 3;
  rejects(o, "n_best");
  o = ok, o.n_best = 0;
  rejects(o, "n_best");
  o = ok, o.max_len_a = -1;
  rejects(o, "max_len_a");
  o = ok, o.max_len_b = -1;
  rejects(o, "max_len_b");
  o = ok, o.max_new_tokens = 0;
  rejects(o, "max_new_tokens");
  o = ok, o.eos.reset();
  rejects(o, "eos");
  Toy toy(random_probs);
  o = ok, o.eos = kV;
  EXPECT_THROW(generate::beam_search(toy, bos(1), o), ValueError);  // eos outside the vocabulary
}
