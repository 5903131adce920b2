// Named model shapes for `qkv bench --config NAME` (random weights): the
// shapes people compare against llama.cpp and PyTorch with.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

namespace qkv::cli {

// The config.json of a named shape, or of a config file at `name_or_path`
// (IOError/ValueError naming it; an unknown name lists the known ones).
nlohmann::json bench_config(const std::string& name_or_path);
// "gpt2-124m, gpt2-medium, …" for --help and errors.
std::string bench_config_names();

}  // namespace qkv::cli
