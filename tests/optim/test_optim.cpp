// tests/optim/test_optim.cpp — SGD / Adam / AdamW against torch.optim (1.13,
// float32; tests/fixtures/nn/optim_parity.txt from make_nn_fixtures.py), exact
// resume from saved state, parameter groups and errors.
//
// The fixture feeds the same gradient sequence to both sides (independent of
// the parameters, so the test isolates the update rule), varies the learning
// rate every step, uses two weight-decay groups, and withholds one parameter's
// gradient at step 3. Parameters must match after each of the 10 steps within
// 1e-6 relative (|got − want| ≤ 1e-6·(|want| + 1e-3)).
#include <gtest/gtest.h>

#include "nn/nn_fixture.h"
#include "qkv/nn/nn.h"
#include "qkv/optim/optim.h"

using namespace qkv;
using namespace qkv::optim;
using qkv::test::expect_close;

namespace {

const char* kFile = "optim_parity.txt";
Tensor fx(const std::string& n) { return qkv::test::fx_get(kFile, n); }
constexpr int kSteps = 10, kParams = 3;

// A varying learning rate for the resume test.
float lr_at(float base, int k) { return base * (1.0f - 0.05f * k); }

std::vector<Tensor> init_params() {
  std::vector<Tensor> ps;
  for (int i = 0; i < kParams; ++i) ps.push_back(fx("init.p" + std::to_string(i)).requires_grad_());
  return ps;
}

std::vector<ParamGroup> groups_of(const std::vector<Tensor>& ps, float wd) {
  return {{{ps[0], ps[1]}, wd}, {{ps[2]}, 0.0f}};
}

void set_grads(const std::vector<Tensor>& ps, int k) {
  for (int i = 0; i < kParams; ++i) {
    const std::string n = "grad.s" + std::to_string(k) + ".p" + std::to_string(i);
    Tensor p = ps[i];
    p.set_grad(qkv::test::fx_has(kFile, n) ? fx(n) : Tensor());
  }
}

using Factory = std::function<std::unique_ptr<Optimizer>(std::vector<ParamGroup>, float lr)>;

void run_parity(const std::string& name, const Factory& make) {
  const float wd = fx("optim." + name + ".hyper").to_vector()[1];  // base lr, weight decay
  const std::vector<float> lrs = fx("optim." + name + ".lr").to_vector();  // the float32 lr of each step
  std::vector<Tensor> ps = init_params();
  auto opt = make(groups_of(ps, wd), lrs[0]);
  for (int k = 0; k < kSteps; ++k) {
    opt->set_lr(lrs[k]);
    set_grads(ps, k);
    opt->step();
    for (int i = 0; i < kParams; ++i) {
      const std::string n = "optim." + name + ".s" + std::to_string(k) + ".p" + std::to_string(i);
      expect_close(ps[i], fx(n), n, 1e-6, 1e-3);
    }
  }
  EXPECT_EQ(opt->step_count(), kSteps);
}

Factory sgd(float momentum, bool nesterov) {
  return [=](std::vector<ParamGroup> g, float lr) { return std::make_unique<SGD>(std::move(g), lr, momentum, nesterov); };
}

}  // namespace

TEST(OptimParity, SGD) { run_parity("sgd", sgd(0.0f, false)); }
TEST(OptimParity, SGDMomentum) { run_parity("sgd_momentum", sgd(0.9f, false)); }
TEST(OptimParity, SGDNesterov) { run_parity("sgd_nesterov", sgd(0.9f, true)); }
TEST(OptimParity, Adam) {
  run_parity("adam", [](std::vector<ParamGroup> g, float lr) { return std::make_unique<Adam>(std::move(g), lr, 0.9f, 0.99f, 1e-8f); });
}
TEST(OptimParity, AdamW) {
  run_parity("adamw", [](std::vector<ParamGroup> g, float lr) { return std::make_unique<AdamW>(std::move(g), lr, 0.9f, 0.95f, 1e-8f); });
}

