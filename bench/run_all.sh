#!/usr/bin/env bash
# Runs qkv's op benchmarks and the PyTorch peer in the same command, at 1 and
# 2 threads, and prints ratios (bench/compare.py). Then the thread-collapse
# check under a competing load. Needs `scripts/setup.sh --bench` (python3-torch).
#   bench/run_all.sh [BUILD_DIR] [CASES...]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
shift || true
CASES=${*:-attention gemm softmax layernorm gelu add}
OUT=$(mktemp /tmp/qkv-bench.XXXXXX.jsonl)
unset OMP_WAIT_POLICY GOMP_SPINCOUNT  # qkv: its default (GOMP_SPINCOUNT=1000)

echo "# machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(date -u +%F)"
echo "# qkv: $($BUILD/bin/qkv info | sed -n 's/^gemm: *//p')"
for t in 1 2; do
  "$BUILD/bin/qkv_bench" --threads "$t" --json $CASES | tee -a "$OUT"
  # The peer at its best (bench/peers/README.md): OpenBLAS's OpenMP build (one
  # thread pool shared with torch), its AVX-512 kernels, and each wait policy —
  # compare.py keeps the faster run of each case.
  for policy in passive active spin1000; do
    wait=(OMP_WAIT_POLICY=$policy)
    [[ $policy == spin* ]] && wait=(GOMP_SPINCOUNT=${policy#spin})
    env "${wait[@]}" OPENBLAS_CORETYPE=Cooperlake \
      LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp \
      /usr/bin/python3 bench/peers/torch_ops.py --threads "$t" --json $CASES | tee -a "$OUT"
  done
done
echo
bench/compare.py "$OUT"
echo
bench/threads_under_load.sh "$BUILD"
