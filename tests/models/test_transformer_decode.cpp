// The Transformer as a models::Decoder: cached steps equal the uncached path
// and the teacher-forced forward, padded sources decode as they would alone,
// reorder keeps rows (beam search), and bad input fails.
#include <gtest/gtest.h>

#include <algorithm>

#include "qkv/autograd/autograd.h"
#include "qkv/models/transformer.h"
#include "qkv/ops/ops.h"
#include "support/compare.h"

using namespace qkv;
using qkv::testing::max_abs_diff;

namespace {

std::unique_ptr<models::Transformer> model(uint64_t seed) {
  models::Seq2SeqConfig c;
  c.vocab_size = 19, c.d_model = 16, c.n_heads = 2, c.d_ff = 24, c.n_encoder_layers = 2, c.n_decoder_layers = 2;
  c.max_len = 16;
  Generator gen(seed);
  auto m = std::make_unique<models::Transformer>(c, gen);
  m->eval();
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

}  // namespace

TEST(TransformerDecode, CachedStepsEqualTheUncachedPathAndTheForward) {
  auto m = model(3);
  models::DecodeState cached, full;
  full.use_cache = false;
  const models::DecodeInput in = input();
  Tensor a = m->start(cached, in), b = m->start(full, in);
  for (int t = 0; t < 6; ++t) {
    EXPECT_LE(max_abs_diff(a, b), 1e-5f) << "step " << t;
    const std::vector<int64_t> next{argmax_row(a, 0), argmax_row(a, 1)};
    a = m->step(cached, next);
    b = m->step(full, next);
  }
  NoGradGuard ng;
  Generator gen(0);
  const Tensor logits = m->forward(in.source_ids, in.source_mask, cached.ids, Tensor(), gen);  // teacher-forced
  EXPECT_LE(max_abs_diff(a, logits.select(1, logits.size(1) - 1).contiguous()), 1e-5f);
}

TEST(TransformerDecode, PaddedSourceRowDecodesAsItWouldAlone) {
  auto m = model(5);
  models::DecodeState batch, alone;
  const models::DecodeInput in = input();
  models::DecodeInput one;
  one.source_ids = in.source_ids.narrow(0, 1, 1).narrow(1, 0, 3).contiguous();
  one.ids = tensor_i64({1}, {1, 1});
  Tensor lb = m->start(batch, in), la = m->start(alone, one);
  for (int64_t next : {4, 9, 3}) {
    EXPECT_LE(max_abs_diff(lb.narrow(0, 1, 1), la), 1e-5f);
    lb = m->step(batch, {next, next});
    la = m->step(alone, {next});
  }
}

TEST(TransformerDecode, ReorderKeepsDropsAndDuplicatesRows) {
  auto m = model(7);
  models::DecodeState st, ref;
  Tensor l = m->start(st, input());
  m->start(ref, input());
  m->reorder(st, {1, 1, 0});  // three rows: 1, 1, 0 (not in equal groups: the gathered path)
  ASSERT_EQ(st.batch(), 3);
  // The sources are not copied per row: each row knows its sentence.
  EXPECT_EQ(st.source_mask.size(0), 2);
  EXPECT_EQ(st.memory.size(0), 2);
  EXPECT_EQ(st.cache.layer(2).k.size(0), 2);  // a cross-attention slot
  EXPECT_EQ(st.source_rows, (std::vector<int64_t>{1, 1, 0}));
  Tensor r = m->step(ref, {4, 6});
  l = m->step(st, {6, 6, 4});
  EXPECT_LE(max_abs_diff(l.narrow(0, 0, 1), r.narrow(0, 1, 1)), 1e-5f);
  EXPECT_LE(max_abs_diff(l.narrow(0, 1, 1), r.narrow(0, 1, 1)), 1e-5f);
  EXPECT_LE(max_abs_diff(l.narrow(0, 2, 1), r.narrow(0, 0, 1)), 1e-5f);
}

// Beam search's layout: K consecutive rows per sentence read one shared row
// of cross-attention keys/values; dropping a sentence drops its source rows.
TEST(TransformerDecode, GroupedBeamsShareTheirSentenceAndFinishedSentencesLeave) {
  for (bool use_cache : {true, false}) {
    auto m = model(13);
    models::DecodeState st, ref;
    st.use_cache = ref.use_cache = use_cache;
    m->start(st, input());
    m->start(ref, input());
    m->reorder(st, {0, 0, 0, 1, 1, 1});  // three beams per sentence
    EXPECT_EQ(st.source_rows, (std::vector<int64_t>{0, 0, 0, 1, 1, 1}));
    Tensor l = m->step(st, {4, 5, 6, 7, 8, 9});
    for (int64_t b = 0; b < 6; ++b) {
      models::DecodeState one;
      one.use_cache = use_cache;
      m->start(one, input());
      m->reorder(one, {b / 3});
      const int64_t t = 4 + b;
      EXPECT_LE(max_abs_diff(l.narrow(0, b, 1), m->step(one, {t})), 1e-5f) << "row " << b;
    }
    m->reorder(st, {4, 3});  // sentence 0 is done: only sentence 1's beams stay
    EXPECT_EQ(st.source_rows, (std::vector<int64_t>{0, 0}));
    EXPECT_EQ(st.memory.size(0), 1);
    EXPECT_EQ(st.source_mask.size(0), 1);
    if (use_cache) {
      EXPECT_EQ(st.cache.layer(2).k.size(0), 1);
    }
    l = m->step(st, {3, 3});
    Tensor r = m->step(ref, {7, 8});  // ref rows: sentence 0 with 7, sentence 1 with 8
    r = m->step(ref, {3, 3});
    EXPECT_LE(max_abs_diff(l.narrow(0, 0, 1), r.narrow(0, 1, 1)), 1e-5f);  // beam 4 = sentence 1 after 8
    EXPECT_THROW(m->reorder(st, {2}), ValueError);
  }
}

TEST(TransformerDecode, BadInput) {
  auto m = model(9);
  models::DecodeState st;
  models::DecodeInput in = input();
  in.source_ids = Tensor();
  EXPECT_THROW(m->start(st, in), ValueError);  // no sources
  in = input();
  in.ids = tensor_i64({1, 1, 1}, {3, 1});
  EXPECT_THROW(m->start(st, in), ShapeError);  // batch mismatch
  in = input();
  in.ids = tensor_i64({0, 1, 1, 1}, {2, 2});
  in.mask = tensor_bool({false, true, true, true}, {2, 2});
  EXPECT_THROW(m->start(st, in), ValueError);  // padded target prompts
  m->start(st, input());
  EXPECT_THROW(m->step(st, {1}), ShapeError);  // one token for two rows
  for (int t = 0; t < 15; ++t) m->step(st, {3, 3});
  EXPECT_THROW(m->step(st, {3, 3}), ValueError);  // past max_len 16
}

TEST(TransformerDecode, AttentionWeightsAreProbabilitiesThatSkipPadding) {
  auto m = model(4);
  const models::DecodeInput in = input();
  NoGradGuard ng;
  Generator gen(0);
  const Tensor memory = m->encode(in.source_ids, in.source_mask, gen);
  const Tensor tgt = tensor_i64({1, 5, 6, 1, 7, 8}, {2, 3});
  std::vector<nn::LayerWeights> w;
  const Tensor with = m->decode(tgt, memory, gen, {.src_mask = in.source_mask, .weights = &w});
  const Tensor without = m->decode(tgt, memory, gen, {.src_mask = in.source_mask});
  EXPECT_EQ(max_abs_diff(with, without), 0.0f);  // asking for weights changes nothing
  ASSERT_EQ(w.size(), 2u);                       // one per decoder layer
  for (const nn::LayerWeights& lw : w) {
    ASSERT_EQ(lw.cross.shape(), (Shape{2, 2, 3, 4}));  // (B,NH,T,S)
    ASSERT_EQ(lw.self.shape(), (Shape{2, 2, 3, 3}));   // (B,NH,T,T)
    const std::vector<float> c = lw.cross.contiguous().to_vector(), s = lw.self.contiguous().to_vector();
    for (int64_t row = 0; row < 2 * 2 * 3; ++row) {
      float sum = 0;
      for (int64_t k = 0; k < 4; ++k) sum += c[row * 4 + k];
      EXPECT_NEAR(sum, 1.0f, 1e-5f);
      if (row >= 2 * 3) EXPECT_EQ(c[row * 4 + 3], 0.0f) << "sentence 1's padding is never attended";
      const int64_t t = row % 3;
      for (int64_t k = t + 1; k < 3; ++k) EXPECT_EQ(s[row * 3 + k], 0.0f) << "causal";
    }
  }
}
