#include "qkv/tokenizers/bpe.h"

#include <atomic>
#include <cstdio>
#include <queue>

#include "qkv/core/error.h"
#include "qkv/tokenizers/byte_level.h"
#include "qkv/tokenizers/utf8.h"

namespace qkv::tokenizers {

namespace {

constexpr size_t kSmallWord = 64;       // up to here: plain scan for the best pair
constexpr size_t kMaxCachedWord = 256;  // longer words are not cached
constexpr size_t kMaxCacheEntries = 1 << 17;

std::atomic<uint64_t> next_uid{1};

inline uint64_t pair_key(int32_t a, int32_t b) { return uint64_t(uint32_t(a)) << 32 | uint32_t(b); }
inline uint64_t mix(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdULL;
  k ^= k >> 33;
  return k;
}

// One cache per thread (no locks); it follows whichever model used it last.
struct Cache {
  uint64_t uid = 0;
  StringMap<std::vector<Piece>> bytes, words;
};
Cache& thread_cache(uint64_t uid) {
  thread_local Cache cache;
  if (cache.uid != uid) {
    cache.uid = uid;
    cache.bytes.clear();
    cache.words.clear();
  }
  return cache;
}

}  // namespace

BpeModel::BpeModel(Vocab vocab, std::vector<Merge> merges, BpeOptions options, std::string_view source)
    : merges_(std::move(merges)), options_(std::move(options)), uid_(next_uid++) {
  vocab_ = std::move(vocab);
  size_t cap = 16;
  while (cap < merges_.size() * 2 + 2) cap <<= 1;
  table_.assign(cap, {~0ULL, {0, 0}});
  table_mask_ = cap - 1;
  const std::string& prefix = options_.continuing_subword_prefix;
  for (size_t r = 0; r < merges_.size(); ++r) {
    // (not a structured binding: clang 14, which builds fuzz/, cannot capture one in a lambda)
    const std::string& a = merges_[r].first;
    const std::string& b = merges_[r].second;
    auto where = [&] { return std::string(source) + ": merge " + std::to_string(r + 1) + " '" + a + " " + b + "'"; };
    auto ia = vocab_.find(a), ib = vocab_.find(b);
    if (!ia) throw ValueError(where() + ": token '" + a + "' is not in the vocabulary");
    if (!ib) throw ValueError(where() + ": token '" + b + "' is not in the vocabulary");
    std::string merged = a + (!prefix.empty() && b.starts_with(prefix) ? b.substr(prefix.size()) : b);
    auto im = vocab_.find(merged);
    if (!im) throw ValueError(where() + ": merged token '" + merged + "' is not in the vocabulary");
    uint64_t key = pair_key(*ia, *ib);
    for (uint64_t h = mix(key) & table_mask_;; h = (h + 1) & table_mask_) {
      if (table_[h].first == key) break;  // a repeated merge keeps its first (best) rank
      if (table_[h].first == ~0ULL) {
        table_[h] = {key, {int32_t(r), *im}};
        break;
      }
    }
  }
  byte_alphabet_ = true;
  for (int b = 0; b < 256; ++b) {
    auto id = vocab_.find(byte_to_utf8()[b]);
    byte_ids_[b] = id ? *id : -1;
    byte_alphabet_ = byte_alphabet_ && id.has_value();
  }
}

const BpeModel::MergeTarget* BpeModel::find_merge(int32_t a, int32_t b) const {
  uint64_t key = pair_key(a, b);
  for (uint64_t h = mix(key) & table_mask_;; h = (h + 1) & table_mask_) {
    const auto& slot = table_[h];
    if (slot.first == key) return &slot.second;
    if (slot.first == ~0ULL) return nullptr;
  }
}

void BpeModel::merge_symbols(std::vector<Symbol>& syms) const {
  if (syms.size() > kSmallWord) {
    merge_with_heap(syms);
    return;
  }
  while (syms.size() > 1) {
    int32_t best_rank = INT32_MAX, best_id = -1;
    size_t best = 0;
    for (size_t i = 0; i + 1 < syms.size(); ++i) {
      const MergeTarget* m = find_merge(syms[i].id, syms[i + 1].id);
      if (m && m->rank < best_rank) {
        best_rank = m->rank;
        best_id = m->id;
        best = i;
      }
    }
    if (best_id < 0) break;
    syms[best].id = best_id;
    syms[best].end = syms[best + 1].end;
    syms.erase(syms.begin() + ptrdiff_t(best) + 1);
  }
}

void BpeModel::merge_with_heap(std::vector<Symbol>& syms) const {
  const int n = int(syms.size());
  std::vector<int> prev(n), next(n);
  std::vector<bool> alive(n, true);
  for (int i = 0; i < n; ++i) {
    prev[i] = i - 1;
    next[i] = i + 1 < n ? i + 1 : -1;
  }
  struct Cand {
    int32_t rank;
    int pos;
    int32_t id;
    bool operator>(const Cand& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  std::priority_queue<Cand, std::vector<Cand>, std::greater<Cand>> heap;
  auto push = [&](int i) {
    if (i < 0 || next[i] < 0) return;
    if (const MergeTarget* m = find_merge(syms[i].id, syms[next[i]].id)) heap.push({m->rank, i, m->id});
  };
  for (int i = 0; i + 1 < n; ++i) push(i);
  while (!heap.empty()) {
    Cand c = heap.top();
    heap.pop();
    int i = c.pos;
    if (!alive[i] || next[i] < 0) continue;
    int j = next[i];
    const MergeTarget* m = find_merge(syms[i].id, syms[j].id);
    if (!m || m->rank != c.rank || m->id != c.id) continue;  // stale entry
    syms[i].id = c.id;
    syms[i].end = syms[j].end;
    alive[j] = false;
    next[i] = next[j];
    if (next[j] >= 0) prev[next[j]] = i;
    push(prev[i]);
    push(i);
  }
  size_t w = 0;
  for (int i = 0; i < n; ++i)
    if (alive[i]) syms[w++] = syms[i];
  syms.resize(w);
}

void BpeModel::tokenize_bytes(std::string_view bytes, std::vector<Piece>& out) const {
  if (bytes.empty()) return;
  if (!byte_alphabet_) throw ValueError("BPE: the vocabulary lacks some of the 256 byte-level tokens");
  const bool cacheable = bytes.size() <= kMaxCachedWord;
  Cache* cache = nullptr;
  if (cacheable) {
    cache = &thread_cache(uid_);
    if (auto it = cache->bytes.find(bytes); it != cache->bytes.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  if (bytes.size() == 1) {
    out.push_back({byte_ids_[static_cast<unsigned char>(bytes[0])], 0, 1});
    return;
  }
  std::vector<Symbol> syms(bytes.size());
  for (size_t i = 0; i < bytes.size(); ++i)
    syms[i] = {byte_ids_[static_cast<unsigned char>(bytes[i])], uint32_t(i), uint32_t(i + 1)};
  merge_symbols(syms);
  size_t first = out.size();
  for (const Symbol& s : syms) out.push_back({s.id, s.start, s.end});
  if (cacheable) {
    if (cache->bytes.size() >= kMaxCacheEntries) cache->bytes.clear();
    cache->bytes.emplace(std::string(bytes), std::vector<Piece>(out.begin() + ptrdiff_t(first), out.end()));
  }
}

void BpeModel::tokenize(std::string_view word, std::vector<Piece>& out) const {
  if (word.empty()) return;
  if (options_.ignore_merges) {
    if (auto id = vocab_.find(word)) {
      out.push_back({*id, 0, uint32_t(word.size())});
      return;
    }
  }
  const bool cacheable = word.size() <= kMaxCachedWord;
  Cache* cache = nullptr;
  if (cacheable) {
    cache = &thread_cache(uid_);
    if (auto it = cache->words.find(word); it != cache->words.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  std::vector<Symbol> syms;
  std::optional<int32_t> unk = options_.unk_token ? vocab_.find(*options_.unk_token) : std::nullopt;
  bool last_unk = false;
  std::string key;
  for (size_t i = 0; i < word.size();) {
    Utf8Char c = next_char(word, i);
    uint32_t s = uint32_t(i), e = uint32_t(i + c.len);
    key.clear();
    if (i > 0) key += options_.continuing_subword_prefix;
    key.append(word.substr(i, c.len));
    if (e == word.size()) key += options_.end_of_word_suffix;
    i = e;
    if (auto id = vocab_.find(key)) {
      syms.push_back({*id, s, e});
      last_unk = false;
      continue;
    }
    if (options_.byte_fallback) {
      std::vector<Symbol> bytes;
      for (uint32_t k = s; k < e; ++k) {
        char name[8];
        std::snprintf(name, sizeof name, "<0x%02X>", unsigned(static_cast<unsigned char>(word[k])));
        if (auto id = vocab_.find(name)) bytes.push_back({*id, k, k + 1});
      }
      if (bytes.size() == e - s) {
        syms.insert(syms.end(), bytes.begin(), bytes.end());
        last_unk = false;
        continue;
      }
    }
    if (!unk) continue;  // no unk token: the character is dropped (as Hugging Face does)
    if (options_.fuse_unk && last_unk) {
      syms.back().end = e;
    } else {
      syms.push_back({*unk, s, e});
    }
    last_unk = true;
  }
  merge_symbols(syms);
  size_t first = out.size();
  for (const Symbol& s : syms) out.push_back({s.id, s.start, s.end});
  if (cacheable) {
    if (cache->words.size() >= kMaxCacheEntries) cache->words.clear();
    cache->words.emplace(std::string(word), std::vector<Piece>(out.begin() + ptrdiff_t(first), out.end()));
  }
}

}  // namespace qkv::tokenizers
