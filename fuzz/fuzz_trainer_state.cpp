// libFuzzer target: trainer_state.json as a resume reads it (depth-bounded
// parse, then train::parse_saved_state: step, data cursor, RNG states, the
// saved configs).
#include <nlohmann/json.hpp>

#include "fuzz_util.h"
#include "qkv/core/json_parse.h"
#include "qkv/train/saved_state.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  qkv::fuzz::expect_clean([&] {
    nlohmann::json st;
    try {
      st = qkv::parse_json(text, "trainer_state.json");
    } catch (const nlohmann::json::exception&) {  // io::read_json words these
      return;
    }
    const qkv::train::SavedState s = qkv::train::parse_saved_state(st, "trainer_state.json");
    qkv::fuzz::check(s.step >= 0, "a parsed step is non-negative");
  });
  return 0;
}
