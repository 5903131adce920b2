// qkv/core/threading.h — one thread count for every threaded library.
//
// qkv runs its kernels with OpenMP and its GEMM through a BLAS that has its own
// threads; set_num_threads() sets both (the GEMM follows through
// on_num_threads_change, so core knows nothing of kernels). The default is QKV_NUM_THREADS if set,
// else the number of physical cores.
//
// Waiting between parallel regions: libgomp's default spins for ~300000
// rounds, which makes 2-thread runs several times slower than 1-thread runs
// when the scheduler gives the process one core; OMP_WAIT_POLICY=passive
// sleeps at once, and on this KVM guest each futex wake-up then costs ~57 µs
// per parallel region — a third of a small model's training step. A bounded
// spin (GOMP_SPINCOUNT=kDefaultSpinCount, ~55 ns a round here) keeps the
// wake-ups of back-to-back regions cheap and still sleeps soon when the other
// thread is not running (bench/RESULTS.md, "Wait policy"). libgomp reads these
// variables once, when it is loaded, so a process must have them in its
// environment from the start: the `qkv` program and the benchmarks re-execute
// themselves with GOMP_SPINCOUNT set when the user has set neither variable
// (ensure_wait_policy); tests run with OMP_WAIT_POLICY=passive (ctest runs
// them in parallel).
#pragma once

namespace qkv {

int num_threads();
void set_num_threads(int n);
// A library with its own threads (the GEMM backend in kernels/) registers a
// function here to follow the count: it is called with the count when the
// count is first set (lazily, at the first num_threads()/set_num_threads()
// call — at once if that has already happened) and on every set_num_threads().
// Registrations usually run during static initialisation.
using ThreadCountListener = void (*)(int n);
void on_num_threads_change(ThreadCountListener fn);
int physical_cores();
inline constexpr const char* kDefaultSpinCount = "1000";
// If neither OMP_WAIT_POLICY nor GOMP_SPINCOUNT is set: sets GOMP_SPINCOUNT to
// kDefaultSpinCount and re-executes the running program (argv as given) so
// the OpenMP runtime sees it. Returns only when nothing needed doing (or
// re-exec failed, which is harmless). QKV_NO_REEXEC=1 disables it.
void ensure_wait_policy(char** argv);

}  // namespace qkv
