// qkv/models/model_size.h — a config's size checked before anything is
// allocated: a typo such as n_layer 1000000000 or n_embd 2^61 must fail with
// the size it asks for, not wrap an allocation or stall building a billion
// layers.
#pragma once
#include <string>

namespace qkv::models {

// This machine's physical memory in bytes (sysconf), or 0 when unknown.
double physical_memory_bytes();
// ValueError "<who>: … <params> parameters (<bytes> as float32) do not fit in
// this machine's <mem> of memory" when the float32 weights alone exceed the
// physical memory. `params` is computed by the caller in double, so no
// product of fields can overflow on the way.
void check_fits_in_memory(double params, const std::string& who);

}  // namespace qkv::models
