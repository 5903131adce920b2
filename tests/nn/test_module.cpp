// tests/nn/test_module.cpp — Module registration, names, state dicts and their
// errors, train/eval, and the basic layers' shapes.
#include <gtest/gtest.h>

#include "qkv/nn/nn.h"
#include "qkv/qkv.h"

using namespace qkv;
using namespace qkv::nn;

namespace {

// A two-layer stack shaped like GPT's body, with a buffer and a tied weight.
struct Tiny : Module {
  Tiny(int64_t C, Generator& gen, bool tie = true) {
    wte = register_module("wte", std::make_shared<Embedding>(11, C, gen));
    h0 = register_module("h0", std::make_shared<TransformerLayer>(
                                   LayerConfig{.d_model = C, .n_heads = 2, .activation = Activation::GELUTanh}, gen));
    ln_f = register_module("ln_f", std::make_shared<LayerNorm>(C));
    steps = register_buffer("steps", zeros({2}));
    lm_head = register_module("lm_head", std::make_shared<Linear>(C, 11, false, gen));
    if (tie) lm_head->tie_weight(wte->weight);
  }
  std::shared_ptr<Embedding> wte;
  std::shared_ptr<TransformerLayer> h0;
  std::shared_ptr<LayerNorm> ln_f;
  std::shared_ptr<Linear> lm_head;
  Tensor steps;
};

// Tied output projection registered as a parameter of the root.
struct Tied : Module {
  explicit Tied(Generator& gen) {
    wte = register_module("wte", std::make_shared<Embedding>(7, 4, gen));
    head = register_parameter("head_weight", wte->weight);
  }
  std::shared_ptr<Embedding> wte;
  Tensor head;
};

std::vector<std::string> names(const NamedTensors& v) {
  std::vector<std::string> out;
  for (auto& [n, _] : v) out.push_back(n);
  return out;
}

}  // namespace

TEST(NnModule, NamesInRegistrationOrder) {
  Generator gen(1);
  Tiny m(8, gen, false);
  std::vector<std::string> want = {
      "wte.weight",           "h0.ln_1.weight",      "h0.ln_1.bias",       "h0.attn.c_attn.weight",
      "h0.attn.c_attn.bias",  "h0.attn.c_proj.weight", "h0.attn.c_proj.bias", "h0.ln_2.weight",
      "h0.ln_2.bias",         "h0.mlp.c_fc.weight",  "h0.mlp.c_fc.bias",   "h0.mlp.c_proj.weight",
      "h0.mlp.c_proj.bias",   "ln_f.weight",         "ln_f.bias",          "lm_head.weight"};
  EXPECT_EQ(names(m.named_parameters()), want);
  EXPECT_EQ(names(m.named_buffers()), std::vector<std::string>{"steps"});
  // state dict: the root's own params, then its buffers, then children (torch's order)
  std::vector<std::string> sd = names(m.state_dict());
  EXPECT_EQ(sd.size(), want.size() + 1);
  EXPECT_EQ(sd.front(), "steps");
  for (auto& [n, p] : m.named_parameters()) EXPECT_TRUE(p.requires_grad()) << n;
  EXPECT_FALSE(m.steps.requires_grad());
  const int64_t C = 8;
  EXPECT_EQ(m.num_parameters(), 11 * C + 2 * C + (3 * C * C + 3 * C) + (C * C + C) + 2 * C + (4 * C * C + 4 * C) +
                                    (4 * C * C + C) + 2 * C + 11 * C);
  auto mods = m.named_modules();
  EXPECT_EQ(mods[0].first, "");
  EXPECT_EQ(mods[2].first, "h0");
  EXPECT_EQ(mods[3].first, "h0.ln_1");
}

