// qkv/core/rng.h — a seeded, reproducible random number generator.
//
// xoshiro256** (Blackman & Vigna 2018) seeded through splitmix64. Every random
// op takes a Generator explicitly, fills sequentially on one thread, so the
// values depend only on the seed and the call sequence — never on the thread
// count. state()/set_state() let a checkpoint resume the exact stream.
#pragma once
#include <array>
#include <cstdint>
#include <string>

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
  // A dropout mask: out[i] = 0 with probability p (a 24-bit uniform below p),
  // else `keep`. Two elements per 64-bit draw (bits 40–63, then 16–39) and no
  // call per element: what was the cost of dropout in a training step. A
  // different stream from n uniform() calls.
  void fill_dropout_mask(float* out, int64_t n, float p, float keep);
  std::array<uint64_t, 4> state() const { return s_; }
  void set_state(const std::array<uint64_t, 4>& s) { s_ = s; }
  // The state as 64 hex digits (checkpoints keep it as text: JSON numbers
  // above 2^53 do not survive every reader).
  std::string state_hex() const;
  // Parses state_hex()'s text; ValueError ("…must be 64 hex digits", "…has a
  // non-hex character at position N", "…is all zero": xoshiro256** never
  // reaches that state) prefixed by `what`. Nothing changes on error.
  void set_state_hex(const std::string& hex, const std::string& what = "generator state");

 private:
  std::array<uint64_t, 4> s_{};
};

// The process-wide default generator (seeded 1337 until manual_seed()).
Generator& default_generator();
void manual_seed(uint64_t seed);

}  // namespace qkv
