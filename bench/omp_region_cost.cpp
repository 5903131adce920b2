// What one OpenMP parallel region costs under the current wait policy: an
// empty `#pragma omp parallel` on 2 threads after a serial gap of various
// lengths, minus the gap alone. Standalone (no qkv code):
//   g++ -O2 -fopenmp bench/omp_region_cost.cpp -o /tmp/omp_region_cost
//   OMP_WAIT_POLICY=passive /tmp/omp_region_cost; GOMP_SPINCOUNT=1000 /tmp/omp_region_cost
#include <omp.h>

#include <chrono>
#include <cstdio>
#include <initializer_list>

int main() {
  using Clock = std::chrono::steady_clock;
  omp_set_num_threads(2);
  volatile int sink = 0;
  for (int gap : {200, 1000, 3000, 10000, 30000, 100000}) {
    const int n = 3000;
    auto t0 = Clock::now();
    for (int i = 0; i < n; ++i) {
#pragma omp parallel
      { sink = sink + 1; }
      for (volatile int k = 0; k < gap; ++k) {
      }
    }
    auto t1 = Clock::now();
    for (int i = 0; i < n; ++i)
      for (volatile int k = 0; k < gap; ++k) {
      }
    auto t2 = Clock::now();
    const double with = std::chrono::duration<double, std::micro>(t1 - t0).count() / n;
    const double alone = std::chrono::duration<double, std::micro>(t2 - t1).count() / n;
    std::printf("gap %7.2f us: region costs %7.2f us\n", alone, with - alone);
  }
}