TEST(NnModule, TiedWeightsCountedOnce) {
  Generator gen(1);
  Tied m(gen);
  // own parameters come before children's (torch's order): the first name wins
  EXPECT_EQ(names(m.named_parameters()), std::vector<std::string>{"head_weight"});
  EXPECT_EQ(m.num_parameters(), 28);
  Tiny t(8, gen);
  EXPECT_TRUE(t.lm_head->weight.same(t.wte->weight));
  EXPECT_EQ(names(t.named_parameters()).back(), "ln_f.bias");  // lm_head.weight is wte.weight
  EXPECT_EQ(names(t.state_dict()).back(), "lm_head.weight");
  EXPECT_THROW(t.lm_head->tie_weight(zeros({3, 8})), ShapeError);
  EXPECT_EQ(names(m.state_dict()), (std::vector<std::string>{"head_weight", "wte.weight"}));
  // Loading either copy writes the one shared tensor.
  NamedTensors sd = m.state_dict();
  for (auto& [n, t] : sd) t = full({7, 4}, 0.5f);
  m.load_state_dict(sd);
  EXPECT_EQ(m.head.to_vector(), std::vector<float>(28, 0.5f));
}

TEST(NnModule, StateDictRoundTrip) {
  Generator g1(1), g2(2);
  Tiny a(8, g1), b(8, g2);
  NamedTensors sd = a.state_dict();
  std::vector<Tensor> handles = b.parameters();
  b.load_state_dict(sd);
  auto sa = a.state_dict(), sb = b.state_dict();
  ASSERT_EQ(sa.size(), sb.size());
  for (size_t i = 0; i < sa.size(); ++i) {
    EXPECT_EQ(sa[i].first, sb[i].first);
    EXPECT_EQ(sa[i].second.to_vector(), sb[i].second.to_vector()) << sa[i].first;
    EXPECT_FALSE(sa[i].second.same(sb[i].second)) << "copied, not aliased";
  }
  // in place: the layers' handles still point at the loaded values
  auto params = b.parameters();
  for (size_t i = 0; i < params.size(); ++i) EXPECT_TRUE(params[i].same(handles[i]));
  for (auto& p : params) EXPECT_TRUE(p.requires_grad());
  EXPECT_EQ(b.h0->attn->qkv_proj->weight.to_vector(), a.h0->attn->qkv_proj->weight.to_vector());
}

