// qkv/core/rng.h — a seeded, reproducible random number generator.
//
// xoshiro256** (Blackman & Vigna 2018) seeded through splitmix64. Every random
// op takes a Generator explicitly, fills sequentially on one thread, so the
// values depend only on the seed and the call sequence — never on the thread
// count. state()/set_state() let a checkpoint resume the exact stream.
#pragma once
#include <array>
#include <cstdint>

namespace qkv {

class Generator {
 public:
  explicit Generator(uint64_t seed = 1337) { manual_seed(seed); }
  void manual_seed(uint64_t seed);
  uint64_t next_u64();
  float uniform();   // [0, 1), 24 random bits
  double uniform_double();  // [0, 1), 53 random bits
  float normal();    // N(0, 1), Box–Muller
  // out[i] = mean + std·N(0, 1) for i < n, for initialising weights fast:
  // single-precision Box–Muller pairs, both the cosine and the sine branch
  // used (half the draws and logarithms of n normal() calls; a different
  // stream from normal()). An odd n drops the last sine.
  void fill_normal(float* out, int64_t n, float mean = 0.0f, float std = 1.0f);
  std::array<uint64_t, 4> state() const { return s_; }
  void set_state(const std::array<uint64_t, 4>& s) { s_ = s; }

 private:
  std::array<uint64_t, 4> s_{};
};

// The process-wide default generator (seeded 1337 until manual_seed()).
Generator& default_generator();
void manual_seed(uint64_t seed);

}  // namespace qkv
