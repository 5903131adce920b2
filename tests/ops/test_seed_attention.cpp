// The seeds' worked self-attention example must reproduce exactly.
#include <gtest/gtest.h>

#include <cmath>

#include "qkv/qkv.h"

using namespace qkv;

TEST(SeedAttention, WorkedExample) {
  Tensor X = tensor({1, 0, 1, 0, 0, 2, 0, 2, 1, 1, 1, 1}, {3, 4});
  Tensor WQ = tensor({1, 0, 1, 1, 0, 0, 0, 0, 1, 0, 1, 1}, {4, 3});
  Tensor WK = tensor({0, 0, 1, 1, 1, 0, 0, 1, 0, 1, 1, 0}, {4, 3});
  Tensor WV = tensor({0, 2, 0, 0, 3, 0, 1, 0, 3, 1, 1, 0}, {4, 3});
  Tensor Q = matmul(X, WQ), K = matmul(X, WK), V = matmul(X, WV);
  // scores QKᵀ = [[2,4,4],[4,16,12],[4,12,10]]
  std::vector<float> want_scores{2, 4, 4, 4, 16, 12, 4, 12, 10};
  auto scores = matmul(Q, K.t()).to_vector();
  for (size_t i = 0; i < 9; ++i) EXPECT_FLOAT_EQ(scores[i], want_scores[i]) << "score " << i;
  // softmax(QKᵀ/√3) V
  std::vector<float> want{1.8639f, 6.3194f, 1.7042f, 1.9991f, 7.8141f, 0.2735f, 1.9926f, 7.4796f, 0.7359f};
  auto fused = scaled_dot_product_attention(Q, K, V).to_vector();
  auto composed = matmul(softmax(mul(matmul(Q, K.t()), 1.0f / std::sqrt(3.0f)), -1), V).to_vector();
  for (size_t i = 0; i < 9; ++i) {
    EXPECT_NEAR(fused[i], want[i], 1e-4) << "fused " << i;
    EXPECT_NEAR(composed[i], want[i], 1e-4) << "composed " << i;
  }
}
