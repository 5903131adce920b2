// tests/nn/nn_fixture.h — reads the PyTorch fixture files of tests/fixtures/nn/
// (written by make_nn_fixtures.py; the line format of ops_parity.txt) and
// compares tensors by name, printing the max difference (llm.c's test style).
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "qkv/qkv.h"
#include "support/text_fixtures.h"

#ifndef QKV_TEST_FIXTURES
#error "tests/CMakeLists.txt must define QKV_TEST_FIXTURES"
#endif

namespace qkv::test {

// name → tensor for tests/fixtures/nn/<file>, parsed once per file.
inline const std::map<std::string, Tensor>& nn_fixtures(const std::string& file) {
  static std::map<std::string, std::map<std::string, Tensor>> cache;
  auto it = cache.find(file);
  if (it != cache.end()) return it->second;
  std::map<std::string, Tensor> out =
      qkv::testing::load_text_fixtures(std::string(QKV_TEST_FIXTURES) + "/nn/" + file);
  return cache.emplace(file, std::move(out)).first->second;
}

inline bool fx_has(const std::string& file, const std::string& name) { return nn_fixtures(file).count(name) > 0; }

// A fresh copy (a new leaf) of one fixture tensor.
inline Tensor fx_get(const std::string& file, const std::string& name) {
  auto& m = nn_fixtures(file);
  auto it = m.find(name);
  if (it == m.end()) throw ValueError("fixture '" + name + "' missing from " + file);
  return it->second.clone();
}

// All entries "<prefix><rest>" as ("<rest>", tensor), e.g. a state dict.
inline std::vector<std::pair<std::string, Tensor>> fx_prefixed(const std::string& file, const std::string& prefix) {
  std::vector<std::pair<std::string, Tensor>> out;
  for (const auto& [n, t] : nn_fixtures(file))
    if (n.compare(0, prefix.size(), prefix) == 0) out.emplace_back(n.substr(prefix.size()), t.clone());
  return out;
}

// Max over elements of |got − want| / (abs_floor + |want|) ≤ tol; prints the max.
inline void expect_close(const Tensor& got, const Tensor& want, const std::string& what, double tol,
                         double abs_floor = 1.0) {
  ASSERT_TRUE(got.defined()) << what << ": no value";
  ASSERT_EQ(shape_str(got.shape()), shape_str(want.shape())) << what;
  std::vector<float> g = got.to_vector(), w = want.to_vector();
  double maxdiff = 0;
  size_t at = 0;
  for (size_t i = 0; i < g.size(); ++i) {
    const double d = std::fabs(double(g[i]) - w[i]) / (abs_floor + std::fabs(w[i]));
    if (std::isnan(d)) {  // NaN fails outright
      maxdiff = INFINITY, at = i;
      break;
    }
    if (d > maxdiff) maxdiff = d, at = i;
  }
  EXPECT_LE(maxdiff, tol) << what << ": maxdiff " << maxdiff << " at " << at << " (got " << g[at] << ", want "
                          << w[at] << ")";
}

}  // namespace qkv::test
