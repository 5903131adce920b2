// Beam search on real (random) models: beam size 1 is greedy argmax decoding,
// a batch of padded sentences decodes as each sentence alone, the cache-free
// reference path agrees, and beams sharing one sentence's cross-attention
// keys/values give what per-beam copies gave.
#include <gtest/gtest.h>

#include <algorithm>

#include "qkv/generate/beam.h"
#include "qkv/generate/generate.h"
#include "qkv/models/gpt.h"
#include "qkv/models/transformer.h"
#include "qkv/nn/kv_cache.h"
#include "qkv/ops/ops.h"

using namespace qkv;
using generate::BeamOptions;
using generate::Hypothesis;

namespace {

std::unique_ptr<models::Transformer> transformer(uint64_t seed) {
  models::Seq2SeqConfig c;
  c.vocab_size = 19, c.d_model = 16, c.n_heads = 2, c.d_ff = 24, c.n_encoder_layers = 2, c.n_decoder_layers = 2;
  c.max_len = 16;
  Generator gen(seed);
  auto m = std::make_unique<models::Transformer>(c, gen);
  m->eval();
  return m;
}

std::unique_ptr<models::GPT> gpt(uint64_t seed) {
  models::GPTConfig c;
  c.vocab_size = 11, c.n_layer = 2, c.n_head = 2, c.n_embd = 16, c.block_size = 16;
  Generator gen(seed);
  auto m = std::make_unique<models::GPT>(c, gen);
  m->eval();
  return m;
}

// Three sentences, padded to 5: lengths 5, 3, 4.
models::DecodeInput sources() {
  models::DecodeInput in;
  in.source_ids = tensor_i64({5, 6, 7, 8, 9, 10, 11, 12, 0, 0, 13, 14, 15, 16, 0}, {3, 5});
  in.source_mask = tensor_bool({true, true, true, true, true, true, true, true, false, false, true, true, true, true,
                                false},
                               {3, 5});
  in.ids = tensor_i64({1, 1, 1}, {3, 1});  // BOS
  return in;
}

models::DecodeInput sentence(const models::DecodeInput& in, int64_t b) {
  const std::vector<int64_t> m = in.source_mask.select(0, b).contiguous().to_int_vector();
  const int64_t S = static_cast<int64_t>(std::count(m.begin(), m.end(), 1));
  return {.ids = tensor_i64({1}, {1, 1}), .source_ids = in.source_ids.narrow(0, b, 1).narrow(1, 0, S).contiguous()};
}

// Greedy decoding by hand: argmax of the logits (lowest id on ties) until eos
// or `limit` tokens, per row.
std::vector<std::vector<int64_t>> greedy(const models::Decoder& m, const models::DecodeInput& in, int64_t eos,
                                         const std::vector<int64_t>& limit) {
  models::DecodeState st;
  Tensor logits = m.start(st, in);
  const int64_t B = in.ids.size(0), V = m.vocab_size();
  std::vector<std::vector<int64_t>> out(B);
  std::vector<bool> done(B, false);
  for (;;) {
    const std::vector<float> l = logits.contiguous().to_vector();
    std::vector<int64_t> next(B);
    bool all = true;
    for (int64_t b = 0; b < B; ++b) {
      next[b] = static_cast<int64_t>(std::max_element(l.begin() + b * V, l.begin() + (b + 1) * V) - (l.begin() + b * V));
      if (done[b]) continue;
      if (next[b] == eos) done[b] = true;
      else out[b].push_back(next[b]);
      if (static_cast<int64_t>(out[b].size()) >= limit[b]) done[b] = true;
      all = all && done[b];
    }
    if (all) return out;
    logits = m.step(st, next);
  }
}

void expect_same(const std::vector<std::vector<Hypothesis>>& a, const std::vector<std::vector<Hypothesis>>& b,
                 const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (size_t s = 0; s < a.size(); ++s) {
    ASSERT_EQ(a[s].size(), b[s].size()) << what << " sentence " << s;
    for (size_t i = 0; i < a[s].size(); ++i) {
      EXPECT_EQ(a[s][i].tokens, b[s][i].tokens) << what << " sentence " << s << " hypothesis " << i;
      EXPECT_NEAR(a[s][i].score, b[s][i].score, 1e-4) << what << " sentence " << s << " hypothesis " << i;
      EXPECT_EQ(a[s][i].finished, b[s][i].finished) << what;
    }
  }
}

// Some hypotheses end with eos and some at the length limit, so a comparison
// covers both (eos ids below are chosen from each random model's greedy output).
void expect_both_endings(const std::vector<std::vector<Hypothesis>>& hyps) {
  int finished = 0, limited = 0;
  for (const auto& s : hyps)
    for (const Hypothesis& h : s) (h.finished ? finished : limited)++;
  EXPECT_GT(finished, 0);
  EXPECT_GT(limited, 0);
}

BeamOptions beam(int64_t k, int64_t eos) {
  return {.beam_size = k, .length_penalty = 0.6f, .n_best = k, .max_len_a = 1.0f, .max_len_b = 4, .eos = eos};
}

// Beam search through a decoder that, after every reorder, gives each row its
// own copy of its sentence's memory, source mask and cross-attention keys and
// values (what reorder did before beams shared them).
class CopyingDecoder : public models::Decoder {
 public:
  explicit CopyingDecoder(const models::Transformer& m) : m_(m) {}
  int64_t vocab_size() const override { return m_.vocab_size(); }
  Tensor start(models::DecodeState& st, const models::DecodeInput& in) const override { return m_.start(st, in); }
  Tensor step(models::DecodeState& st, const std::vector<int64_t>& next) const override { return m_.step(st, next); }
  void reorder(models::DecodeState& st, const std::vector<int64_t>& rows) const override {
    m_.reorder(st, rows);
    const std::vector<int64_t> src = st.source_rows;
    ASSERT_EQ(static_cast<int64_t>(src.size()), st.batch());
    if (st.memory.defined()) st.memory = nn::take_rows(st.memory, src);
    if (st.source_mask.defined()) st.source_mask = nn::take_rows(st.source_mask, src);
    const int64_t L = m_.config.n_decoder_layers;
    for (int64_t l = L; st.use_cache && l < 2 * L; ++l) {
      nn::LayerKV& kv = st.cache.layer(l);
      if (kv.len == 0) continue;
      kv.k = nn::take_rows(kv.k, src);
      kv.v = nn::take_rows(kv.v, src);
    }
    st.source_rows.clear();  // every row its own source again
  }

