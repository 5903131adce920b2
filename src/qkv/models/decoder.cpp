// The decoding interface's shared parts (see qkv/models/decoder.h).
#include "qkv/models/decoder.h"

#include <string>

#include "qkv/autograd/autograd.h"

namespace qkv::models {

Tensor take_rows(const Tensor& t, const std::vector<int64_t>& rows) {
  NoGradGuard ng;
  Shape s = t.shape();
  s[0] = static_cast<int64_t>(rows.size());
  Tensor out = Tensor::empty(s, t.dtype());
  for (size_t b = 0; b < rows.size(); ++b) {
    if (rows[b] < 0 || rows[b] >= t.size(0))
      throw ValueError("reorder: row " + std::to_string(rows[b]) + " out of range for batch " +
                       std::to_string(t.size(0)));
    out.select(0, static_cast<int64_t>(b)).copy_(t.select(0, rows[b]));
  }
  return out;
}

void Decoder::reorder(DecodeState& st, const std::vector<int64_t>& rows) const {
  if (st.use_cache && st.cache.num_layers() > 0) st.cache.reorder(rows);
  if (st.ids.defined()) st.ids = take_rows(st.ids, rows);
  if (st.mask.defined()) st.mask = take_rows(st.mask, rows);
  if (st.memory.defined()) st.memory = take_rows(st.memory, rows);
}

}  // namespace qkv::models
