#include "qkv/core/rng.h"

#include <cmath>
#include <cstdio>

#include "qkv/core/error.h"

namespace qkv {
namespace {
uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
}  // namespace

std::string Generator::state_hex() const {
  std::string hex;
  for (uint64_t w : s_) {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(w));
    hex += buf;
  }
  return hex;
}

void Generator::set_state_hex(const std::string& hex, const std::string& what) {
  if (hex.size() != 64)
    throw ValueError(what + " must be 64 hex digits, got " + std::to_string(hex.size()) + " characters");
  std::array<uint64_t, 4> st{};
  for (size_t i = 0; i < 64; ++i) {
    const char c = hex[i];
    const int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (d < 0) throw ValueError(what + " has a non-hex character at position " + std::to_string(i));
    st[i / 16] = (st[i / 16] << 4) | static_cast<uint64_t>(d);
  }
  // xoshiro256** maps the all-zero state to itself: it would yield only zeros.
  if ((st[0] | st[1] | st[2] | st[3]) == 0) throw ValueError(what + " is all zero");
  s_ = st;
}

void Generator::manual_seed(uint64_t seed) {
  uint64_t x = seed;
  for (auto& w : s_) w = splitmix64(x);
}

uint64_t Generator::next_u64() {
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

float Generator::uniform() { return static_cast<float>(next_u64() >> 40) * 0x1.0p-24f; }
double Generator::uniform_double() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

float Generator::normal() {
  // Box–Muller with u1 in (0,1] so log never sees 0.
  double u1 = 1.0 - uniform_double();
  double u2 = uniform_double();
  return static_cast<float>(std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2));
}

void Generator::fill_dropout_mask(float* out, int64_t n, float p, float keep) {
  // uniform() < p  ⇔  u24·2⁻²⁴ < p  ⇔  u24 < ⌈p·2²⁴⌉ (u24 an integer).
  const uint64_t threshold = static_cast<uint64_t>(std::ceil(static_cast<double>(p) * 16777216.0));
  int64_t i = 0;
  for (; i + 1 < n; i += 2) {
    const uint64_t r = next_u64();
    out[i] = (r >> 40) < threshold ? 0.0f : keep;
    out[i + 1] = ((r >> 16) & 0xFFFFFF) < threshold ? 0.0f : keep;
  }
  if (i < n) out[i] = (next_u64() >> 40) < threshold ? 0.0f : keep;
}

void Generator::fill_normal(float* out, int64_t n, float mean, float std) {
  // Single precision: u1 has 24 bits, so |z| ≤ √(−2 ln 2⁻²⁴) ≈ 5.8 — ample
  // for initialisation, and sincosf/logf cost a fraction of their doubles.
  constexpr float kTwoPi = 6.28318530717958647692f;
  for (int64_t i = 0; i < n; i += 2) {
    const float u1 = 1.0f - uniform();  // (0, 1]
    const float u2 = uniform();
    const float r = std * std::sqrt(-2.0f * std::log(u1));
    float s, c;
    sincosf(kTwoPi * u2, &s, &c);
    out[i] = mean + r * c;
    if (i + 1 < n) out[i + 1] = mean + r * s;
  }
}

Generator& default_generator() {
  static Generator g(1337);
  return g;
}

void manual_seed(uint64_t seed) { default_generator().manual_seed(seed); }

}  // namespace qkv
