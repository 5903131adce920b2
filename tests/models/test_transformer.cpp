// The encoder–decoder Transformer's config, model directory and bad input
// (the numerics against PyTorch are in test_transformer_parity.cpp).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "io/io_test_util.h"
#include "qkv/autograd/autograd.h"
#include "qkv/io/json.h"
#include "qkv/models/registry.h"
#include "qkv/models/transformer.h"
#include "qkv/nn/param_groups.h"
#include "qkv/ops/ops.h"
#include "qkv/optim/adam.h"
#include "qkv/optim/schedule.h"

using namespace qkv;

namespace {

models::Seq2SeqConfig tiny() {
  models::Seq2SeqConfig c;
  c.vocab_size = 13, c.d_model = 16, c.n_heads = 2, c.d_ff = 24;
  c.n_encoder_layers = 1, c.n_decoder_layers = 2, c.dropout = 0.0f, c.max_len = 12;
  return c;
}

// `f` must throw E whose message contains every needle.
template <class E, class F>
void expect_error(F f, std::initializer_list<std::string> needles) {
  try {
    f();
    ADD_FAILURE() << "no exception";
  } catch (const E& e) {
    for (const std::string& n : needles) EXPECT_NE(std::string(e.what()).find(n), std::string::npos) << e.what();
  }
}

Tensor ids(std::vector<int64_t> v, int64_t B) { return tensor_i64(v, {B, static_cast<int64_t>(v.size()) / B}); }

}  // namespace

TEST(Seq2SeqConfig, JsonRoundTripAndErrors) {
  models::Seq2SeqConfig c = tiny();
  c.norm_first = true, c.activation = "gelu", c.pad_id = 3, c.bos_id = 4, c.eos_id = 5;
  nlohmann::json j = c.to_json();
  EXPECT_EQ(j.at("model_type"), "transformer");
  EXPECT_EQ(models::Seq2SeqConfig::from_json(j), c);
  EXPECT_EQ(models::Seq2SeqConfig::from_json(nlohmann::json::parse(j.dump())), c);  // through text
  EXPECT_EQ(models::Seq2SeqConfig::from_json(nlohmann::json::object()), models::Seq2SeqConfig());  // defaults
  auto bad = [](nlohmann::json j, std::initializer_list<std::string> needles) {
    expect_error<ValueError>([&] { models::Seq2SeqConfig::from_json(j); }, needles);
  };
  bad({{"n_layers", 4}}, {"unknown field \"n_layers\""});
  bad({{"d_modle", 64}}, {"d_modle", "d_model"});  // suggests the nearest key
  bad({{"model_type", "gpt"}}, {"model_type", "transformer"});
  bad({{"n_heads", "eight"}}, {"n_heads"});
  bad({{"d_model", 30}, {"n_heads", 4}}, {"divisible"});
  bad({{"dropout", 1.0}}, {"dropout"});
  bad({{"n_decoder_layers", 0}}, {"n_decoder_layers"});
  bad({{"activation", "swish"}}, {"activation", "relu"});
  bad({{"vocab_size", 10}, {"eos_id", 10}}, {"eos_id 10", "vocab_size 10"});
  bad({{"bos_id", 0}}, {"pad_id"});
  bad(nlohmann::json::array(), {"object"});
}

