// DataCursor (qkv/data/cursor.h): the data stream's position in a checkpoint.
#include "qkv/data/cursor.h"

#include <cstdint>
#include <cstdio>
#include <string>

#include "qkv/core/error.h"

namespace qkv::data {
namespace {

int64_t count_field(const nlohmann::json& j, const char* name) {
  if (!j.contains(name)) throw ValueError(std::string("DataCursor: missing field '") + name + "'");
  const nlohmann::json& v = j.at(name);
  if (!v.is_number_integer())
    throw ValueError(std::string("DataCursor: field '") + name + "' must be an integer, got " + v.dump());
  if (v.is_number_unsigned() ? v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX) : v.get<int64_t>() < 0)
    throw ValueError(std::string("DataCursor: field '") + name + "' must be a count ≥ 0, got " + v.dump());
  return v.get<int64_t>();
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::array<uint64_t, 4> state_field(const nlohmann::json& j) {
  if (!j.contains("rng_state")) throw ValueError("DataCursor: missing field 'rng_state'");
  const nlohmann::json& v = j.at("rng_state");
  if (!v.is_string()) throw ValueError("DataCursor: field 'rng_state' must be a string of 64 hex digits");
  const std::string& s = v.get_ref<const std::string&>();
  if (s.size() != 64)
    throw ValueError("DataCursor: field 'rng_state' must be 64 hex digits, got " + std::to_string(s.size()) +
                     " characters");
  std::array<uint64_t, 4> st{};
  for (size_t i = 0; i < 64; ++i) {
    const int d = hex_digit(s[i]);
    if (d < 0) throw ValueError("DataCursor: field 'rng_state' has a non-hex character at position " + std::to_string(i));
    st[i / 16] = (st[i / 16] << 4) | static_cast<uint64_t>(d);
  }
  // xoshiro256** maps the all-zero state to itself: it would yield only zeros.
  if ((st[0] | st[1] | st[2] | st[3]) == 0) throw ValueError("DataCursor: field 'rng_state' is all zero");
  return st;
}

}  // namespace

DataCursor DataCursor::capture(int64_t epoch, int64_t position, const Generator& gen) {
  DataCursor c;
  c.epoch = epoch;
  c.position = position;
  c.rng_state = gen.state();
  return c;
}

nlohmann::json DataCursor::to_json() const {
  std::string hex;
  for (uint64_t w : rng_state) {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(w));
    hex += buf;
  }
  return {{"epoch", epoch}, {"position", position}, {"rng_state", hex}};
}

DataCursor DataCursor::from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw ValueError("DataCursor: expected a JSON object, got " + std::string(j.type_name()));
  DataCursor c;
  c.epoch = count_field(j, "epoch");
  c.position = count_field(j, "position");
  c.rng_state = state_field(j);
  return c;
}

}  // namespace qkv::data
