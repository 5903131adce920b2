// KVCache: preallocated per-layer key/value rows (see qkv/nn/kv_cache.h).
#include "qkv/nn/kv_cache.h"

#include <string>

#include "qkv/autograd/autograd.h"

namespace qkv::nn {

namespace {
void check_rows(const Tensor& t, const char* what, int64_t B, int64_t C) {
  if (t.dim() != 3 || t.size(0) != B || (C > 0 && t.size(2) != C))
    throw ShapeError(std::string("KVCache: ") + what + " must be (" + std::to_string(B) + ",T," +
                     (C > 0 ? std::to_string(C) : std::string("C")) + "), got " + shape_str(t.shape()));
}
}  // namespace

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

void LayerKV::append(const Tensor& k_new, const Tensor& v_new) {
  if (!k.defined()) throw ValueError("KVCache: this slot was not allocated (a cross-attention slot?)");
  check_rows(k_new, "new keys", k.size(0), k.size(2));
  check_rows(v_new, "new values", v.size(0), v.size(2));
  const int64_t T = k_new.size(1);
  if (len + T > capacity())
    throw ValueError("KVCache: " + std::to_string(len) + " cached + " + std::to_string(T) +
                     " new positions exceed its capacity of " + std::to_string(capacity()));
  NoGradGuard ng;
  k.narrow(1, len, T).copy_(k_new);
  v.narrow(1, len, T).copy_(v_new);
  len += T;
}

void LayerKV::assign(const Tensor& k_all, const Tensor& v_all) {
  NoGradGuard ng;
  k = k_all.detach().contiguous();
  v = v_all.detach().contiguous();
  len = k.size(1);
}

KVCache::KVCache(int64_t batch, int64_t capacity, int64_t width, int64_t n_self, int64_t n_cross)
    : batch_(batch), capacity_(capacity), n_self_(n_self) {
  if (batch <= 0 || capacity <= 0 || width <= 0 || n_self < 0 || n_cross < 0)
    throw ValueError("KVCache: batch, capacity and width must be > 0 (got " + std::to_string(batch) + ", " +
                     std::to_string(capacity) + ", " + std::to_string(width) + ")");
  layers_.resize(static_cast<size_t>(n_self + n_cross));
  for (int64_t i = 0; i < n_self; ++i) {
    layers_[i].k = zeros({batch, capacity, width});
    layers_[i].v = zeros({batch, capacity, width});
  }
}

LayerKV& KVCache::layer(int64_t i) {
  if (i < 0 || i >= num_layers())
    throw ValueError("KVCache: layer " + std::to_string(i) + " out of range (" + std::to_string(num_layers()) +
                     " slots)");
  return layers_[static_cast<size_t>(i)];
}

void KVCache::reorder(const std::vector<int64_t>& rows) {
  if (rows.empty()) throw ValueError("KVCache::reorder: no rows given");
  for (int64_t r : rows)  // checked before any slot changes
    if (r < 0 || r >= batch_)
      throw ValueError("KVCache::reorder: row " + std::to_string(r) + " out of range for batch " +
                       std::to_string(batch_));
  for (int64_t i = 0; i < n_self_; ++i) {
    LayerKV& l = layers_[static_cast<size_t>(i)];
    l.k = take_rows(l.k, rows);
    l.v = take_rows(l.v, rows);
  }
  batch_ = static_cast<int64_t>(rows.size());
}

void KVCache::reorder_cross(const std::vector<int64_t>& sentences) {
  if (sentences.empty()) throw ValueError("KVCache::reorder_cross: no rows given");
  for (int64_t i = n_self_; i < num_layers(); ++i) {
    LayerKV& l = layers_[static_cast<size_t>(i)];
    if (!l.k.defined()) continue;
    l.k = take_rows(l.k, sentences);  // throws naming a row out of range (first slot: nothing changed yet)
    l.v = take_rows(l.v, sentences);
  }
}

void KVCache::clear() {
  for (int64_t i = 0; i < num_layers(); ++i) {
    LayerKV& l = layers_[static_cast<size_t>(i)];
    l.len = 0;
    if (i >= n_self_) l.k = l.v = Tensor();  // a cross slot: refilled on next use
  }
}

}  // namespace qkv::nn
