// The decoding interface's shared parts (see qkv/models/decoder.h).
#include "qkv/models/decoder.h"

#include <algorithm>
#include <string>

namespace qkv::models {

void Decoder::reorder(DecodeState& st, const std::vector<int64_t>& rows) const {
  const int64_t B = st.batch();
  if (rows.empty()) throw ValueError("reorder: no rows given");
  for (int64_t r : rows)  // checked before anything changes
    if (r < 0 || r >= B)
      throw ValueError("reorder: row " + std::to_string(r) + " out of range for batch " + std::to_string(B));
  if (!st.source_rows.empty() && static_cast<int64_t>(st.source_rows.size()) != B)
    throw ValueError("reorder: source_rows has " + std::to_string(st.source_rows.size()) + " entries for batch " +
                     std::to_string(B));
  if (st.use_cache && st.cache.num_layers() > 0) st.cache.reorder(rows);
  if (st.ids.defined()) st.ids = nn::take_rows(st.ids, rows);
  if (st.mask.defined()) st.mask = nn::take_rows(st.mask, rows);
  const bool per_sentence = st.memory.defined() || st.source_mask.defined();
  if (!per_sentence) return;
  // Each new row's sentence; the sentence rows themselves are not copied.
  std::vector<int64_t> src(rows.size());
  for (size_t b = 0; b < rows.size(); ++b) src[b] = st.source_rows.empty() ? rows[b] : st.source_rows[rows[b]];
  // Sentences no row reads any more (finished ones) leave memory and cache,
  // keeping the others in their order so rows stay grouped as they were.
  const int64_t G = st.memory.defined() ? st.memory.size(0) : st.source_mask.size(0);
  std::vector<int64_t> used = src;
  std::sort(used.begin(), used.end());
  used.erase(std::unique(used.begin(), used.end()), used.end());
  if (static_cast<int64_t>(used.size()) < G) {
    std::vector<int64_t> renumber(static_cast<size_t>(G), -1);
    for (size_t i = 0; i < used.size(); ++i) renumber[used[i]] = static_cast<int64_t>(i);
    for (int64_t& s : src) s = renumber[s];
    if (st.memory.defined()) st.memory = nn::take_rows(st.memory, used);
    if (st.source_mask.defined()) st.source_mask = nn::take_rows(st.source_mask, used);
    if (st.use_cache && st.cache.num_layers() > 0) st.cache.reorder_cross(used);
  }
  st.source_rows = std::move(src);
}

}  // namespace qkv::models
