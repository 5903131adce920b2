// Batch/Example accessors and padding (qkv/data/batch.h, qkv/data/padding.h).
#include <algorithm>

#include "qkv/data/padding.h"

namespace qkv::data {
namespace {

template <class Map>
std::string names_of(const Map& m) {
  std::string s;
  for (const auto& [k, v] : m) s += (s.empty() ? "" : ", ") + k;
  return s.empty() ? "none" : s;
}

void check_max_len(std::optional<int64_t> max_len, const char* what) {
  if (max_len && *max_len < 1)
    throw ValueError(std::string(what) + ": max_len must be at least 1, got " + std::to_string(*max_len));
}

// Row r keeps `count` tokens starting at `from` and writes them at column `col`.
struct RowPlan {
  size_t from = 0, count = 0;
  int64_t col = 0;
};

int64_t kept(size_t len, std::optional<int64_t> max_len) {
  const int64_t n = static_cast<int64_t>(len);
  return max_len ? std::min(n, *max_len) : n;
}

int64_t width(const std::vector<std::vector<int64_t>>& seqs, std::optional<int64_t> max_len) {
  int64_t T = 0;
  for (const auto& s : seqs) T = std::max(T, kept(s.size(), max_len));
  return T;
}

RowPlan plan_row(size_t len, int64_t T, PadSide side, std::optional<int64_t> max_len) {
  RowPlan p;
  p.count = static_cast<size_t>(kept(len, max_len));
  // Truncation and padding happen on the same side (padding.h explains why).
  p.from = side == PadSide::Right ? 0 : len - p.count;
  p.col = side == PadSide::Right ? 0 : T - static_cast<int64_t>(p.count);
  return p;
}

// (B,T) int64 filled with `value`, each row's kept tokens copied in place.
Tensor place(const std::vector<std::vector<int64_t>>& seqs, int64_t value, int64_t T, PadSide side,
             std::optional<int64_t> max_len) {
  const int64_t B = static_cast<int64_t>(seqs.size());
  Tensor out = Tensor::empty({B, T}, DType::Int64);
  int64_t* p = out.data<int64_t>();
  std::fill(p, p + B * T, value);
  for (int64_t b = 0; b < B; ++b) {
    const auto& s = seqs[b];
    RowPlan r = plan_row(s.size(), T, side, max_len);
    std::copy(s.begin() + r.from, s.begin() + r.from + r.count, p + b * T + r.col);
  }
  return out;
}

}  // namespace

const Tensor& Batch::get(const std::string& name) const {
  auto it = extra.find(name);
  if (it == extra.end()) throw ValueError("Batch: no extra field '" + name + "' (have: " + names_of(extra) + ")");
  return it->second;
}

const std::vector<int64_t>& Example::at(const std::string& name) const {
  auto it = fields.find(name);
  if (it == fields.end()) throw ValueError("Example: no field '" + name + "' (have: " + names_of(fields) + ")");
  return it->second;
}

Padded pad_sequences(const std::vector<std::vector<int64_t>>& seqs, int64_t pad_id, PadSide side,
                     std::optional<int64_t> max_len) {
  check_max_len(max_len, "pad_sequences");
  const int64_t B = static_cast<int64_t>(seqs.size()), T = width(seqs, max_len);
  Padded out;
  out.ids = place(seqs, pad_id, T, side, max_len);
  out.mask = zeros({B, T}, DType::Bool);
  bool* m = out.mask.data<bool>();
  for (int64_t b = 0; b < B; ++b) {
    RowPlan r = plan_row(seqs[b].size(), T, side, max_len);
    std::fill(m + b * T + r.col, m + b * T + r.col + static_cast<int64_t>(r.count), true);
  }
  return out;
}

Tensor pad_values(const std::vector<std::vector<int64_t>>& seqs, int64_t value, PadSide side,
                  std::optional<int64_t> max_len) {
  check_max_len(max_len, "pad_values");
  return place(seqs, value, width(seqs, max_len), side, max_len);
}

Batch batch_from_encodings(const std::vector<tokenizers::Encoding>& encodings, int64_t pad_id, PadSide side,
                           std::optional<int64_t> max_len) {
  check_max_len(max_len, "batch_from_encodings");
  std::vector<std::vector<int64_t>> ids, types, keep;
  bool any_types = false;
  for (size_t i = 0; i < encodings.size(); ++i) {
    const tokenizers::Encoding& e = encodings[i];
    auto check = [&](size_t n, const char* field) {
      if (n != 0 && n != e.ids.size())
        throw ValueError("batch_from_encodings: encoding " + std::to_string(i) + " has " +
                         std::to_string(e.ids.size()) + " ids but " + std::to_string(n) + " " + field);
    };
    check(e.type_ids.size(), "type_ids");
    check(e.attention_mask.size(), "attention_mask entries");
    ids.push_back(e.ids);
    any_types = any_types || !e.type_ids.empty();
    types.push_back(e.type_ids.empty() ? std::vector<int64_t>(e.ids.size(), 0) : e.type_ids);
    keep.push_back(e.attention_mask.empty() ? std::vector<int64_t>(e.ids.size(), 1) : e.attention_mask);
  }
  Batch batch;
  Padded p = pad_sequences(ids, pad_id, side, max_len);
  batch.input_ids = p.ids;
  // A real position is one the pad mask keeps and the encoding's own mask keeps.
  Tensor own = pad_values(keep, 0, side, max_len);
  batch.attention_mask = Tensor::empty(p.mask.shape(), DType::Bool);
  const bool* pm = p.mask.data<bool>();
  const int64_t* om = own.data<int64_t>();
  bool* out = batch.attention_mask.data<bool>();
  for (int64_t i = 0, n = p.mask.numel(); i < n; ++i) out[i] = pm[i] && om[i] != 0;
  if (any_types) batch.extra["token_type_ids"] = pad_values(types, 0, side, max_len);
  return batch;
}

}  // namespace qkv::data
