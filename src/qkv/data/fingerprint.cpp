// Training-data fingerprints (see qkv/data/fingerprint.h).
#include "qkv/data/fingerprint.h"

#include <cstdio>
#include <fstream>
#include <vector>

#include "qkv/core/error.h"

namespace qkv::data {

nlohmann::json file_fingerprint(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IOError(path + ": cannot open for reading");
  // FNV-1a, 64-bit: offset basis 14695981039346656037, prime 1099511628211.
  uint64_t h = 14695981039346656037ULL, bytes = 0;
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const std::streamsize n = in.gcount();
    for (std::streamsize i = 0; i < n; ++i) {
      h ^= static_cast<unsigned char>(buf[static_cast<size_t>(i)]);
      h *= 1099511628211ULL;
    }
    bytes += static_cast<uint64_t>(n);
  }
  if (in.bad()) throw IOError(path + ": read failed");
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return {{"path", path}, {"bytes", bytes}, {"fnv1a64", hex}};
}

nlohmann::json files_fingerprint(const std::vector<std::string>& paths) {
  nlohmann::json files = nlohmann::json::array();
  for (const std::string& p : paths) files.push_back(file_fingerprint(p));
  return files;
}

bool same_data(const nlohmann::json& a, const nlohmann::json& b) {
  if (a.is_array() || b.is_array()) {
    if (!a.is_array() || !b.is_array() || a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
      if (!same_data(a[i], b[i])) return false;
    return true;
  }
  if (!a.is_object() || !b.is_object()) return false;
  return a.value("bytes", nlohmann::json()) == b.value("bytes", nlohmann::json()) &&
         a.value("fnv1a64", nlohmann::json()) == b.value("fnv1a64", nlohmann::json());
}

std::string describe_fingerprint(const nlohmann::json& fp) {
  if (fp.is_array()) {
    std::string out;
    for (const auto& f : fp) out += (out.empty() ? "" : " + ") + describe_fingerprint(f);
    return out;
  }
  if (!fp.is_object()) return fp.dump();
  return fp.value("path", std::string("?")) + " (" + fp.value("bytes", nlohmann::json("?")).dump() + " bytes, fnv1a64 " +
         fp.value("fnv1a64", std::string("?")) + ")";
}

}  // namespace qkv::data
