// The encoder–decoder Transformer with every pos_encoding (docs/POSITIONS.md):
// positions reach the encoder (only `none` is blind to source order), cached
// decoding equals the uncached path and the teacher-forced forward, padded
// sources decode as they would alone, the learned parameters get gradients,
// and the config's errors (unknown kind, bad rotary width, too long for a
// learned table) are clear.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "qkv/autograd/autograd.h"
#include "qkv/models/transformer.h"
#include "qkv/ops/ops.h"
#include "support/compare.h"

using namespace qkv;
using qkv::testing::max_abs_diff;

namespace {

const std::vector<std::string> kKinds = {"sinusoidal", "learned", "rope", "alibi", "t5", "relative", "none"};

models::Seq2SeqConfig seq2seq_config(const std::string& kind) {
  models::Seq2SeqConfig c;
  c.vocab_size = 19, c.d_model = 16, c.n_heads = 2, c.d_ff = 24, c.n_encoder_layers = 2, c.n_decoder_layers = 2;
  c.max_len = 16, c.dropout = 0.0f;
  c.pos_encoding = kind;
  c.t5_num_buckets = 8, c.t5_max_distance = 12, c.relative_max_distance = 3;  // small: the clipping matters
  return c;
}

std::unique_ptr<models::Transformer> model(const std::string& kind, uint64_t seed) {
  Generator gen(seed);
  auto m = std::make_unique<models::Transformer>(seq2seq_config(kind), gen);
  m->eval();
  // Position parameters start small (or zero, T5); make them matter.
  NoGradGuard ng;
  for (auto& [name, p] : m->named_parameters())
    if (name.find("positions") != std::string::npos || name.find("bias.") != std::string::npos ||
        name.find("rel_pos") != std::string::npos)
      p.copy_(randn(p.shape(), gen));
  return m;
}

// Row 1 of the sources is padded after 3 tokens.
models::DecodeInput input() {
  models::DecodeInput in;
  in.source_ids = tensor_i64({5, 6, 7, 8, 10, 11, 12, 0}, {2, 4});
  in.source_mask = tensor_bool({true, true, true, true, true, true, true, false}, {2, 4});
  in.ids = tensor_i64({1, 1}, {2, 1});  // BOS
  return in;
}

int64_t argmax_row(const Tensor& logits, int64_t b) {
  const std::vector<float> v = logits.select(0, b).contiguous().to_vector();
  return static_cast<int64_t>(std::max_element(v.begin(), v.end()) - v.begin());
}

class TransformerPositions : public ::testing::TestWithParam<std::string> {};

}  // namespace

TEST_P(TransformerPositions, TheEncoderSeesOrderUnlessNone) {
  auto m = model(GetParam(), 3);
  NoGradGuard ng;
  Generator gen(0);
  // A shuffle, not a reversal: ALiBi's bidirectional bias −m·|i − j| is
  // symmetric, so reversing the source is a symmetry of an ALiBi encoder too.
  const std::vector<int64_t> src{5, 6, 7, 8, 9}, perm{1, 3, 0, 4, 2};
  std::vector<int64_t> shuffled;
  for (int64_t i : perm) shuffled.push_back(src[static_cast<size_t>(i)]);
  const Tensor mem = m->encode(tensor_i64(src, {1, 5}), Tensor(), gen);
  const Tensor mem_shuffled = m->encode(tensor_i64(shuffled, {1, 5}), Tensor(), gen);
  // Without positions self-attention is permutation-equivariant: shuffling the
  // source shuffles the memory's rows. Every method that encodes order breaks that.
  float diff = 0.0f;
  for (int64_t t = 0; t < 5; ++t)
    diff = std::max(diff, max_abs_diff(mem_shuffled.select(1, t).contiguous(), mem.select(1, perm[static_cast<size_t>(t)]).contiguous()));
  if (GetParam() == "none")
    EXPECT_LE(diff, 1e-5f);
  else
    EXPECT_GT(diff, 1e-2f);
}

TEST_P(TransformerPositions, CachedDecodingEqualsTheUncachedPathAndTheForward) {
  auto m = model(GetParam(), 4);
  models::DecodeState cached, full;
  full.use_cache = false;
  const models::DecodeInput in = input();
  Tensor a = m->start(cached, in), b = m->start(full, in);
  for (int t = 0; t < 7; ++t) {
    ASSERT_LE(max_abs_diff(a, b), 1e-4f) << "step " << t;
    const std::vector<int64_t> next{argmax_row(a, 0), argmax_row(a, 1)};
    a = m->step(cached, next);
    b = m->step(full, next);
  }
  NoGradGuard ng;
  Generator gen(0);
  const Tensor logits = m->forward(in.source_ids, in.source_mask, cached.ids, Tensor(), gen);  // teacher-forced
  EXPECT_LE(max_abs_diff(a, logits.select(1, logits.size(1) - 1).contiguous()), 1e-4f);
}

