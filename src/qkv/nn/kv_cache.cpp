// KVCache: preallocated per-layer key/value rows (see qkv/nn/kv_cache.h).
#include "qkv/nn/kv_cache.h"

#include <algorithm>
#include <string>
#include <utility>

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

namespace {
// Rows `rows` of a (B,capacity,C) slot with only positions [0, len) copied:
// the rest is never read before append() overwrites it.
Tensor take_filled_rows(const Tensor& t, const std::vector<int64_t>& rows, int64_t len) {
  NoGradGuard ng;
  Tensor out = Tensor::empty({static_cast<int64_t>(rows.size()), t.size(1), t.size(2)}, t.dtype());
  if (len > 0)
    for (size_t b = 0; b < rows.size(); ++b)
      out.select(0, static_cast<int64_t>(b)).narrow(0, 0, len).copy_(t.select(0, rows[b]).narrow(0, 0, len));
  return out;
}

// Copies rows [0,B) of `from` (positions [0,len)) into rows [row0, row0+B) of
// `to`, right-aligned at L: positions [L−len, L) ← [0, len), [0, L−len) ← 0.
void place_right_aligned(Tensor& to, int64_t row0, const Tensor& from, int64_t len, int64_t L) {
  const int64_t B = from.size(0);
  Tensor dst = to.narrow(0, row0, B);
  if (L > len) dst.narrow(1, 0, L - len).fill_(0.0f);
  if (len > 0) dst.narrow(1, L - len, len).copy_(from.narrow(1, 0, len));
}
}  // namespace

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
    l.k = take_filled_rows(l.k, rows, l.len);
    l.v = take_filled_rows(l.v, rows, l.len);
  }
  batch_ = static_cast<int64_t>(rows.size());
}

void KVCache::append_rows(const KVCache& other) {
  const auto bad = [](const std::string& why) { throw ValueError("KVCache::append_rows: " + why); };
  if (n_self_ != num_layers() || other.n_self_ != other.num_layers()) bad("caches with cross-attention slots cannot join");
  if (other.num_layers() != num_layers() || other.capacity_ != capacity_)
    bad("the caches differ (" + std::to_string(num_layers()) + " vs " + std::to_string(other.num_layers()) +
        " slots, capacity " + std::to_string(capacity_) + " vs " + std::to_string(other.capacity_) + ")");
  NoGradGuard ng;
  const int64_t L = std::max(length(), other.length()), B = batch_ + other.batch_;
  for (int64_t i = 0; i < n_self_; ++i) {
    LayerKV& a = layers_[static_cast<size_t>(i)];
    const LayerKV& b = other.layers_[static_cast<size_t>(i)];
    if (a.k.size(2) != b.k.size(2))
      bad("slot " + std::to_string(i) + " widths differ (" + std::to_string(a.k.size(2)) + " vs " +
          std::to_string(b.k.size(2)) + ")");
    for (auto [mine, theirs] : {std::pair<Tensor*, const Tensor*>{&a.k, &b.k}, {&a.v, &b.v}}) {
      Tensor joined = Tensor::empty({B, capacity_, mine->size(2)}, mine->dtype());
      place_right_aligned(joined, 0, *mine, a.len, L);
      place_right_aligned(joined, batch_, *theirs, b.len, L);
      *mine = joined;
    }
    a.len = L;
  }
  batch_ = B;
}

void KVCache::drop_front(int64_t n) {
  if (n < 0 || n > length())
    throw ValueError("KVCache::drop_front: " + std::to_string(n) + " positions out of range for length " +
                     std::to_string(length()));
  if (n == 0) return;
  NoGradGuard ng;
  for (int64_t i = 0; i < n_self_; ++i) {
    LayerKV& l = layers_[static_cast<size_t>(i)];
    for (Tensor* t : {&l.k, &l.v}) {
      Tensor shifted = Tensor::empty(t->shape(), t->dtype());
      shifted.narrow(1, 0, l.len - n).copy_(t->narrow(1, n, l.len - n));
      *t = shifted;
    }
    l.len -= n;
  }
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
