#include "qkv/core/allocator.h"

#include <cstdlib>
#include <mutex>
#include <new>
#include <string>
#include <unordered_map>
#include <vector>

#include "qkv/core/error.h"

namespace qkv {
namespace {

// Under AddressSanitizer every block has its exact size and goes straight
// back to the system: rounding would hide a write past a tensor's end inside
// the slack, and a cached block would hide a use after free.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kCaching = false;
#else
constexpr bool kCaching = true;
#endif

size_t round_size(size_t n) {
  if (n == 0) n = 1;
  if (!kCaching) return n;
  if (n < (1u << 20)) return (n + kAlignment - 1) / kAlignment * kAlignment;
  size_t p = 1;
  while (p < n) p <<= 1;
  size_t step = p / 16;  // p/2 < n <= p, steps of p/16 → waste ≤ 12.5%
  return (n + step - 1) / step * step;
}

size_t cache_limit() {
  static const size_t lim = [] {
    const char* e = std::getenv("QKV_CACHE_LIMIT_MB");
    size_t mb = e ? std::strtoull(e, nullptr, 10) : 4096;
    return mb << 20;
  }();
  return lim;
}

struct Cache {
  std::mutex mu;
  std::unordered_map<size_t, std::vector<void*>> free_lists;
  AllocatorStats stats;
};

Cache& cache() {
  static Cache* c = new Cache();  // never destroyed: storage may outlive statics
  return *c;
}

}  // namespace

void* storage_alloc(size_t nbytes) {
  size_t sz = round_size(nbytes);
  Cache& c = cache();
  {
    std::lock_guard<std::mutex> lock(c.mu);
    auto it = c.free_lists.find(sz);
    if (it != c.free_lists.end() && !it->second.empty()) {
      void* p = it->second.back();
      it->second.pop_back();
      c.stats.cache_hits++;
      c.stats.bytes_cached -= sz;
      c.stats.bytes_in_use += sz;
      return p;
    }
    c.stats.system_allocs++;
    c.stats.bytes_in_use += sz;
  }
  void* p = nullptr;
  if (posix_memalign(&p, kAlignment, sz) != 0) p = nullptr;  // (aligned_alloc wants sz % 64 == 0)
  if (!p) {
    std::lock_guard<std::mutex> lock(c.mu);
    c.stats.bytes_in_use -= sz;
    throw Error("out of memory allocating " + std::to_string(nbytes) + " bytes");
  }
  return p;
}

void storage_free(void* p, size_t nbytes) {
  if (!p) return;
  size_t sz = round_size(nbytes);
  Cache& c = cache();
  {
    std::lock_guard<std::mutex> lock(c.mu);
    c.stats.bytes_in_use -= sz;
    if (kCaching && c.stats.bytes_cached + sz <= cache_limit()) {
      c.free_lists[sz].push_back(p);
      c.stats.bytes_cached += sz;
      return;
    }
  }
  std::free(p);
}

bool allocator_caches() { return kCaching; }

AllocatorStats allocator_stats() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  return c.stats;
}

void allocator_empty_cache() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  for (auto& [sz, list] : c.free_lists)
    for (void* p : list) std::free(p);
  c.free_lists.clear();
  c.stats.bytes_cached = 0;
}

}  // namespace qkv
