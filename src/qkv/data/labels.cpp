// Label sets (qkv/data/labels.h).
#include "qkv/data/labels.h"

#include <algorithm>
#include <charconv>

#include "qkv/core/error.h"

namespace qkv::data {
namespace {

bool as_integer(const std::string& s, long long& v) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && end == s.data() + s.size() && !s.empty();
}

}  // namespace

LabelSet::LabelSet(std::vector<std::string> n) : names(std::move(n)) {
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i].empty()) throw ValueError("LabelSet: label " + std::to_string(i) + " is empty");
    for (size_t j = 0; j < i; ++j)
      if (names[j] == names[i])
        throw ValueError("LabelSet: label '" + names[i] + "' appears twice (ids " + std::to_string(j) + " and " +
                         std::to_string(i) + ")");
  }
}

LabelSet LabelSet::infer(const std::vector<std::string>& values) {
  std::vector<std::string> v = values;
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  long long x = 0, y = 0;
  const bool numeric = std::all_of(v.begin(), v.end(), [&](const std::string& s) { return as_integer(s, x); });
  if (numeric)
    std::sort(v.begin(), v.end(), [&](const std::string& a, const std::string& b) {
      as_integer(a, x);
      as_integer(b, y);
      return x < y;
    });
  return LabelSet(std::move(v));
}

std::optional<int64_t> LabelSet::find(const std::string& name) const {
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return int64_t(i);
  return std::nullopt;
}

int64_t LabelSet::id(const std::string& name) const {
  if (auto i = find(name)) return *i;
  throw ValueError("unknown label '" + name + "' (labels: " + listed() + ")");
}

const std::string& LabelSet::name(int64_t id) const {
  if (id < 0 || size_t(id) >= names.size())
    throw ValueError("label id " + std::to_string(id) + " is out of range (" + std::to_string(names.size()) +
                     " labels)");
  return names[size_t(id)];
}

std::string LabelSet::listed() const {
  std::string s;
  for (size_t i = 0; i < names.size() && i < 20; ++i) s += (i ? ", " : "") + names[i];
  if (names.size() > 20) s += ", … (" + std::to_string(names.size()) + " in all)";
  return s;
}

}  // namespace qkv::data
