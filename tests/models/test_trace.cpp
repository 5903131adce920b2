// nn::Trace (--trace): every family reports its layers' shapes through the
// shared modules; shapes match the real tensors, norms are finite and equal a
// recomputation, and a trace changes nothing it watches.
#include <gtest/gtest.h>

#include <cmath>

#include "qkv/autograd/autograd.h"
#include "qkv/models/bert.h"
#include "qkv/models/gpt.h"
#include "qkv/models/llama.h"
#include "qkv/models/transformer.h"
#include "qkv/nn/trace.h"
#include "qkv/ops/ops.h"

using namespace qkv;

namespace {

// Every event of one traced call, in order.
struct Recorded {
  std::vector<nn::TraceEvent> events;
  const nn::TraceEvent& find(const std::string& module, const std::string& what) const {
    for (const auto& e : events)
      if (e.module == module && e.what == what) return e;
    ADD_FAILURE() << "no event " << module << " " << what;
    static const nn::TraceEvent none;
    return none;
  }
  size_t count(const std::string& what) const {
    size_t n = 0;
    for (const auto& e : events) n += e.what == what;
    return n;
  }
};

template <class F>
Recorded record(const nn::Module& root, F&& run) {
  Recorded r;
  nn::Trace t(root, [&r](const nn::TraceEvent& e) { r.events.push_back(e); });
  run();
  return r;
}

Tensor ids_of(std::vector<int64_t> v, int64_t B) { return tensor_i64(v, {B, static_cast<int64_t>(v.size()) / B}); }

models::GPTConfig tiny_gpt() {
  models::GPTConfig c;
  c.vocab_size = 11, c.n_layer = 2, c.n_head = 2, c.n_embd = 8, c.block_size = 16;
  return c;
}

void expect_all_finite(const Recorded& r) {
  for (const auto& e : r.events) EXPECT_TRUE(std::isfinite(e.norm)) << e.module << " " << e.what;
}

}  // namespace

