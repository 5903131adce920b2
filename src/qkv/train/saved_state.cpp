// trainer_state.json read back (see qkv/train/saved_state.h).
#include "qkv/train/saved_state.h"

#include <type_traits>

#include "qkv/core/error.h"
#include "qkv/core/json_parse.h"

namespace qkv::train {
namespace {

using nlohmann::json;

const json& field(const json& st, const std::string& path, const char* k) {
  if (!st.contains(k)) throw ValueError(path + ": missing field \"" + k + "\"");
  return st[k];
}

// field() as T, with a wrong type named: "<path>: field "step" must be an integer, got string".
template <class T>
T typed(const json& st, const std::string& path, const char* k) {
  const json& v = field(st, path, k);
  const bool ok = std::is_same_v<T, std::string> ? v.is_string()
                  : std::is_integral_v<T>        ? v.is_number_integer()
                                                 : v.is_number();
  if (!ok)
    throw ValueError(path + ": field \"" + k + "\" must be " +
                     (std::is_same_v<T, std::string> ? "a string" : std::is_integral_v<T> ? "an integer" : "a number") +
                     ", got " + v.type_name());
  if constexpr (std::is_integral_v<T>) {
    // An unsigned JSON integer above INT64_MAX would come back negative.
    if (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(INT64_MAX))
      throw ValueError(path + ": field \"" + k + "\" = " + json_excerpt(v) + " is out of range");
  }
  return v.get<T>();
}

// The data cursor: its own field, or (checkpoints before data/) the data RNG
// with the micro-batch count of a causal-LM run.
data::DataCursor saved_cursor(const json& st, const std::string& path, int64_t step, int64_t grad_accum) {
  if (st.contains("data_cursor")) return data::DataCursor::from_json(st["data_cursor"]);
  if (!st.contains("data_rng")) throw ValueError("missing field \"data_cursor\"");
  Generator g;
  g.set_state_hex(typed<std::string>(st, path, "data_rng"), "data_rng");
  if (step < 0 || (grad_accum > 0 && step > INT64_MAX / grad_accum))
    throw ValueError("field \"step\" = " + std::to_string(step) + " is out of range");
  return data::DataCursor::capture(0, step * grad_accum, g);
}

SavedState parse(const json& st, const std::string& path) {
  if (!st.is_object()) throw ValueError(path + ": expected a JSON object");
  SavedState s;
  s.model_config = field(st, path, "model_config");
  if (!s.model_config.is_object()) throw ValueError(path + ": field \"model_config\" must be an object");
  try {
    s.train_config = TrainConfig::from_json(TrainConfig::upgrade_saved_json(field(st, path, "train_config")));
    s.train_config.validate();  // a checkpoint holds a config that passed; anything else was edited
  } catch (const ValueError& e) {
    throw ValueError(path + ": train_config: " + e.what());
  }
  s.step = typed<int64_t>(st, path, "step");
  if (s.step < 0) throw ValueError(path + ": field \"step\" must be >= 0, got " + std::to_string(s.step));
  try {
    s.cursor = saved_cursor(st, path, s.step, s.train_config.grad_accum);
    s.dropout.set_state_hex(typed<std::string>(st, path, "dropout_rng"), "dropout_rng");
  } catch (const ValueError& e) {
    const std::string what = e.what();
    throw ValueError(what.rfind(path, 0) == 0 ? what : path + ": " + what);
  }
  s.best_val_loss = typed<float>(st, path, "best_val_loss");
  s.best_score = st.contains("best_score") ? typed<double>(st, path, "best_score") : -static_cast<double>(s.best_val_loss);
  if (st.contains("data_fingerprint")) s.data_fingerprint = st["data_fingerprint"];
  return s;
}

}  // namespace

SavedState parse_saved_state(const json& st, const std::string& path) {
  try {
    return parse(st, path);
  } catch (const json::exception& e) {  // a field of the wrong type deeper in the state
    throw ValueError(path + ": " + strip_json_prefix(e.what()));
  }
}

}  // namespace qkv::train
