// tests/nn/test_init.cpp — default (PyTorch) and GPT-2 initialisation statistics.
#include <gtest/gtest.h>

#include <cmath>

#include "qkv/nn/nn.h"
#include "qkv/qkv.h"

using namespace qkv;
using namespace qkv::nn;

namespace {
struct Stats {
  double mean = 0, std = 0, min = 1e30, max = -1e30;
};
Stats stats(const Tensor& t) {
  Stats s;
  std::vector<float> v = t.to_vector();
  for (float x : v) s.mean += x, s.min = std::min<double>(s.min, x), s.max = std::max<double>(s.max, x);
  s.mean /= v.size();
  for (float x : v) s.std += (x - s.mean) * (x - s.mean);
  s.std = std::sqrt(s.std / v.size());
  return s;
}

struct TwoLayers : Module {
  explicit TwoLayers(Generator& gen) {
    wte = register_module("wte", std::make_shared<Embedding>(100, 64, gen));
    wpe = register_module("wpe", std::make_shared<LearnedPositionalEmbedding>(32, 64, gen));
    for (int i = 0; i < 2; ++i)
      h.push_back(register_module("h" + std::to_string(i),
                                  std::make_shared<TransformerLayer>(
                                      LayerConfig{.d_model = 64, .n_heads = 4, .activation = Activation::GELUTanh}, gen)));
  }
  std::shared_ptr<Embedding> wte;
  std::shared_ptr<LearnedPositionalEmbedding> wpe;
  std::vector<std::shared_ptr<TransformerLayer>> h;
};
}  // namespace

TEST(NnInit, LinearLikeTorchKaimingUniform) {
  Generator gen(7);
  Linear l(256, 512, true, gen);
  const double bound = 1.0 / 16.0;  // 1/√256
  Stats w = stats(l.weight), b = stats(l.bias);
  EXPECT_LE(w.max, bound);
  EXPECT_GE(w.min, -bound);
  EXPECT_GT(w.max, 0.99 * bound);
  EXPECT_NEAR(w.mean, 0.0, 0.002);
  EXPECT_NEAR(w.std, bound / std::sqrt(3.0), 0.002);  // U(−b,b) has std b/√3
  EXPECT_LE(b.max, bound);
  EXPECT_GE(b.min, -bound);
  Embedding e(1000, 64, gen);
  EXPECT_NEAR(stats(e.weight).std, 1.0, 0.02);
  // same seed, same values (single-threaded fill)
  Generator g1(3), g2(3);
  EXPECT_EQ(Linear(8, 8, true, g1).weight.to_vector(), Linear(8, 8, true, g2).weight.to_vector());
}

TEST(NnInit, Gpt2Statistics) {
  Generator gen(11);
  TwoLayers m(gen);
  // make LayerNorms non-trivial first, to see init_gpt2 reset them
  m.h[0]->ln_1->weight.fill_(3.0f);
  init_gpt2(m, /*n_layer=*/2, gen);
  const double proj_std = 0.02 / std::sqrt(4.0);
  for (auto& [name, p] : m.named_parameters()) {
    Stats s = stats(p);
    SCOPED_TRACE(name);
    if (name.find("ln_") != std::string::npos) {
      EXPECT_EQ(s.std, 0.0);
      EXPECT_EQ(s.mean, name.ends_with("weight") ? 1.0 : 0.0);
    } else if (name.ends_with("bias")) {
      EXPECT_EQ(s.max, 0.0);
      EXPECT_EQ(s.min, 0.0);
    } else if (name.ends_with("c_proj.weight")) {
      EXPECT_NEAR(s.std, proj_std, 0.1 * proj_std);
      EXPECT_NEAR(s.mean, 0.0, 0.1 * proj_std);
    } else {
      EXPECT_NEAR(s.std, 0.02, 0.002);
      EXPECT_NEAR(s.mean, 0.0, 0.002);
    }
  }
  EXPECT_THROW(init_gpt2(m, 0, gen), ValueError);
}

// Under SkipRandomInit (models::load_model) the initialisers leave tensors
// and the generator alone; outside it they draw again, and a model loaded
// from a checkpoint still equals the saved one exactly.
TEST(Init, SkipRandomInitLeavesTensorsAndGeneratorAlone) {
  Generator gen(5), untouched(5);
  Tensor t = qkv::zeros({4, 8});
  {
    const qkv::nn::SkipRandomInit skip;
    {
      const qkv::nn::SkipRandomInit nested;
    }
    qkv::nn::normal_(t, 0.0f, 1.0f, gen);  // still skipped after the nested guard ends
    qkv::nn::uniform_(t, -1.0f, 1.0f, gen);
    for (float v : t.to_vector()) EXPECT_EQ(v, 0.0f);
    EXPECT_EQ(gen.next_u64(), untouched.next_u64());
  }
  qkv::nn::normal_(t, 0.0f, 1.0f, gen);
  float sum = 0;
  for (float v : t.to_vector()) sum += std::abs(v);
  EXPECT_GT(sum, 0.0f);
}