TEST(Trace, GptShapesMatchTheRealTensorsAndNormsARecomputation) {
  Generator gen(1);
  models::GPT m(tiny_gpt(), gen);
  m.eval();
  const Tensor ids = ids_of({1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 2);  // B=2, T=5
  NoGradGuard ng;
  Tensor logits;
  const Recorded r = record(m, [&] { logits = m.forward(ids, gen); });
  expect_all_finite(r);
  EXPECT_EQ(r.find("wte", "out").shape, (Shape{2, 5, 8}));
  EXPECT_EQ(r.find("wte", "out").dims, "(B,T,C)");
  EXPECT_EQ(r.find("wpe", "out").dims, "(T,C)");
  const nn::TraceEvent& q = r.find("h.0.attn", "q");
  EXPECT_EQ(q.shape, (Shape{2, 5, 8}));
  EXPECT_EQ(q.view_dims, "(B,NH,T,hs)");
  EXPECT_EQ(q.view_shape, (Shape{2, 2, 5, 4}));
  EXPECT_EQ(r.find("h.1.attn", "weights").shape, (Shape{2, 2, 5, 5}));
  EXPECT_EQ(r.find("h.1.mlp", "hidden").shape, (Shape{2, 5, 32}));  // F = 4C
  EXPECT_EQ(r.find("h.1", "out").shape, (Shape{2, 5, 8}));
  EXPECT_EQ(r.find("ln_f", "out").shape, (Shape{2, 5, 8}));
  const nn::TraceEvent& lg = r.find("", "logits");
  EXPECT_EQ(lg.shape, logits.shape());
  EXPECT_EQ(lg.dims, "(B,T,V)");
  // Norms: the logits' and the token embeddings', recomputed by hand.
  double sum = 0;
  for (float x : logits.contiguous().to_vector()) sum += static_cast<double>(x) * x;
  EXPECT_NEAR(lg.norm, std::sqrt(sum), 1e-9 * std::sqrt(sum));
  const std::vector<float> wte = m.wte->weight.contiguous().to_vector();
  double emb = 0;
  for (int64_t id : ids.to_int_vector())
    for (int64_t c = 0; c < 8; ++c) emb += static_cast<double>(wte[id * 8 + c]) * wte[id * 8 + c];
  EXPECT_NEAR(r.find("wte", "out").norm, std::sqrt(emb), 1e-6);
  // Attention probabilities: each of the B·NH·T rows sums to 1, so the norm is
  // at least √(B·NH·T / S) and at most √(B·NH·T).
  const double w = r.find("h.0.attn", "weights").norm;
  EXPECT_GE(w, std::sqrt(20.0 / 5) - 1e-6);
  EXPECT_LE(w, std::sqrt(20.0) + 1e-6);
}

TEST(Trace, ChangesNothingAndCostsNothingWhenOff) {
  Generator gen(1);
  models::GPT m(tiny_gpt(), gen);
  m.eval();
  const Tensor ids = ids_of({1, 2, 3, 4}, 1);
  NoGradGuard ng;
  EXPECT_FALSE(nn::tracing());
  const std::vector<float> plain = m.forward(ids, gen).to_vector();
  std::vector<float> traced;
  size_t n = 0;
  {
    nn::Trace t(m, [&n](const nn::TraceEvent&) { ++n; });
    EXPECT_TRUE(nn::tracing());
    traced = m.forward(ids, gen).to_vector();
    t.pause(true);
    EXPECT_FALSE(nn::tracing());
    const size_t before = n;
    m.forward(ids, gen);
    EXPECT_EQ(n, before) << "a paused trace reports nothing";
  }
  EXPECT_FALSE(nn::tracing()) << "the trace uninstalls itself";
  EXPECT_GT(n, 0u);
  EXPECT_EQ(plain, traced);
}

TEST(Trace, LlamaShowsGroupedKeyValueHeads) {
  models::LlamaConfig c;
  c.vocab_size = 11, c.hidden_size = 16, c.intermediate_size = 24, c.num_hidden_layers = 2;
  c.num_attention_heads = 4, c.num_key_value_heads = 2, c.max_position_embeddings = 8;
  Generator gen(2);
  models::Llama m(c, gen);
  m.eval();
  NoGradGuard ng;
  const Recorded r = record(m, [&] { m.forward(ids_of({1, 2, 3}, 1)); });
  expect_all_finite(r);
  const nn::TraceEvent& k = r.find("model.layers.1.self_attn", "k");
  EXPECT_EQ(k.shape, (Shape{1, 3, 8}));  // NKV·hs = 2·4
  EXPECT_EQ(k.view_dims, "(B,NKV,S,hs)");
  EXPECT_EQ(k.view_shape, (Shape{1, 2, 3, 4}));
  EXPECT_EQ(r.find("model.layers.0.mlp", "hidden").shape, (Shape{1, 3, 24}));
  EXPECT_EQ(r.find("model.norm", "out").shape, (Shape{1, 3, 16}));
  EXPECT_EQ(r.find("", "logits").shape, (Shape{1, 3, 11}));
}

TEST(Trace, BertReportsItsEncoderLayers) {
  models::BertConfig c;
  c.vocab_size = 20, c.hidden_size = 16, c.num_hidden_layers = 2, c.num_attention_heads = 2;
  c.intermediate_size = 32, c.max_position_embeddings = 10;
  c.hidden_dropout_prob = 0.0f, c.attention_probs_dropout_prob = 0.0f;
  Generator gen(3);
  models::Bert m(c, gen);
  m.eval();
  NoGradGuard ng;
  const Recorded r = record(m, [&] { m.mlm_logits(m.hidden({.input_ids = ids_of({2, 5, 6, 7, 3}, 1)}, gen)); });
  expect_all_finite(r);
  EXPECT_EQ(r.find("bert.embeddings.word_embeddings", "out").shape, (Shape{1, 5, 16}));
  EXPECT_EQ(r.find("bert.encoder.layer.1.attention.self", "weights").shape, (Shape{1, 2, 5, 5}));
  EXPECT_EQ(r.find("bert.encoder.layer.1", "hidden").shape, (Shape{1, 5, 32}));
  EXPECT_EQ(r.find("bert.encoder.layer.1", "out").shape, (Shape{1, 5, 16}));
  EXPECT_EQ(r.find("", "logits").shape, (Shape{1, 5, 20}));
}

TEST(Trace, EncoderDecoderShowsCrossAttentionOverTheSource) {
  models::Seq2SeqConfig c;
  c.vocab_size = 13, c.d_model = 16, c.n_heads = 2, c.d_ff = 24;
  c.n_encoder_layers = 1, c.n_decoder_layers = 2, c.dropout = 0.0f, c.max_len = 12;
  Generator gen(4);
  models::Transformer m(c, gen);
  m.eval();
  NoGradGuard ng;
  const Tensor src = ids_of({4, 5, 6, 7, 8, 9}, 1), tgt = ids_of({1, 4, 5}, 1);  // S = 6, T = 3
  const Recorded r = record(m, [&] { m.forward(src, Tensor(), tgt, Tensor(), gen); });
  expect_all_finite(r);
  // Names from the model's own tree; the cross-attention's keys come from the source.
  std::string cross;
  for (const auto& e : r.events)
    if (e.what == "weights" && e.module.find("cross") != std::string::npos) cross = e.module;
  ASSERT_FALSE(cross.empty());
  EXPECT_EQ(r.find(cross, "q").shape, (Shape{1, 3, 16}));
  EXPECT_EQ(r.find(cross, "k").shape, (Shape{1, 6, 16}));
  EXPECT_EQ(r.find(cross, "weights").shape, (Shape{1, 2, 3, 6}));
  EXPECT_EQ(r.find("", "logits").shape, (Shape{1, 3, 13}));
  EXPECT_EQ(r.count("weights"), 1u + 2u * 2u);  // encoder self, decoder self + cross per layer
}

TEST(Trace, FormatsTheNotesShapeLine) {
  const nn::TraceEvent e{.module = "h.0.attn", .what = "q", .dims = "(B,T,C)", .shape = {1, 5, 64},
                         .view_dims = "(B,NH,T,hs)", .view_shape = {1, 4, 5, 16}, .norm = 7.5};
  const std::string line = nn::format_trace_line(e);
  EXPECT_NE(line.find("h.0.attn"), std::string::npos) << line;
  EXPECT_NE(line.find("(B,T,C) → (B,NH,T,hs)"), std::string::npos) << line;
  EXPECT_NE(line.find("(1,5,64) → (1,4,5,16)"), std::string::npos) << line;
  EXPECT_NE(line.find("‖·‖ 7.5"), std::string::npos) << line;
}
