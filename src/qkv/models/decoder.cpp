// The decoding interface's shared parts (see qkv/models/decoder.h).
#include "qkv/models/decoder.h"

#include <algorithm>
#include <string>
#include <utility>

#include "qkv/ops/ops.h"

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

namespace {
void check_joinable(const DecodeState& st, const char* which) {
  if (st.memory.defined() || st.source_mask.defined())
    throw ValueError(std::string("join_states: the ") + which + " state has encoder memory (encoder–decoder "
                     "models decode in batches of their own)");
  if (st.use_cache && st.cache.length() != st.ids.size(1))
    throw ValueError(std::string("join_states: the ") + which + " state's cache holds " +
                     std::to_string(st.cache.length()) + " of its " + std::to_string(st.ids.size(1)) +
                     " positions (cropped past the context length)");
}

// (B,T) → (B,L): `t` right-aligned after L − T zero columns (pad id 0, mask false).
Tensor left_pad_columns(const Tensor& t, int64_t L) {
  const int64_t B = t.size(0), T = t.size(1);
  return T == L ? t : cat({zeros({B, L - T}, t.dtype()), t}, 1);
}
}  // namespace

void join_states(DecodeState& into, DecodeState&& from) {
  if (from.batch() == 0) return;
  if (into.batch() == 0) {
    into = std::move(from);
    return;
  }
  if (into.use_cache != from.use_cache) throw ValueError("join_states: one state uses a cache, the other not");
  check_joinable(into, "running");
  check_joinable(from, "joining");
  const int64_t L = std::max(into.ids.size(1), from.ids.size(1));
  if (into.use_cache) into.cache.append_rows(from.cache);  // validates before anything else changes
  into.ids = cat({left_pad_columns(into.ids, L), left_pad_columns(from.ids, L)}, 0);
  into.mask = cat({left_pad_columns(into.mask, L), left_pad_columns(from.mask, L)}, 0);
}

int64_t drop_leading_padding(DecodeState& st) {
  if (st.batch() == 0) return 0;
  const int64_t B = st.ids.size(0), L = st.ids.size(1);
  const std::vector<int64_t> m = st.mask.to_int_vector();
  int64_t first = L;  // the first column any row uses
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < first; ++t)
      if (m[b * L + t] != 0) {
        first = t;
        break;
      }
  const int64_t n = std::min(first, L - 1);  // keep one column: a state is never empty
  if (n <= 0) return 0;
  if (st.use_cache) {
    if (st.cache.length() != L)
      throw ValueError("drop_leading_padding: the cache holds " + std::to_string(st.cache.length()) + " of " +
                       std::to_string(L) + " positions");
    st.cache.drop_front(n);
  }
  st.ids = st.ids.narrow(1, n, L - n).contiguous();
  st.mask = st.mask.narrow(1, n, L - n).contiguous();
  return n;
}

}  // namespace qkv::models
