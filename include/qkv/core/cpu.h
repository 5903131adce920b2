// qkv/core/cpu.h — what the CPU can do (for dispatch and for `qkv --version`).
#pragma once
#include <string>

namespace qkv {

struct CpuFeatures {
  bool avx2 = false, fma = false, avx512f = false, avx512bw = false, avx512vl = false,
       avx512_bf16 = false, avx512_vnni = false, amx_tile = false, amx_bf16 = false;
  std::string model;  // e.g. "AMD EPYC 9R14"
};

const CpuFeatures& cpu_features();
// "avx2 fma avx512f avx512bw avx512vl avx512_bf16 ..." — the detected ones.
std::string cpu_features_string();

}  // namespace qkv
