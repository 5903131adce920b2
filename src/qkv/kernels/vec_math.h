// Vectorisable float math for hot kernels (inlined into `#pragma omp simd`
// loops; no libm calls, so GCC emits AVX2/AVX-512 code).
#pragma once
#include <cstdint>
#include <cstring>

namespace qkv::kernels {

// e^x with ~1 ulp error on [-87.3, 88.7]: x = n ln2 + r, |r| ≤ ln2/2,
// e^r by a degree-6 polynomial (Cephes expf coefficients), 2^n by exponent
// bits. Returns exactly 0 below -87.33 (so masked −∞ scores give 0).
inline float fast_exp(float x) {
  const float hi = 88.3762626647949f;
  float xc = x > hi ? hi : x;
  xc = xc < -87.3365478515625f ? -87.3365478515625f : xc;
  float n = __builtin_floorf(xc * 1.44269504088896341f + 0.5f);
  float r = xc - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float two_n;
  std::memcpy(&two_n, &bits, 4);
  float y = p * two_n;
  return x < -87.3365478515625f ? 0.0f : y;
}

}  // namespace qkv::kernels
