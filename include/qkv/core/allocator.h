// qkv/core/allocator.h — 64-byte aligned storage from a caching allocator.
//
// Freed blocks go to a free list keyed by their (rounded) size and are handed
// out again, so a training loop that allocates the same shapes every step
// stops calling the system allocator after its first step. Sizes are rounded
// up to a multiple of 64 bytes below 1 MiB and to 1/8 of a power of two above,
// which bounds waste at 12.5%. The cache is capped (QKV_CACHE_LIMIT_MB, default
// 4096); blocks beyond the cap go back to the system. Under AddressSanitizer
// there is no rounding and no cache, so ASan sees every tensor's exact bounds
// and every use after free.
#pragma once
#include <cstddef>
#include <cstdint>

namespace qkv {

constexpr size_t kAlignment = 64;

struct AllocatorStats {
  uint64_t system_allocs = 0;  // calls that reached the system allocator
  uint64_t cache_hits = 0;     // calls served from the free lists
  size_t bytes_in_use = 0;     // handed out and not yet freed
  size_t bytes_cached = 0;     // held in free lists
};

void* storage_alloc(size_t nbytes);           // never returns null (throws)
void storage_free(void* p, size_t nbytes);    // nbytes as passed to storage_alloc
AllocatorStats allocator_stats();
bool allocator_caches();                      // false under AddressSanitizer (exact sizes, no cache)
void allocator_empty_cache();                 // release all cached blocks

}  // namespace qkv
