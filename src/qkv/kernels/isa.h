// Private: which SIMD path the runtime-dispatched kernels (gemv, qgemv) take,
// and the function attributes that compile one function for AVX-512 while the
// rest of the library stays at the x86-64-v3 baseline (AVX2 + FMA).
#pragma once

// AVX-512 F/BW/VL (+ DQ for the float↔int conversions GCC may pick), and the
// two extensions the quantized dot products need.
#define QKV_TARGET_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma")))
#define QKV_TARGET_AVX512_VNNI \
  __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,fma")))
#define QKV_TARGET_AVX512_BF16 \
  __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16,fma")))

namespace qkv::kernels::detail {

struct Isa {
  bool avx512 = false;  // F + BW + VL + DQ
  bool vnni = false;    // avx512_vnni (vpdpbusd), implies avx512
  bool bf16 = false;    // avx512_bf16 (vdpbf16ps), implies avx512
};

// What the CPU has, unless a test forced the AVX2 paths.
Isa isa();
// Tests: true makes isa() report no AVX-512 so the AVX2 fallbacks run on an
// AVX-512 machine; false restores detection.
void force_avx2(bool on);

}  // namespace qkv::kernels::detail