TEST(Transformer, SavesAndLoadsThroughTheRegistry) {
  qkv::testing::ScratchDir dir;
  Generator gen(5);
  models::Seq2SeqConfig cfg = tiny();
  cfg.norm_first = true;
  models::Transformer m(cfg, gen);
  models::save_model(dir.path, m, 7);
  EXPECT_EQ(io::read_json(dir.file("config.json")).at("model_type"), "transformer");
  auto loaded = models::load_model_as<models::Transformer>(dir.path);
  EXPECT_EQ(loaded->config, cfg);
  EXPECT_FALSE(loaded->is_training());
  m.eval();
  NoGradGuard ng;
  Tensor src = ids({5, 6, 7, 8, 9, 0}, 2), tgt = ids({1, 10, 11, 1, 12, 0}, 2);
  Tensor sm = ne(src, 0.0f), tm = ne(tgt, 0.0f);
  EXPECT_EQ(m.forward(src, sm, tgt, tm, gen).to_vector(), loaded->forward(src, sm, tgt, tm, gen).to_vector());
  // the tied output projection is the shared embedding: one tensor, one name
  auto sd = m.state_dict();
  EXPECT_EQ(std::count_if(sd.begin(), sd.end(), [](const auto& p) { return p.first == "shared.weight"; }), 1);
  const std::vector<std::string> types = models::model_types();
  EXPECT_NE(std::find(types.begin(), types.end(), "transformer"), types.end());
}

TEST(Transformer, BadShapesNameTheArgument) {
  Generator gen(1);
  models::Transformer m(tiny(), gen);
  Tensor src = ids({5, 6, 7, 8, 9, 0}, 2), tgt = ids({1, 10, 11, 1, 12, 0}, 2);
  Tensor sm = ne(src, 0.0f), tm = ne(tgt, 0.0f);
  expect_error<ShapeError>([&] { m.encode(tensor_i64({5, 6, 7}, {3}), Tensor(), gen); }, {"src_ids", "[3]"});
  expect_error<ShapeError>([&] { m.encode(src.to(DType::Float32), Tensor(), gen); }, {"src_ids", "int64"});
  expect_error<ShapeError>([&] { m.encode(src, ne(tgt.narrow(1, 0, 2).contiguous(), 0.0f), gen); },
                           {"src_mask", "[2,3]", "[2,2]"});
  expect_error<ShapeError>([&] { m.encode(src, src, gen); }, {"src_mask", "bool"});
  Tensor memory = m.encode(src, sm, gen);
  expect_error<ShapeError>([&] { m.decode(tgt, memory.narrow(2, 0, 8), gen); }, {"memory", "(2,S,16)"});
  expect_error<ShapeError>([&] { m.decode(tgt, Tensor(), gen); }, {"memory", "nothing"});
  expect_error<ShapeError>([&] { m.decode(tgt, memory, gen, {.src_mask = tm.narrow(1, 0, 2).contiguous()}); },
                           {"src_mask"});
  expect_error<ShapeError>([&] { m.decode(tgt, memory, gen, {.tgt_mask = sm.narrow(1, 0, 2).contiguous()}); },
                           {"tgt_mask", "[2,3]"});
  expect_error<ShapeError>([&] { m.forward(src, sm, tgt.narrow(0, 0, 1).contiguous(), Tensor(), gen); },
                           {"batch"});
  expect_error<ShapeError>([&] { m.decode(tensor_i64({}, {2, 0}), memory, gen); }, {"tgt_in", "L >= 1"});
  {
    nn::KVCache cache = m.make_cache(3);  // another batch
    expect_error<ShapeError>([&] { m.decode(tgt, memory, gen, {.cache = &cache}); }, {"cache", "make_cache"});
  }
  {
    nn::KVCache cache = m.make_cache(2);  // max_len 12: 4 × 3 positions fit, the fifth call does not
    for (int i = 0; i < 4; ++i) m.decode(tgt, memory, gen, {.cache = &cache});
    expect_error<ValueError>([&] { m.decode(tgt, memory, gen, {.cache = &cache}); }, {"max_len"});
  }
  expect_error<ValueError>([&] { m.forward(ids({5, 13}, 1), Tensor(), tgt.narrow(0, 0, 1).contiguous(), Tensor(), gen); },
                           {"13"});  // an id outside the vocabulary
}