 private:
  const models::Transformer& m_;
};

}  // namespace

TEST(BeamModels, BeamOneIsGreedyOnATransformer) {
  auto m = transformer(11);
  const models::DecodeInput in = sources();
  // This random model repeats itself: greedily 1 1 1 …, 1 16 16 …, 1 1 1 …;
  // with eos 16 sentence 1 ends after one token, with eos 3 none ends early.
  for (float alpha : {0.0f, 0.6f})
  for (int64_t eos : {3, 16}) {
    BeamOptions o = beam(1, eos);
    o.length_penalty = alpha;
    const auto hyps = generate::beam_search(*m, in, o);
    const auto want = greedy(*m, in, eos, {9, 7, 8});  // a·S + b: 5+4, 3+4, 4+4
    for (size_t b = 0; b < 3; ++b)
      EXPECT_EQ(hyps[b][0].tokens, want[b]) << "alpha " << alpha << " eos " << eos << " sentence " << b;
  }
}

TEST(BeamModels, BeamOneIsGreedyOnAGPT) {
  auto m = gpt(13);
  const models::DecodeInput in = generate::left_pad({{3, 4, 5}, {6}, {7, 8}});
  // Greedily this model says 5 5 5 …, 6 0 0 …, 8 8 8 0 0 …: eos 0 ends two
  // prompts early (one after three tokens), eos 9 none.
  for (int64_t eos : {0, 9}) {
    BeamOptions o = beam(1, eos);
    o.max_len_b = 10;
    const auto hyps = generate::beam_search(*m, in, o);
    const auto want = greedy(*m, in, eos, {10, 10, 10});
    for (size_t b = 0; b < 3; ++b) EXPECT_EQ(hyps[b][0].tokens, want[b]) << "eos " << eos << " sentence " << b;
  }
}