// Save after 4 steps, restore into fresh parameters and a fresh optimizer,
// continue: bit-identical to an uninterrupted run (for every optimizer).
TEST(OptimState, SaveLoadResumesExactly) {
  std::vector<std::pair<std::string, Factory>> makers = {
      {"sgd_momentum", sgd(0.9f, true)},
      {"adam", [](std::vector<ParamGroup> g, float lr) { return std::make_unique<Adam>(std::move(g), lr); }},
      {"adamw", [](std::vector<ParamGroup> g, float lr) { return std::make_unique<AdamW>(std::move(g), lr, 0.9f, 0.95f); }}};
  for (auto& [name, make] : makers) {
    SCOPED_TRACE(name);
    std::vector<Tensor> a = init_params();
    auto oa = make(groups_of(a, 0.1f), 0.01f);
    for (int k = 0; k < kSteps; ++k) {
      oa->set_lr(lr_at(0.01f, k));
      set_grads(a, k);
      oa->step();
    }

    std::vector<Tensor> b = init_params();
    auto ob = make(groups_of(b, 0.1f), 0.01f);
    for (int k = 0; k < 4; ++k) {
      ob->set_lr(lr_at(0.01f, k));
      set_grads(b, k);
      ob->step();
    }
    // "checkpoint": clone everything, drop the live objects
    NamedTensors saved;
    for (auto& [n, t] : ob->state()) saved.emplace_back(n, t.clone());
    std::vector<Tensor> saved_params;
    for (auto& p : b) saved_params.push_back(p.detach().clone());
    ob.reset();

    std::vector<Tensor> c = init_params();
    for (int i = 0; i < kParams; ++i) c[i].copy_(saved_params[i]);
    auto oc = make(groups_of(c, 0.1f), 0.5f);
    oc->load_state(saved);
    EXPECT_EQ(oc->step_count(), 4);
    EXPECT_EQ(oc->lr(), lr_at(0.01f, 3));
    for (int k = 4; k < kSteps; ++k) {
      oc->set_lr(lr_at(0.01f, k));
      set_grads(c, k);
      oc->step();
    }
    for (int i = 0; i < kParams; ++i) EXPECT_EQ(a[i].to_vector(), c[i].to_vector()) << "param " << i;
  }
}

TEST(OptimState, NamesAndLoadErrors) {
  std::vector<Tensor> ps = init_params();
  AdamW opt(groups_of(ps, 0.1f), 1e-3f);
  NamedTensors st = opt.state();
  std::vector<std::string> names;
  for (auto& [n, _] : st) names.push_back(n);
  EXPECT_EQ(names, (std::vector<std::string>{"step_count", "lr", "step.0", "step.1", "step.2", "exp_avg.0", "exp_avg.1",
                                             "exp_avg.2", "exp_avg_sq.0", "exp_avg_sq.1", "exp_avg_sq.2"}));
  NamedTensors bad;
  for (auto& [n, t] : st) {
    if (n == "exp_avg.1") continue;
    bad.emplace_back(n, n == "exp_avg_sq.2" ? zeros({2, 5}) : t);
  }
  bad.emplace_back("momentum_buffer.0", zeros({4, 3}));
  try {
    opt.load_state(bad);
    FAIL() << "expected ValueError";
  } catch (const ValueError& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("missing: exp_avg.1"), std::string::npos) << msg;
    EXPECT_NE(msg.find("unexpected: momentum_buffer.0"), std::string::npos) << msg;
    EXPECT_NE(msg.find("exp_avg_sq.2: state [2,5] vs optimizer [5,2]"), std::string::npos) << msg;
  }
  SGD plain({{ps, 0.0f}}, 0.1f);  // no momentum: no buffers
  EXPECT_EQ(plain.state().size(), 5u);
}

