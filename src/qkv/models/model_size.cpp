// A model's float32 weights against the machine's memory (see qkv/models/model_size.h).
#include "qkv/models/model_size.h"

#include <unistd.h>

#include <cstdio>

#include "qkv/core/error.h"

namespace qkv::models {
namespace {

std::string human_bytes(double b) {
  const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  int u = 0;
  while (b >= 1024 && u < 6) b /= 1024, ++u;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f %s", b, units[u]);
  return buf;
}

}  // namespace

double physical_memory_bytes() {
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  return pages > 0 && page > 0 ? static_cast<double>(pages) * static_cast<double>(page) : 0.0;
}

void check_fits_in_memory(double params, const std::string& who) {
  const double bytes = params * 4.0, mem = physical_memory_bytes();
  if (mem > 0 && bytes > mem) {
    char n[64];
    std::snprintf(n, sizeof n, "%.3g", params);
    throw ValueError(who + ": these sizes make " + n + " parameters (" + human_bytes(bytes) +
                     " as float32), which do not fit in this machine's " + human_bytes(mem) + " of memory");
  }
}

}  // namespace qkv::models
