// tests/optim/test_clip_schedule.cpp — clip_grad_norm against
// torch.nn.utils.clip_grad_norm_, and learning-rate schedules against nanoGPT's
// get_lr (copied verbatim into make_nn_fixtures.py) and the closed forms.
#include <gtest/gtest.h>

#include <cmath>

#include "nn/nn_fixture.h"
#include "qkv/optim/optim.h"

using namespace qkv;
using namespace qkv::optim;
using qkv::test::expect_close;

namespace {
const char* kFile = "optim_parity.txt";
Tensor fx(const std::string& n) { return qkv::test::fx_get(kFile, n); }
}  // namespace

TEST(OptimClip, MatchesTorch) {
  for (std::string c : {"clip_small", "clip_large"}) {
    SCOPED_TRACE(c);
    std::vector<Tensor> ps;
    for (int i = 0; i < 3; ++i) {
      Tensor p = zeros(fx(c + ".grad" + std::to_string(i)).shape()).requires_grad_();
      p.set_grad(fx(c + ".grad" + std::to_string(i)));
      ps.push_back(p);
    }
    ps.push_back(zeros({2}).requires_grad_());  // no grad: ignored, as torch
    const float max_norm = fx(c + ".max_norm").item();
    EXPECT_NEAR(grad_norm(ps), fx(c + ".total").item(), 1e-6 * fx(c + ".total").item());
    const float total = clip_grad_norm(ps, max_norm);
    EXPECT_NEAR(total, fx(c + ".total").item(), 1e-6 * fx(c + ".total").item());
    for (int i = 0; i < 3; ++i)
      expect_close(ps[i].grad(), fx(c + ".clipped" + std::to_string(i)), c + ".clipped" + std::to_string(i), 1e-6);
    EXPECT_FALSE(ps[3].grad().defined());
  }
  EXPECT_THROW(clip_grad_norm({}, 0.0f), ValueError);
  EXPECT_EQ(clip_grad_norm({}, 1.0f), 0.0f);
}

TEST(OptimClip, NormIndependentOfThreads) {
  Generator gen(2);
  Tensor p = zeros({1 << 18}).requires_grad_();
  p.set_grad(randn({1 << 18}, gen));
  const int nt = num_threads();
  set_num_threads(1);
  const float a = grad_norm({p});
  set_num_threads(2);
  const float b = grad_norm({p});
  set_num_threads(nt);
  EXPECT_EQ(a, b);
}

TEST(OptimSchedule, WarmupCosineIsNanoGPT) {
  std::vector<int64_t> steps = fx("sched.steps").to_int_vector();
  std::vector<float> cosine = fx("sched.cosine").to_vector(), linear = fx("sched.linear").to_vector();
  auto cs = warmup_cosine(1e-3f, 1e-4f, 100, 2000);
  auto ls = warmup_linear(1e-3f, 1e-4f, 100, 2000);
  for (size_t i = 0; i < steps.size(); ++i) {
    EXPECT_NEAR(cs->lr(steps[i]), cosine[i], 1e-6 * cosine[i]) << "step " << steps[i];
    EXPECT_NEAR(ls->lr(steps[i]), linear[i], 1e-6 * linear[i]) << "step " << steps[i];
  }
  // closed-form landmarks
  EXPECT_FLOAT_EQ(cs->lr(0), 1e-3f / 101);
  EXPECT_FLOAT_EQ(cs->lr(100), 1e-3f);
  EXPECT_FLOAT_EQ(cs->lr(1050), 0.55e-3f);  // halfway: (max + min) / 2
  EXPECT_FLOAT_EQ(ls->lr(1050), 0.55e-3f);
  EXPECT_FLOAT_EQ(cs->lr(2000), 1e-4f);
  EXPECT_FLOAT_EQ(cs->lr(1000000), 1e-4f);
  // degenerate: no decay window
  auto flat = warmup_cosine(1.0f, 0.5f, 10, 10);
  EXPECT_FLOAT_EQ(flat->lr(10), 0.5f);
  EXPECT_THROW(warmup_cosine(1.0f, 0.1f, -1, 10), ValueError);
}

TEST(OptimSchedule, NoamAndConstant) {
  std::vector<int64_t> steps = fx("sched.noam_steps").to_int_vector();
  std::vector<float> want = fx("sched.noam").to_vector();
  auto s = noam(512, 4000);
  for (size_t i = 0; i < steps.size(); ++i) EXPECT_NEAR(s->lr(steps[i]), want[i], 1e-6 * want[i]) << steps[i];
  // peak at step n = warmup (0-based 3999): d^-0.5 · warmup^-0.5
  EXPECT_FLOAT_EQ(s->lr(3999), static_cast<float>(1.0 / std::sqrt(512.0 * 4000.0)));
  EXPECT_GT(s->lr(3999), s->lr(3998));
  EXPECT_GT(s->lr(3999), s->lr(4000));
  EXPECT_FLOAT_EQ(noam(512, 4000, 2.0f)->lr(10), 2.0f * s->lr(10));
  EXPECT_FLOAT_EQ(constant_lr(3e-4f)->lr(12345), 3e-4f);
  EXPECT_THROW(noam(0, 10), ValueError);
}
