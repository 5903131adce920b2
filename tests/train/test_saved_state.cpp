// train::parse_saved_state (trainer_state.json read back, also fuzzed by
// fuzz/fuzz_trainer_state): every field checked, the file and the field named.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "qkv/core/error.h"
#include "qkv/core/rng.h"
#include "qkv/data/cursor.h"
#include "qkv/models/gpt_config.h"
#include "qkv/train/saved_state.h"

using nlohmann::json;
using qkv::train::parse_saved_state;

namespace {

json good_state() {
  qkv::Generator data(7), dropout(8);
  return {{"step", 12},
          {"best_val_loss", 2.5},
          {"best_score", -2.5},
          {"data_cursor", qkv::data::DataCursor::capture(1, 3, data).to_json()},
          {"dropout_rng", dropout.state_hex()},
          {"train_config", qkv::train::TrainConfig{}.to_json()},
          {"model_config", qkv::models::GPTConfig{}.to_json()}};
}

std::string error_of(const json& st) {
  try {
    parse_saved_state(st, "run/trainer_state.json");
  } catch (const qkv::ValueError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST(SavedState, ReadsEveryField) {
  const qkv::train::SavedState s = parse_saved_state(good_state(), "run/trainer_state.json");
  EXPECT_EQ(s.step, 12);
  EXPECT_FLOAT_EQ(s.best_val_loss, 2.5f);
  EXPECT_DOUBLE_EQ(s.best_score, -2.5);
  EXPECT_TRUE(s.data_fingerprint.is_null());
}

TEST(SavedState, OutOfRangeAndWrongTypesNameTheFileAndField) {
  json st = good_state();
  st["step"] = uint64_t(18446744073709551615ull);  // was read back as -1
  EXPECT_EQ(error_of(st), "run/trainer_state.json: field \"step\" = 18446744073709551615 is out of range");
  st["step"] = 1.9;  // was truncated to 1
  EXPECT_EQ(error_of(st), "run/trainer_state.json: field \"step\" must be an integer, got number");
  st["step"] = -3;
  EXPECT_EQ(error_of(st), "run/trainer_state.json: field \"step\" must be >= 0, got -3");
  st = good_state();
  st.erase("dropout_rng");
  EXPECT_EQ(error_of(st), "run/trainer_state.json: missing field \"dropout_rng\"");
  st = good_state();
  st["model_config"] = 3;
  EXPECT_EQ(error_of(st), "run/trainer_state.json: field \"model_config\" must be an object");
  EXPECT_EQ(error_of(json::array()), "run/trainer_state.json: expected a JSON object");
  // Before the data cursor: the data RNG and a step whose micro-batch count overflows.
  st = good_state();
  st.erase("data_cursor");
  st["data_rng"] = qkv::Generator(7).state_hex();
  st["step"] = int64_t(1) << 62;
  st["train_config"]["grad_accum"] = 4;
  EXPECT_NE(error_of(st).find("field \"step\" = 4611686018427387904 is out of range"), std::string::npos) << error_of(st);
}
