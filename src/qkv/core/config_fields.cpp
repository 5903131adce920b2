// The type-erased parts of config::Field and config::Table (see
// qkv/core/config_fields.h): number formatting, bounds, suggestions.
#include "qkv/core/json_parse.h"
#include "qkv/core/config_fields.h"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <set>

namespace qkv::config {

std::string describe(const std::vector<FieldDiff>& diffs) {
  std::string s;
  for (const FieldDiff& d : diffs) s += (s.empty() ? "" : ", ") + d.key + " " + d.a + " → " + d.b;
  return s;
}

std::vector<FieldDiff> diff_json(const nlohmann::json& a, const nlohmann::json& b) {
  std::set<std::string> keys;
  for (const nlohmann::json* side : {&a, &b})
    if (side->is_object())
      for (const auto& [k, _] : side->items()) keys.insert(k);
  auto value = [](const nlohmann::json& j, const std::string& k) {
    return j.is_object() && j.contains(k) ? json_excerpt(j[k]) : std::string("(absent)");
  };
  std::vector<FieldDiff> out;
  for (const std::string& k : keys)
    if (value(a, k) != value(b, k)) out.push_back({k, value(a, k), value(b, k)});
  return out;
}

std::string flag_name(std::string_view key) {
  std::string s = "--";
  for (char c : key) s += c == '_' ? '-' : c;
  return s;
}

namespace {
// Levenshtein distance (insert, delete, substitute; cost 1 each).
size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}
}  // namespace

std::optional<Suggestion> closest(std::string_view key,
                                  const std::vector<std::pair<std::string, std::string>>& candidates) {
  std::optional<Suggestion> best;
  for (const auto& [spelling, canonical] : candidates) {
    const size_t d = edit_distance(key, spelling);
    if (!best || d < best->distance) best = Suggestion{canonical, d};
  }
  // A typo, not another word: at most a third of the key's letters (at least 2).
  const size_t limit = std::max<size_t>(2, key.size() / 3);
  if (best && best->distance > limit) return std::nullopt;
  return best;
}

std::string did_you_mean(const std::optional<Suggestion>& s) {
  return s ? " (did you mean \"" + s->key + "\"?)" : "";
}

namespace detail {

std::string number_str(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

std::string bounds_str(const Bounds& b) {
  if (b.lo && b.hi)
    return std::string("in ") + (b.lo_open ? "(" : "[") + number_str(*b.lo) + ", " + number_str(*b.hi) +
           (b.hi_open ? ")" : "]");
  if (b.lo) return (b.lo_open ? "> " : ">= ") + number_str(*b.lo);
  if (b.hi) return (b.hi_open ? "< " : "<= ") + number_str(*b.hi);
  return "a number";
}

bool within(double v, const Bounds& b) {
  if (b.lo && !(b.lo_open ? v > *b.lo : v >= *b.lo)) return false;
  if (b.hi && !(b.hi_open ? v < *b.hi : v <= *b.hi)) return false;
  return v == v;  // NaN is never within
}

std::string choices_str(const std::vector<std::string>& choices) {
  std::string s;
  for (size_t i = 0; i < choices.size(); ++i)
    s += (i == 0 ? "" : i + 1 == choices.size() ? " or " : ", ") + ("\"" + choices[i] + "\"");
  return s;
}

std::optional<int64_t> json_int(const nlohmann::json& v) {
  if (v.is_number_integer()) {
    if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      return std::nullopt;
    return v.get<int64_t>();
  }
  if (v.is_number_float()) {  // 1000.0, as Python's json writes some integers
    const double d = v.get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.0e15) return static_cast<int64_t>(d);
  }
  return std::nullopt;
}

std::optional<uint64_t> json_uint(const nlohmann::json& v) {
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  auto i = json_int(v);
  if (i && *i >= 0) return static_cast<uint64_t>(*i);
  return std::nullopt;
}

}  // namespace detail
}  // namespace qkv::config
