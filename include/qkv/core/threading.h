// qkv/core/threading.h — one thread count for every threaded library.
//
// qkv runs its kernels with OpenMP and its GEMM through a BLAS that has its own
// threads; set_num_threads() sets both. The default is QKV_NUM_THREADS if set,
// else the number of physical cores.
//
// Shared machines: libgomp spin-waits by default, which makes 2-thread runs
// several times slower than 1-thread runs when the scheduler gives the process
// one core. libgomp reads OMP_WAIT_POLICY once, when it is loaded, so a process
// must have it in its environment from the start: the `qkv` program re-executes
// itself with OMP_WAIT_POLICY=passive when the user has not set it
// (ensure_passive_wait_policy), and tests/benchmarks set it in their command.
#pragma once

namespace qkv {

int num_threads();
void set_num_threads(int n);
int physical_cores();
// If neither OMP_WAIT_POLICY nor GOMP_SPINCOUNT is set: sets OMP_WAIT_POLICY
// to passive and re-executes the running program (argv as given) so the
// OpenMP runtime sees it. Returns only when
// nothing needed doing (or re-exec failed, which is harmless). QKV_NO_REEXEC=1
// disables it.
void ensure_passive_wait_policy(char** argv);

}  // namespace qkv