TEST_P(TransformerPositions, PaddedSourceRowDecodesAsItWouldAlone) {
  auto m = model(GetParam(), 5);
  models::DecodeState batch, alone;
  const models::DecodeInput in = input();
  models::DecodeInput one;
  one.source_ids = in.source_ids.narrow(0, 1, 1).narrow(1, 0, 3).contiguous();
  one.ids = tensor_i64({1}, {1, 1});
  Tensor lb = m->start(batch, in), la = m->start(alone, one);
  for (int64_t next : {4, 9, 3}) {
    EXPECT_LE(max_abs_diff(lb.narrow(0, 1, 1), la), 1e-4f);
    lb = m->step(batch, {next, next});
    la = m->step(alone, {next});
  }
}

TEST_P(TransformerPositions, PositionParametersLearn) {
  auto m = model(GetParam(), 6);
  m->train();
  Generator gen(0);
  const models::DecodeInput in = input();
  const Tensor tgt = tensor_i64({1, 4, 9, 3, 1, 7, 2, 0}, {2, 4});
  const Tensor logits = m->forward(in.source_ids, in.source_mask, tgt, Tensor(), gen);
  sum(logits).backward();
  int position_params = 0;
  for (auto& [name, p] : m->named_parameters()) {
    const bool positional = name.find("positions") != std::string::npos || name.find("bias.") != std::string::npos ||
                            name.find("rel_pos") != std::string::npos;
    if (!positional) continue;
    ++position_params;
    ASSERT_TRUE(p.grad().defined()) << name;
    EXPECT_GT(max_abs_diff(p.grad(), zeros_like(p.grad())), 0.0f) << name << " gets no gradient";
  }
  const std::string k = GetParam();
  const int expected = k == "learned" ? 2 : k == "t5" ? 2 : k == "relative" ? 2 * 4 : 0;  // relative: w^K, w^V per self-attention
  EXPECT_EQ(position_params, expected);
}

INSTANTIATE_TEST_SUITE_P(Kinds, TransformerPositions, ::testing::ValuesIn(kKinds),
                         [](const auto& info) { return info.param; });

TEST(TransformerPositionsConfig, RoundTripsAndRejectsBadSettings) {
  models::Seq2SeqConfig c = seq2seq_config("rope");
  c.rope_theta = 500000.0f, c.rope_dim = 4, c.rope_layout = "adjacent";
  EXPECT_EQ(models::Seq2SeqConfig::from_json(nlohmann::json::parse(c.to_json().dump())), c);
  EXPECT_EQ(models::Seq2SeqConfig().pos_encoding, "sinusoidal");  // the paper's, by default
  auto bad = [](nlohmann::json j, std::initializer_list<std::string> needles) {
    try {
      models::Seq2SeqConfig::from_json(j);
      ADD_FAILURE() << "no exception for " << j.dump();
    } catch (const ValueError& e) {
      for (const std::string& n : needles) EXPECT_NE(std::string(e.what()).find(n), std::string::npos) << e.what();
    }
  };
  bad({{"pos_encoding", "xpos"}}, {"pos_encoding", "xpos", "rope"});
  bad({{"pos_encoding", "rope"}, {"d_model", 32}, {"n_heads", 4}, {"rope_dim", 3}}, {"rope_dim 3", "even"});
  bad({{"pos_encoding", "rope"}, {"d_model", 32}, {"n_heads", 4}, {"rope_dim", 10}}, {"at most the head size 8"});
  bad({{"pos_encoding", "relative"}, {"relative_max_distance", 0}}, {"relative_max_distance"});
  bad({{"pos_encoding", "t5"}, {"t5_num_buckets", 32}, {"t5_max_distance", 8}}, {"t5_max_distance 8"});
}

TEST(TransformerPositionsConfig, LearnedTablesRefuseLongerInputs) {
  auto m = model("learned", 7);  // max_len 16
  NoGradGuard ng;
  Generator gen(0);
  std::vector<int64_t> v(17, 5);
  try {
    m->encode(tensor_i64(v, {1, 17}), Tensor(), gen);
    ADD_FAILURE() << "a 17-token source passed a 16-row table";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("source of 17 tokens"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("max_len 16"), std::string::npos) << e.what();
  }
  const Tensor memory = m->encode(tensor_i64({5, 6}, {1, 2}), Tensor(), gen);
  try {
    m->decode(tensor_i64(v, {1, 17}), memory, gen);
    ADD_FAILURE() << "a 17-token target passed a 16-row table";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("target of 17 tokens"), std::string::npos) << e.what();
  }
}
