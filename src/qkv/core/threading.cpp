#include "qkv/core/threading.h"

#include <omp.h>
#include <unistd.h>

#include <cstdlib>
#include <atomic>
#include <fstream>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace qkv {
namespace {

int initial_threads() {
  if (const char* e = std::getenv("QKV_NUM_THREADS")) {
    int n = std::atoi(e);
    if (n > 0) return n;
  }
  return physical_cores();
}

// Libraries with their own thread pools (the GEMM backend) register here; core
// knows nothing of them (docs/ARCHITECTURE.md, Layers).
struct Listeners {
  std::mutex mu;
  std::vector<ThreadCountListener> fns;
  std::atomic<bool> initialised{false};  // thread_setting() has run
};
Listeners& listeners() {
  static Listeners l;  // constructed on first use: registrations run during static initialisation
  return l;
}

void notify(int n) {
  std::vector<ThreadCountListener> fns;
  {
    std::lock_guard<std::mutex> lock(listeners().mu);
    fns = listeners().fns;
  }
  for (ThreadCountListener fn : fns) fn(n);
}

int& thread_setting() {
  static int n = [] {
    int v = initial_threads();
    omp_set_num_threads(v);
    notify(v);
    listeners().initialised = true;
    return v;
  }();
  return n;
}

}  // namespace

int physical_cores() {
  // Count distinct (physical id, core id) pairs; fall back to online CPUs.
  std::ifstream f("/proc/cpuinfo");
  std::set<std::pair<std::string, std::string>> cores;
  std::string line, phys = "0";
  while (std::getline(f, line)) {
    auto val = [&] { auto p = line.find(':'); return p == std::string::npos ? "" : line.substr(p + 2); };
    if (line.rfind("physical id", 0) == 0) phys = val();
    if (line.rfind("core id", 0) == 0) cores.insert({phys, val()});
  }
  if (!cores.empty()) return static_cast<int>(cores.size());
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<int>(n) : 1;
}

int num_threads() { return thread_setting(); }

void set_num_threads(int n) {
  if (n < 1) n = 1;
  thread_setting() = n;
  omp_set_num_threads(n);
  notify(n);
}

void on_num_threads_change(ThreadCountListener fn) {
  {
    std::lock_guard<std::mutex> lock(listeners().mu);
    listeners().fns.push_back(fn);
  }
  // Registered after the count was first set: catch up now. Otherwise the
  // first num_threads()/set_num_threads() call will tell it.
  if (listeners().initialised) fn(thread_setting());
}

void ensure_wait_policy(char** argv) {
  // A user who chose a wait policy or a spin count keeps it.
  if (std::getenv("OMP_WAIT_POLICY") || std::getenv("GOMP_SPINCOUNT") || std::getenv("QKV_NO_REEXEC")) return;
  setenv("GOMP_SPINCOUNT", kDefaultSpinCount, 1);
  execv("/proc/self/exe", argv);  // only returns on failure; carry on then
}

}  // namespace qkv