TEST(BeamModels, BatchedSentencesDecodeAsEachAlone) {
  auto m = transformer(17);
  const models::DecodeInput in = sources();
  const auto batch = generate::beam_search(*m, in, beam(4, 6));  // 6: greedily the 4th token of sentence 0
  expect_both_endings(batch);
  for (int64_t b = 0; b < 3; ++b) {
    const auto alone = generate::beam_search(*m, sentence(in, b), beam(4, 6));
    expect_same({batch[b]}, alone, "sentence " + std::to_string(b) + " alone");
  }
}

// Many sources: sorted by length into batches (batch_size, max_tokens), the
// results back in input order, each as if decoded alone; empty sources skipped.
TEST(BeamModels, SourcesAreBatchedByLengthAndAnsweredInInputOrder) {
  auto m = transformer(17);
  const std::vector<std::vector<int64_t>> src{{5, 6, 7, 8, 9}, {}, {10, 11, 12}, {13, 14, 15, 16}, {7, 8}};
  std::vector<std::vector<size_t>> batches;
  const auto out = generate::beam_search_sources(
      *m, src, beam(3, 6), {.pad_id = 0, .bos_id = 1, .batch_size = 3, .max_tokens = 9},
      [&](const std::vector<size_t>& done, const std::vector<std::vector<Hypothesis>>& all) {
        batches.push_back(done);
        for (size_t i : done) EXPECT_FALSE(all[i].empty()) << i;
      });
  // Shortest first (lengths 2, 3, 4, 5): adding source 3 would make 3 × 4 = 12
  // padded tokens > 9, so {4, 2}; then 2 × 5 = 10 > 9 keeps 3 and 0 apart.
  EXPECT_EQ(batches, (std::vector<std::vector<size_t>>{{4, 2}, {3}, {0}}));
  ASSERT_EQ(out.size(), src.size());
  EXPECT_TRUE(out[1].empty());
  for (size_t i : {0u, 2u, 3u, 4u}) {
    const int64_t S = static_cast<int64_t>(src[i].size());
    const auto alone = generate::beam_search(*m, {.ids = tensor_i64({1}, {1, 1}), .source_ids = tensor_i64(src[i], {1, S})},
                                             beam(3, 6));
    expect_same({out[i]}, alone, "source " + std::to_string(i));
  }
  EXPECT_THROW(generate::beam_search_sources(*m, src, beam(3, 6), {.batch_size = 0}), ValueError);
}

TEST(BeamModels, BatchedGPTPromptsDecodeAsEachAlone) {
  auto m = gpt(19);
  const std::vector<std::vector<int64_t>> prompts{{3, 4, 5}, {6}, {7, 8}};
  BeamOptions o = beam(3, 2);
  const auto batch = generate::beam_search(*m, generate::left_pad(prompts), o);
  for (size_t b = 0; b < prompts.size(); ++b)
    expect_same({batch[b]}, generate::beam_search(*m, generate::left_pad({prompts[b]}), o), "prompt " + std::to_string(b));
}

TEST(BeamModels, NoCacheEqualsCache) {
  auto m = transformer(23);
  BeamOptions o = beam(3, 10);
  const auto cached = generate::beam_search(*m, sources(), o);
  expect_both_endings(cached);
  o.use_cache = false;
  expect_same(cached, generate::beam_search(*m, sources(), o), "use_cache=false");
  auto g = gpt(29);
  const models::DecodeInput p = generate::left_pad({{3, 4, 5}, {6}});
  BeamOptions q = beam(3, 2);
  const auto gc = generate::beam_search(*g, p, q);
  q.use_cache = false;
  expect_same(gc, generate::beam_search(*g, p, q), "GPT use_cache=false");
}

TEST(BeamModels, SharedCrossAttentionEqualsPerBeamCopies) {
  auto m = transformer(31);
  const CopyingDecoder copying(*m);
  std::vector<std::vector<Hypothesis>> all;
  for (int64_t k : {1, 2, 5}) {
    const auto shared = generate::beam_search(*m, sources(), beam(k, 18));
    all.insert(all.end(), shared.begin(), shared.end());
    expect_same(shared, generate::beam_search(copying, sources(), beam(k, 18)), "beam " + std::to_string(k));
  }
  expect_both_endings(all);
}
