// `qkv demo xor`: fits a 2-layer MLP to XOR with autograd and prints the loss
// falling — the smallest end-to-end check that tensors, ops, backward and an
// optimizer step fit together.
#include <cmath>
#include <cstdio>

#include "commands.h"
#include "qkv/qkv.h"

namespace qkv::cli {
namespace {

struct XorOptions {
  int steps = 500;
  int hidden = 8;
  float lr = 0.1f;
  uint64_t seed = 1337;
  int print_every = 50;
  int threads = 0;
};

int run_xor(const XorOptions& o) {
  apply_threads(o.threads);
  if (o.steps < 1) throw ValueError("--steps must be >= 1");
  if (o.hidden < 1) throw ValueError("--hidden must be >= 1");
  if (o.hidden > 1 << 20) throw ValueError("--hidden must be at most 1048576, got " + std::to_string(o.hidden));
  if (o.print_every < 1) throw ValueError("--print-every must be >= 1, got " + std::to_string(o.print_every));
  if (!(o.lr > 0)) throw ValueError("--lr must be > 0");
  Generator gen(o.seed);
  // x (4,2), y (4,1): the XOR truth table.
  Tensor x = tensor({0, 0, 0, 1, 1, 0, 1, 1}, {4, 2});
  Tensor y = tensor({0, 1, 1, 0}, {4, 1});
  const float s1 = 1.0f / std::sqrt(2.0f), s2 = 1.0f / std::sqrt(static_cast<float>(o.hidden));
  Tensor w1 = mul(randn({o.hidden, 2}, gen), s1).detach().requires_grad_();
  Tensor b1 = zeros({o.hidden}).requires_grad_();
  Tensor w2 = mul(randn({1, o.hidden}, gen), s2).detach().requires_grad_();
  Tensor b2 = zeros({1}).requires_grad_();
  std::vector<Tensor> params{w1, b1, w2, b2};
  // Adam (Kingma & Ba 2015), β1 0.9, β2 0.999, ε 1e-8 — written inline; the
  // optimizers of qkv::optim arrive with the GPT issue.
  std::vector<Tensor> m, v;
  for (auto& p : params) {
    m.push_back(zeros(p.shape()));
    v.push_back(zeros(p.shape()));
  }
  std::printf("fitting a 2-layer MLP (2 → %d → 1, tanh, sigmoid) to XOR with Adam, lr %g\n", o.hidden, o.lr);
  float loss_v = 0;
  for (int step = 1; step <= o.steps; ++step) {
    Tensor h = tanh(linear(x, w1, b1));             // (4, H)
    Tensor p = sigmoid(linear(h, w2, b2));          // (4, 1)
    Tensor loss = mse_loss(p, y);
    for (auto& t : params) t.zero_grad();
    loss.backward();
    loss_v = loss.item();
    {
      NoGradGuard ng;
      const float b1c = 1 - std::pow(0.9f, step), b2c = 1 - std::pow(0.999f, step);
      for (size_t i = 0; i < params.size(); ++i) {
        Tensor g = params[i].grad();
        m[i].copy_(add(mul(m[i], 0.9f), mul(g, 0.1f)));
        v[i].copy_(add(mul(v[i], 0.999f), mul(mul(g, g), 0.001f)));
        Tensor upd = div(mul(m[i], 1.0f / b1c), add(sqrt(mul(v[i], 1.0f / b2c)), 1e-8f));
        params[i].copy_(sub(params[i], mul(upd, o.lr)));
      }
    }
    if (step == 1 || step % o.print_every == 0 || step == o.steps)
      std::printf("step %4d  loss %.6f\n", step, loss_v);
  }
  NoGradGuard ng;
  Tensor p = sigmoid(linear(tanh(linear(x, w1, b1)), w2, b2));
  auto pv = p.to_vector();
  std::printf("predictions: 0^0=%.3f 0^1=%.3f 1^0=%.3f 1^1=%.3f\n", pv[0], pv[1], pv[2], pv[3]);
  bool ok = pv[0] < 0.5f && pv[1] > 0.5f && pv[2] > 0.5f && pv[3] < 0.5f;
  std::printf("%s\n", ok ? "XOR learned." : "XOR not learned (try more --steps).");
  return ok ? 0 : 2;
}

void add_demo_command(CLI::App& app) {
  auto* demo = app.add_subcommand("demo", "Small end-to-end demonstrations");
  demo->require_subcommand(1);
  auto* x = demo->add_subcommand("xor", "Fit a 2-layer MLP to XOR with autograd and print the loss falling");
  static XorOptions o;
  x->add_option("--steps", o.steps, "Optimizer steps")->capture_default_str();
  x->add_option("--hidden", o.hidden, "Hidden units")->capture_default_str();
  x->add_option("--lr", o.lr, "Learning rate")->capture_default_str();
  x->add_option("--seed", o.seed, "Random seed")->capture_default_str();
  x->add_option("--print-every", o.print_every, "Print the loss every N steps")->capture_default_str();
  x->add_option("--threads", o.threads, "Threads (0 = physical cores)")->capture_default_str();
  x->callback([] {
    int rc = run_xor(o);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace

QKV_REGISTER_COMMAND("demo", 20, add_demo_command);

}  // namespace qkv::cli
