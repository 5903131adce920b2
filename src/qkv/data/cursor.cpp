// DataCursor (qkv/data/cursor.h): the data stream's position in a checkpoint.
#include "qkv/data/cursor.h"

#include <cstdint>
#include <cstdio>
#include <string>

#include "qkv/core/error.h"
#include "qkv/core/json_parse.h"

namespace qkv::data {
namespace {

int64_t count_field(const nlohmann::json& j, const char* name) {
  if (!j.contains(name)) throw ValueError(std::string("DataCursor: missing field '") + name + "'");
  const nlohmann::json& v = j.at(name);
  if (!v.is_number_integer())
    throw ValueError(std::string("DataCursor: field '") + name + "' must be an integer, got " + json_excerpt(v));
  if (v.is_number_unsigned() ? v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX) : v.get<int64_t>() < 0)
    throw ValueError(std::string("DataCursor: field '") + name + "' must be a count ≥ 0, got " + json_excerpt(v));
  return v.get<int64_t>();
}

std::array<uint64_t, 4> state_field(const nlohmann::json& j) {
  if (!j.contains("rng_state")) throw ValueError("DataCursor: missing field 'rng_state'");
  const nlohmann::json& v = j.at("rng_state");
  if (!v.is_string()) throw ValueError("DataCursor: field 'rng_state' must be a string of 64 hex digits");
  Generator g;
  g.set_state_hex(v.get<std::string>(), "DataCursor: field 'rng_state'");
  return g.state();
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
  Generator g;
  g.set_state(rng_state);
  return {{"epoch", epoch}, {"position", position}, {"rng_state", g.state_hex()}};
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
