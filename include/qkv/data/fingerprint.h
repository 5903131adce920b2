// qkv/data/fingerprint.h — what identifies a training file, so that a resumed
// run can tell it is reading the same data (train/trainer.h refuses another
// unless told otherwise).
//
//   {"path": "data/shakespeare.txt", "bytes": 1115394, "fnv1a64": "9d…"}
//
// The hash is 64-bit FNV-1a over the file's bytes (fast, stable across
// machines; it detects changed data, it is not a cryptographic signature).
// Two fingerprints name the same data when bytes and hash agree: the path is
// recorded for the message, a moved file is still the same data.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace qkv::data {

// IOError naming the path when it cannot be read.
nlohmann::json file_fingerprint(const std::string& path);
// Several files read together (a parallel corpus): their fingerprints in order.
nlohmann::json files_fingerprint(const std::vector<std::string>& paths);
// True when both describe the same bytes (size and hash equal; for lists,
// each file in order).
bool same_data(const nlohmann::json& a, const nlohmann::json& b);
// "data/x.txt (1115394 bytes, fnv1a64 9d…)" for messages.
std::string describe_fingerprint(const nlohmann::json& fp);

}  // namespace qkv::data