TEST(Transformer, PaddingNeverChangesTheRealPositions) {
  // A row decoded alone equals the same row padded in a batch (source and
  // target padding masked), and padded labels add nothing to the loss.
  Generator gen(2);
  models::Transformer m(tiny(), gen);
  m.eval();
  Tensor src = ids({5, 6, 7, 8, 9, 0, 0, 0}, 2), tgt = ids({1, 10, 11, 1, 12, 0}, 2);
  Tensor lab = ids({10, 11, 2, 12, 2, -100}, 2);
  Tensor both = m.forward(src, ne(src, 0.0f), tgt, ne(tgt, 0.0f), gen);  // (2,3,V)
  Tensor alone = m.forward(ids({9}, 1), Tensor(), ids({1, 12}, 1), Tensor(), gen);  // row 1 unpadded
  auto a = alone.to_vector(), b = both.select(0, 1).narrow(0, 0, 2).contiguous().to_vector();
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-5f) << i;
  // padding ignored: the mean over the 5 real labels equals the mean of per-row sums / 5
  Tensor l = models::Transformer::loss(both, lab, 0.1f);
  CrossEntropyOptions sum;
  sum.label_smoothing = 0.1f, sum.reduction = CrossEntropyOptions::Reduction::Sum;
  EXPECT_NEAR(l.item(), cross_entropy(both, lab, sum).item() / 5.0f, 1e-5f);
}

TEST(Transformer, DropoutIsDrawnFromTheGeneratorInTrainingOnly) {
  models::Seq2SeqConfig cfg = tiny();
  cfg.dropout = 0.3f;
  Generator init(3);
  models::Transformer m(cfg, init);
  Tensor src = ids({5, 6, 7, 8}, 1), tgt = ids({1, 10, 11}, 1);
  Generator g1(9), g2(9), g3(10);
  Tensor a = m.forward(src, Tensor(), tgt, Tensor(), g1), b = m.forward(src, Tensor(), tgt, Tensor(), g2);
  EXPECT_EQ(a.to_vector(), b.to_vector());  // same seed, same masks
  EXPECT_NE(a.to_vector(), m.forward(src, Tensor(), tgt, Tensor(), g3).to_vector());
  m.eval();
  EXPECT_EQ(m.forward(src, Tensor(), tgt, Tensor(), g1).to_vector(), m.forward(src, Tensor(), tgt, Tensor(), g3).to_vector());
}

TEST(Transformer, TeacherForcingLearnsToCopyAndReverse) {
  // Four fixed pairs (target = reversed source), post-LN, Adam + Noam as §5.3:
  // the loss falls and greedy teacher-forced argmax reproduces every label.
  models::Seq2SeqConfig cfg = tiny();
  cfg.d_ff = 32;
  Generator gen(4);
  models::Transformer m(cfg, gen);
  Tensor src = ids({3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 3, 5}, 4);            // (4,3)
  Tensor tgt = ids({1, 5, 4, 3, 1, 8, 7, 6, 1, 11, 10, 9, 1, 5, 3, 12}, 4);  // BOS + reversed
  Tensor lab = ids({5, 4, 3, 2, 8, 7, 6, 2, 11, 10, 9, 2, 5, 3, 12, 2}, 4);  // reversed + EOS
  auto schedule = optim::noam(cfg.d_model, 10, 0.1f);
  optim::Adam opt(nn::decay_groups(m, 0.0f), 1.0f, 0.9f, 0.98f, 1e-9f);
  float first = 0, last = 0;
  for (int step = 0; step < 120; ++step) {
    opt.set_lr(schedule->lr(step));
    opt.zero_grad();
    Tensor loss = models::Transformer::loss(m.forward(src, Tensor(), tgt, Tensor(), gen), lab, 0.1f);
    loss.backward();
    opt.step();
    (step == 0 ? first : last) = loss.item();
  }
  EXPECT_LT(last, 0.5f * first) << first << " → " << last;
  m.eval();
  NoGradGuard ng;
  EXPECT_EQ(argmax(m.forward(src, Tensor(), tgt, Tensor(), gen), -1).to_int_vector(), lab.to_int_vector());
}
