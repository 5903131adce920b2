// qkv/train/saved_state.h — trainer_state.json read back: every field a
// resume needs, with its type and range checked before the trainer touches
// anything. Apart from the Trainer so that it is tested (and fuzzed, fuzz/)
// without a model.
//
//   train::SavedState s = train::parse_saved_state(io::read_json(path), path);
//   s.step, s.cursor, s.dropout, s.train_config, …
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "qkv/core/rng.h"
#include "qkv/data/cursor.h"
#include "qkv/train/train_config.h"

namespace qkv::train {

struct SavedState {
  int64_t step = 0;
  float best_val_loss = 0;
  double best_score = 0;             // checkpoints before best_score: -best_val_loss
  data::DataCursor cursor;           // the training data stream's position
  Generator dropout;                 // the dropout stream
  nlohmann::json model_config;       // the model's config_json() as saved
  TrainConfig train_config;          // older spellings upgraded, then the table's checks
  nlohmann::json data_fingerprint;   // null when the run recorded none
};

// ValueError "<path>: …" naming the field at fault for anything missing, of
// the wrong type or out of range (never nlohmann's raw exception text).
SavedState parse_saved_state(const nlohmann::json& st, const std::string& path);

}  // namespace qkv::train