TEST(NnModule, LoadStateDictReportsEveryProblem) {
  Generator gen(1);
  Tiny m(8, gen);
  NamedTensors sd = m.state_dict();
  const std::vector<float> before = m.ln_f.get()->weight.to_vector();
  NamedTensors bad;
  for (auto& [n, t] : sd) {
    if (n == "h0.mlp.c_fc.bias") continue;                                   // missing
    if (n == "ln_f.weight") bad.emplace_back(n, zeros({16}));                 // mis-shaped
    else if (n == "h0.ln_1.weight") bad.emplace_back(n, zeros({64}));         // mis-shaped
    else bad.emplace_back(n, full(t.shape(), 3.0f));
  }
  bad.emplace_back("h0.attn.bias", zeros({1}));  // unexpected
  try {
    m.load_state_dict(bad);
    FAIL() << "expected ValueError";
  } catch (const ValueError& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("missing keys: h0.mlp.c_fc.bias"), std::string::npos) << msg;
    EXPECT_NE(msg.find("unexpected keys: h0.attn.bias"), std::string::npos) << msg;
    EXPECT_NE(msg.find("h0.ln_1.weight: checkpoint [64] vs model [8]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("ln_f.weight: checkpoint [16] vs model [8]"), std::string::npos) << msg;
  }
  EXPECT_EQ(m.ln_f->weight.to_vector(), before) << "nothing is modified when loading fails";
  EXPECT_NE(m.h0->ln_2->weight.to_vector()[0], 3.0f);

  // non-strict: missing/unexpected tolerated, shape mismatches are not
  NamedTensors partial = {{"ln_f.bias", full({8}, 2.0f)}, {"extra", zeros({1})}};
  m.load_state_dict(partial, /*strict=*/false);
  EXPECT_EQ(m.ln_f->bias.to_vector(), std::vector<float>(8, 2.0f));
  EXPECT_THROW(m.load_state_dict({{"ln_f.bias", zeros({9})}}, false), ValueError);
  EXPECT_THROW(m.load_state_dict({{"ln_f.bias", zeros({8})}}), ValueError);  // strict: the rest is missing
}

TEST(NnModule, RegistrationErrors) {
  struct Bad : Module {
    void dup() {
      register_parameter("w", zeros({2}));
      register_parameter("w", zeros({2}));
    }
    void dotted() { register_buffer("a.b", zeros({1})); }
    void undefined() { register_parameter("u", Tensor()); }
  };
  Bad b;
  EXPECT_THROW(b.dup(), ValueError);
  EXPECT_THROW(b.dotted(), ValueError);
  EXPECT_THROW(b.undefined(), ValueError);
}

TEST(NnModule, TrainEvalIsRecursiveAndControlsDropout) {
  Generator gen(5);
  Tiny m(8, gen);
  EXPECT_TRUE(m.is_training());
  m.eval();
  EXPECT_FALSE(m.h0->attn->resid_dropout->is_training());
  EXPECT_FALSE(m.h0->mlp->dropout->is_training());
  m.train();
  EXPECT_TRUE(m.h0->mlp->dropout->is_training());

  Dropout d(0.5f);
  Tensor x = ones({1000});
  std::vector<float> y = d.forward(x, gen).to_vector();
  int zeros_n = 0;
  for (float v : y) {
    EXPECT_TRUE(v == 0.0f || v == 2.0f) << v;
    zeros_n += v == 0.0f;
  }
  EXPECT_GT(zeros_n, 400);
  EXPECT_LT(zeros_n, 600);
  d.eval();
  EXPECT_EQ(d.forward(x, gen).to_vector(), x.to_vector());
  EXPECT_THROW(Dropout(1.0f), ValueError);

  // A block with dropout: random in training, deterministic in eval.
  TransformerLayer blk({.d_model = 8, .n_heads = 2, .d_ff = 32, .dropout = 0.3f}, gen);
  Tensor h = randn({2, 4, 8}, gen);
  Generator ga(1), gb(2);
  auto run = [&](Generator& g) { return blk.forward(h, {.self = {.causal = true}, .gen = &g}).to_vector(); };
  EXPECT_NE(run(ga), run(gb));
  EXPECT_THROW(blk.forward(h, {.self = {.causal = true}}), ValueError);  // dropout needs a generator
  blk.eval();
  EXPECT_EQ(run(ga), run(gb));
}

TEST(NnModule, ZeroGradDropsGradients) {
  Generator gen(1);
  Linear l(3, 2, true, gen);
  l.forward(ones({4, 3})).sum().backward();
  EXPECT_TRUE(l.weight.grad().defined());
  l.zero_grad();
  EXPECT_FALSE(l.weight.grad().defined());
  EXPECT_FALSE(l.bias.grad().defined());
}

TEST(NnModule, LayerShapesAndOptions) {
  Generator gen(1);
  Linear l(5, 3, false, gen);
  EXPECT_FALSE(l.bias.defined());
  EXPECT_EQ(l.weight.shape(), (Shape{3, 5}));
  EXPECT_EQ(l.forward(zeros({2, 4, 5})).shape(), (Shape{2, 4, 3}));
  Embedding e(10, 6, gen);
  EXPECT_EQ(e.forward(tensor_i64({1, 2, 9}, {3})).shape(), (Shape{3, 6}));
  LayerNorm ln(6, 1e-5f, false);
  EXPECT_EQ(names(ln.named_parameters()), std::vector<std::string>{"weight"});
  EXPECT_THROW(Linear(0, 3, true, gen), ValueError);
  TransformerLayer post({.d_model = 8, .n_heads = 2, .d_ff = 16, .bias = false, .activation = Activation::ReLU,
                         .norm = NormPlacement::Post},
                        gen);
  EXPECT_EQ(post.forward(zeros({1, 3, 8}), {}).shape(), (Shape{1, 3, 8}));
  EXPECT_EQ(post.num_parameters(), 2 * 8 + 3 * 64 + 64 + 2 * 8 * 16);
}
