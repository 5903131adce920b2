// qkv/nn/kv_cache.h — the one key/value cache for incremental decoding.
//
// Each attention layer that decodes incrementally owns one LayerKV slot: its
// keys and values as (B, capacity, C) rows with the heads side by side (the
// layout the projections produce), filled up to `len`. Self-attention slots
// are preallocated to the model's longest context and appended to in place;
// cross-attention slots start empty and are filled once from the encoder
// output (their capacity is the source length). reorder() permutes or
// duplicates the self-attention rows — what beam search does after every
// step. Cross-attention slots keep one row per source sentence, however many
// beams read it: the beams of a sentence share its keys/values instead of
// each holding a copy (which row reads which sentence is the caller's
// business: models::DecodeState::source_rows); reorder_cross() drops or
// reorders those sentence rows.
#pragma once
#include <cstdint>
#include <vector>

#include "qkv/core/tensor.h"

namespace qkv::nn {

struct LayerKV {
  Tensor k, v;       // (B, capacity, C); undefined until allocated or filled
  int64_t len = 0;   // positions [0, len) hold keys/values
  int64_t capacity() const { return k.defined() ? k.size(1) : 0; }
  // Writes k_new, v_new (B,T,C) at positions [len, len+T); ValueError when
  // they do not fit. Returns nothing; read back with keys()/values().
  void append(const Tensor& k_new, const Tensor& v_new);
  // Stores a whole (B,S,C) set at once (cross-attention), len = S.
  void assign(const Tensor& k_all, const Tensor& v_all);
  Tensor keys() const { return k.narrow(1, 0, len); }    // (B,len,C) view
  Tensor values() const { return v.narrow(1, 0, len); }  // (B,len,C) view
};

class KVCache {
 public:
  KVCache() = default;
  // n_self preallocated self-attention slots (B, capacity, width) and n_cross
  // empty cross-attention slots, in that order.
  KVCache(int64_t batch, int64_t capacity, int64_t width, int64_t n_self, int64_t n_cross = 0);
  LayerKV& layer(int64_t i);
  int64_t num_layers() const { return static_cast<int64_t>(layers_.size()); }
  int64_t batch() const { return batch_; }
  int64_t capacity() const { return capacity_; }
  // Positions decoded so far (the first self-attention slot's length).
  int64_t length() const { return layers_.empty() ? 0 : layers_[0].len; }
  // Row b of every self-attention slot becomes old row rows[b] (ids in
  // [0, batch)); the batch becomes rows.size(). Beam search: keep, drop or
  // duplicate hypotheses. Cross-attention slots are not touched.
  void reorder(const std::vector<int64_t>& rows);
  // Continuous batching (generate/continuous.h). The rows of `other` (a
  // cache of self-attention slots only, like this one: same slots, width and
  // capacity) are appended below this cache's rows; both sides are
  // right-aligned to the longer length, the shorter side's leading positions
  // zeroed (they are left padding, masked out, and must not hold NaN: masked
  // attention multiplies them by 0).
  void append_rows(const KVCache& other);
  // Forgets the first n positions of every row: positions [n, len) become
  // [0, len − n) (continuous batching drops left padding no row needs).
  void drop_front(int64_t n);
  // Row i of every filled cross-attention slot becomes old row sentences[i]
  // (e.g. finished sentences leave; ValueError for a row out of range).
  void reorder_cross(const std::vector<int64_t>& sentences);
  // Forget every position (memory kept); cross slots are emptied too.
  void clear();

 private:
  std::vector<LayerKV> layers_;
  int64_t batch_ = 0, capacity_ = 0, n_self_ = 0;
};

// Rows `rows` of a (B,…) tensor, in that order, as a new tensor (no
// gradient); ValueError naming a row outside [0, B).
Tensor take_rows(const Tensor& t, const std::vector<int64_t>& rows);

}  // namespace qkv::nn
