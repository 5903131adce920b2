// Vectorisable float math for hot kernels (inlined into `#pragma omp simd`
// loops; no libm calls, so GCC emits AVX2/AVX-512 code).
#pragma once
#include <bit>
#include <cstdint>

namespace qkv::kernels {

// e^x with ~1 ulp error on [-87.3, 88.7]: x = n ln2 + r, |r| ≤ ln2/2,
// e^r by a degree-6 polynomial (Cephes expf coefficients), 2^n by exponent
// bits. Returns exactly 0 below -87.33 (so masked −∞ scores give 0).
inline float fast_exp(float x) {
  const float hi = 88.3762626647949f;
  float xc = x > hi ? hi : x;
  xc = xc < -87.3365478515625f ? -87.3365478515625f : xc;
  // round-to-nearest by the 1.5·2²³ trick: vectorises, no libm call
  const float kRound = 12582912.0f;
  float n = (xc * 1.44269504088896341f + kRound) - kRound;
  float r = xc - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  float two_n = std::bit_cast<float>((static_cast<int32_t>(n) + 127) << 23);
  float y = p * two_n;
  return x < -87.3365478515625f ? 0.0f : y;
}

// tanh(x) = sign(x)·(1 − e)/(1 + e), e = e^(−2|x|); below |x| < 0.01 the
// series x − x³/3 avoids the cancellation in 1 − e. Absolute error < 2e-7.
inline float fast_tanh(float x) {
  float ax = x < 0 ? -x : x;
  float e = fast_exp(-2.0f * ax);
  float t = (1.0f - e) / (1.0f + e);
  t = ax < 0.01f ? ax - ax * ax * ax * (1.0f / 3.0f) : t;
  return x < 0 ? -t : t;
}

// erf(x) as a rational function on [−4, 4] (the approximation Eigen and XLA
// use for float: odd degree-13 numerator, even degree-8 denominator); |erf| = 1
// to float precision beyond |x| = 4. Max abs error ≈ 2e-7 (tests compare with
// std::erf).
inline float fast_erf(float x) {
  float xc = x > 4.0f ? 4.0f : (x < -4.0f ? -4.0f : x);
  float x2 = xc * xc;
  float p = -2.72614225801306e-10f;
  p = p * x2 + 2.77068142495902e-08f;
  p = p * x2 + -2.10102402082508e-06f;
  p = p * x2 + -5.69250639462346e-05f;
  p = p * x2 + -7.34990630326855e-04f;
  p = p * x2 + -2.95459980854025e-03f;
  p = p * x2 + -1.60960333262415e-02f;
  p = p * xc;
  float q = -1.45660718464996e-05f;
  q = q * x2 + -2.13374055278905e-04f;
  q = q * x2 + -1.68282697438203e-03f;
  q = q * x2 + -7.37332916720468e-03f;
  q = q * x2 + -1.42647390514189e-02f;
  return p / q;
}

}  // namespace qkv::kernels
