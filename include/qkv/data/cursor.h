// qkv/data/cursor.h — where a run is in its data stream, for checkpoints.
//
// A resumed run must see exactly the batches the uninterrupted run would have
// seen. That needs three things: which pass over the data (epoch), how far
// into it (position: batches or examples consumed, as the task counts), and
// the state of the Generator that shuffles or samples. The trainer saves a
// DataCursor in trainer_state.json and restores it before drawing again.
//
//   DataCursor c = DataCursor::capture(epoch, position, data_gen);
//   state["data"] = c.to_json();
//   …
//   DataCursor r = DataCursor::from_json(state["data"]);
//   r.restore(data_gen);
#pragma once
#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>

#include "qkv/core/rng.h"

namespace qkv::data {

struct DataCursor {
  int64_t epoch = 0;     // completed passes over the data
  int64_t position = 0;  // batches (or examples) consumed in the current epoch
  std::array<uint64_t, 4> rng_state{};  // Generator::state() of the data stream

  static DataCursor capture(int64_t epoch, int64_t position, const Generator& gen);
  void restore(Generator& gen) const { gen.set_state(rng_state); }

  // {"epoch": 3, "position": 120, "rng_state": "<64 hex digits>"}: the state
  // as hex (as trainer_state.json's data_rng) because JSON numbers above 2^53
  // do not survive every reader.
  nlohmann::json to_json() const;
  // ValueError naming the field for a missing field, a wrong type, a negative
  // count, or a state that is not 64 hex digits (or is all zero, which
  // xoshiro256** never reaches).
  static DataCursor from_json(const nlohmann::json& j);

  bool operator==(const DataCursor&) const = default;
};

}  // namespace qkv::data
