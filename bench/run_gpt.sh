#!/usr/bin/env bash
# Runs qkv's GPT benchmarks (bench/qkv_bench_gpt.cpp) and the PyTorch peer
# (bench/peers/torch_gpt.py) in the same command and prints ratios
# (bench/compare.py): training step for nanoGPT's CPU config at 1 and 2 threads
# and for the GPT-2 124M shape at 2 threads, greedy generation (128 new tokens
# after 16, with and without the KV cache) at 2 threads, then peak RSS of 124M
# training steps, each side in a process of its own.
#   bench/run_gpt.sh [BUILD_DIR]
#   env: REPS=5 GEN_REPS=3 RSS_STEPS=3 PEER_POLICIES="passive active spin1000"
# (under contention the peer's `active` run collapses and the no-cache
# generation then takes minutes per rep: PEER_POLICIES=passive skips it.)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
REPS=${REPS:-5}
GEN_REPS=${GEN_REPS:-3}
RSS_STEPS=${RSS_STEPS:-3}
PEER_POLICIES=${PEER_POLICIES:-passive active spin1000}
OUT=$(mktemp /tmp/qkv-bench-gpt.XXXXXX.jsonl)
# qkv runs with its own default wait policy (GOMP_SPINCOUNT=1000, set by
# ensure_wait_policy); the peer gets each policy, qkv's included.
unset OMP_WAIT_POLICY GOMP_SPINCOUNT

# The peer at its best (bench/peers/README.md): OpenBLAS's OpenMP build, its
# AVX-512 kernels, and each wait policy — compare.py keeps the faster run.
# A policy is passive, active, or spinN (GOMP_SPINCOUNT=N, qkv's default kind).
peer() {
  local policy=$1; shift
  local wait=(OMP_WAIT_POLICY=$policy)
  [[ $policy == spin* ]] && wait=(GOMP_SPINCOUNT=${policy#spin})
  env "${wait[@]}" OPENBLAS_CORETYPE=Cooperlake \
    LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp \
    /usr/bin/python3 bench/peers/torch_gpt.py --json "$@" | tee -a "$OUT"
}

echo "# machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(date -u '+%F %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# jsonl: $OUT"
"$BUILD/bin/qkv_bench_gpt" --threads 2 --json --reps "$REPS" --gen-reps "$GEN_REPS" train_step generate | tee -a "$OUT"
for policy in $PEER_POLICIES; do
  peer $policy --threads 2 --reps "$REPS" --gen-reps "$GEN_REPS" train_step generate
done
"$BUILD/bin/qkv_bench_gpt" --threads 1 --json --reps "$REPS" --configs nanogpt train_step | tee -a "$OUT"
for policy in $PEER_POLICIES; do
  peer $policy --threads 1 --reps "$REPS" --configs nanogpt train_step
done
# Peak RSS: one process per side doing only RSS_STEPS 124M training steps.
"$BUILD/bin/qkv_bench_gpt" --threads 2 --json --reps "$RSS_STEPS" rss | tee -a "$OUT"
peer passive --threads 2 --reps "$RSS_STEPS" rss
echo "# done $(date -u '+%H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
bench/compare.py "$OUT"
