// Weight initialisers and the GPT-2 scheme.
#include "qkv/nn/init.h"

#include <cmath>

#include "qkv/nn/layers.h"
#include "qkv/nn/positional.h"

namespace qkv::nn {

namespace {
// Fills a float tensor in row-major order from f(), on one thread.
template <class F> void fill_with(Tensor& t, const char* who, F f) {
  if (t.dtype() != DType::Float32) throw ValueError(std::string(who) + ": tensor must be float32");
  std::vector<float> v(t.numel());
  for (float& x : v) x = f();
  t.copy_(tensor(v, t.shape()));
}
thread_local bool g_skip_random_init = false;
}  // namespace

SkipRandomInit::SkipRandomInit() : outer_(g_skip_random_init) { g_skip_random_init = true; }
SkipRandomInit::~SkipRandomInit() { g_skip_random_init = outer_; }

void normal_(Tensor& t, float mean, float std, Generator& gen) {
  if (t.dtype() != DType::Float32) throw ValueError("normal_: tensor must be float32");
  if (g_skip_random_init) return;
  Tensor c = t.is_contiguous() ? t : Tensor::empty(t.shape());
  gen.fill_normal(c.data<float>(), c.numel(), mean, std);  // in pairs: a 124M-parameter init in ~1 s, not 4
  if (!t.is_contiguous()) t.copy_(c);
}

void uniform_(Tensor& t, float low, float high, Generator& gen) {
  if (g_skip_random_init) {
    if (t.dtype() != DType::Float32) throw ValueError("uniform_: tensor must be float32");
    return;
  }
  fill_with(t, "uniform_", [&] { return low + (high - low) * gen.uniform(); });
}

void zeros_(Tensor& t) { t.fill_(0.0f); }
void ones_(Tensor& t) { t.fill_(1.0f); }

void init_gpt2(Module& m, int64_t n_layer, Generator& gen) {
  if (n_layer <= 0) throw ValueError("init_gpt2: n_layer must be positive, got " + std::to_string(n_layer));
  for (auto& [name, mod] : m.named_modules()) {
    if (auto* l = dynamic_cast<Linear*>(mod)) {
      normal_(l->weight, 0.0f, 0.02f, gen);
      if (l->bias.defined()) zeros_(l->bias);
    } else if (auto* e = dynamic_cast<Embedding*>(mod)) {
      normal_(e->weight, 0.0f, 0.02f, gen);
    } else if (auto* pe = dynamic_cast<LearnedPositionalEmbedding*>(mod)) {
      normal_(pe->weight, 0.0f, 0.02f, gen);
    } else if (auto* ln = dynamic_cast<LayerNorm*>(mod)) {
      ones_(ln->weight);
      if (ln->bias.defined()) zeros_(ln->bias);
    }
  }
  // GPT-2 paper §2.3: residual-path weights scaled by 1/√N, N = 2·n_layer
  // residual additions (nanoGPT: std 0.02/√(2·n_layer) for "c_proj.weight").
  const float std_proj = 0.02f / std::sqrt(2.0f * static_cast<float>(n_layer));
  const std::string suffix = "c_proj.weight";
  for (auto& [name, t] : m.named_parameters())
    if (name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      Tensor w = t;
      normal_(w, 0.0f, std_proj, gen);
    }
}

}  // namespace qkv::nn
