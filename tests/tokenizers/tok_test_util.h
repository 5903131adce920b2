// Helpers for the tokenizer tests: the shared data folder and JSONL case files.
#pragma once
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace qkv_test {

inline std::string tokenizer_data() { return std::string(QKV_SHARED_DATA) + "/tokenizers"; }

inline bool have(const std::string& path) { return std::filesystem::exists(path); }

inline std::vector<nlohmann::json> read_jsonl(const std::string& path) {
  std::vector<nlohmann::json> rows;
  std::ifstream f(path);
  std::string line;
  while (std::getline(f, line))
    if (!line.empty()) rows.push_back(nlohmann::json::parse(line));
  return rows;
}

inline std::string temp_dir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("qkv_tok_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return dir.string();
}

}  // namespace qkv_test

// Skips the test (visibly) when the shared data set is absent, e.g. a fresh clone.
#define QKV_REQUIRE_DATA(path)                                                           \
  do {                                                                                   \
    if (!qkv_test::have(path)) GTEST_SKIP() << "shared data not found: " << (path)       \
                                            << " (tokenizer parity needs ../shared/data)"; \
  } while (0)
