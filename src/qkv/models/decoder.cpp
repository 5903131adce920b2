// The decoding interface's shared parts (see qkv/models/decoder.h).
#include "qkv/models/decoder.h"

namespace qkv::models {

void Decoder::reorder(DecodeState& st, const std::vector<int64_t>& rows) const {
  if (st.use_cache && st.cache.num_layers() > 0) st.cache.reorder(rows);
  if (st.ids.defined()) st.ids = nn::take_rows(st.ids, rows);
  if (st.mask.defined()) st.mask = nn::take_rows(st.mask, rows);
  if (st.memory.defined()) st.memory = nn::take_rows(st.memory, rows);
  if (st.source_mask.defined()) st.source_mask = nn::take_rows(st.source_mask, rows);
}

}  // namespace qkv::models
