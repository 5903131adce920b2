#include "isa.h"

#include <atomic>

#include "qkv/core/cpu.h"

namespace qkv::kernels::detail {
namespace {

std::atomic<bool> g_force_avx2{false};

Isa detect() {
  const CpuFeatures& f = cpu_features();
  Isa i;
  i.avx512 = f.avx512f && f.avx512bw && f.avx512vl && __builtin_cpu_supports("avx512dq") && f.fma;
  i.vnni = i.avx512 && f.avx512_vnni;
  i.bf16 = i.avx512 && f.avx512_bf16;
  return i;
}

}  // namespace

Isa isa() {
  static const Isa detected = detect();
  return g_force_avx2.load(std::memory_order_relaxed) ? Isa{} : detected;
}

void force_avx2(bool on) { g_force_avx2.store(on, std::memory_order_relaxed); }

}  // namespace qkv::kernels::detail