TEST(OptimGroups, DecayGroupsRule) {
  Generator gen(1);
  struct Gpt : nn::Module {
    explicit Gpt(Generator& gen) {
      wte = register_module("wte", std::make_shared<nn::Embedding>(50, 16, gen));
      wpe = register_module("wpe", std::make_shared<nn::LearnedPositionalEmbedding>(8, 16, gen));
      h = register_module("h", std::make_shared<nn::TransformerLayer>(
                                  nn::LayerConfig{.d_model = 16, .n_heads = 2, .d_ff = 64}, gen));
      lm_head = register_module("lm_head", std::make_shared<nn::Linear>(16, 50, false, gen));
      lm_head->tie_weight(wte->weight);
    }
    std::shared_ptr<nn::Embedding> wte;
    std::shared_ptr<nn::LearnedPositionalEmbedding> wpe;
    std::shared_ptr<nn::TransformerLayer> h;
    std::shared_ptr<nn::Linear> lm_head;
  } m(gen);
  auto count = [](const ParamGroup& g) {
    int64_t n = 0;
    for (auto& p : g.params) n += p.numel();
    return n;
  };
  auto g = nn::decay_groups(m, 0.1f);
  ASSERT_EQ(g.size(), 2u);
  EXPECT_EQ(g[0].weight_decay, 0.1f);
  EXPECT_EQ(g[1].weight_decay, 0.0f);
  // decayed: the four matmul weights of the block
  EXPECT_EQ(g[0].params.size(), 4u);
  EXPECT_EQ(count(g[0]), 16 * 48 + 16 * 16 + 16 * 64 + 64 * 16);
  EXPECT_EQ(count(g[0]) + count(g[1]), m.num_parameters());  // tied weight once
  for (auto& p : g[0].params) EXPECT_EQ(p.dim(), 2);
  auto ge = nn::decay_groups(m, 0.1f, /*decay_embeddings=*/true);  // nanoGPT's rule
  EXPECT_EQ(ge[0].params.size(), 6u);
  EXPECT_EQ(ge[1].params.size(), 8u);  // LayerNorm weights/biases ×4, linear biases ×4
}

TEST(OptimErrors, BadArguments) {
  std::vector<Tensor> ps = init_params();
  EXPECT_THROW(SGD({{ps, 0.0f}}, -1.0f), ValueError);
  EXPECT_THROW(SGD({{ps, 0.0f}}, 0.1f, 0.0f, true), ValueError);
  EXPECT_THROW(Adam({{ps, 0.0f}}, 0.1f, 1.0f), ValueError);
  EXPECT_THROW(AdamW({{ps, -0.1f}}, 0.1f), ValueError);
  EXPECT_THROW(AdamW({{ps, 0.0f}, {{ps[0]}, 0.0f}}, 0.1f), ValueError);  // a tensor twice
  EXPECT_THROW(AdamW({{{ps[0].t()}, 0.0f}}, 0.1f), ValueError);          // not contiguous
  AdamW opt({{ps, 0.0f}}, 0.1f);
  Tensor p0 = ps[0];
  p0.set_grad(zeros({3, 4}));
  EXPECT_THROW(opt.step(), ShapeError);
  opt.zero_grad();
  EXPECT_FALSE(ps[0].grad().defined());
  opt.step();  // no grads: nothing moves
  EXPECT_EQ(ps[0].to_vector(), fx("init.p0").to_vector());
}

// A real fixed problem end to end: AdamW fits a linear regression (loss falls
// by 100×), repeatably. (Thread-count independence of the update itself is
// checked below; the gradients come from GEMMs whose blocking may vary.)
TEST(OptimParity, AdamWFitsLinearRegression) {
  auto run = [] {
    Generator gen(9);
    nn::Linear model(64, 1, true, gen);
    Tensor X = randn({256, 64}, gen), w_true = randn({64, 1}, gen);
    Tensor y = X.matmul(w_true);
    AdamW opt(nn::decay_groups(model, 0.0f), 0.05f);
    float first = 0, last = 0;
    for (int it = 0; it < 300; ++it) {
      opt.zero_grad();
      Tensor loss = mse_loss(model.forward(X), y);
      loss.backward();
      if (it == 0) first = loss.item();
      last = loss.item();
      opt.step();
    }
    return std::tuple{first, last, model.weight.to_vector()};
  };
  auto [f1, l1, w1] = run();
  auto [f2, l2, w2] = run();
  EXPECT_LT(l1, f1 / 100);
  EXPECT_EQ(w1, w2);
}

// Large tensors take the threaded path; it must give the serial result.
TEST(OptimParity, ThreadedUpdateMatchesSerial) {
  auto run = [](int threads) {
    set_num_threads(threads);
    Generator gen(3);
    Tensor p = randn({300000}, gen).requires_grad_();
    Adam opt({{{p}, 0.01f}}, 1e-3f);
    for (int k = 0; k < 3; ++k) {
      p.set_grad(randn({300000}, gen));
      opt.step();
    }
    return p.to_vector();
  };
  const int nt = num_threads();
  auto a = run(1), b = run(2);
  set_num_threads(nt);
  EXPECT_EQ(a, b);
}
