#!/usr/bin/env bash
# Greedy generation with the KV cache on the GPT-2 124M shape (16-token prompt,
# 128 new tokens, 2 threads): qkv with f32, bf16 and int8 weights
# (qkv_bench_gpt --weights) against the PyTorch peer (f32, addmv/mv decode) in
# the same command; bench/compare.py prints torch/qkv (a quantized qkv row is
# compared with torch's f32 row). Then the decoding products alone
# (qkv_bench_gemv: read bandwidth, GEMV against sgemm, bf16/int8 qgemv).
#   bench/run_generate.sh [BUILD_DIR]
#   env: GEN_REPS=3 PEER_POLICIES="passive active spin1000" GEMV=1 (0 skips qkv_bench_gemv)
# qkv keeps the caller's OpenMP wait settings (e.g. OMP_WAIT_POLICY=passive);
# the peer runs once per policy and compare.py keeps its faster run.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
GEN_REPS=${GEN_REPS:-3}
PEER_POLICIES=${PEER_POLICIES:-passive active spin1000}
GEMV=${GEMV:-1}
OUT=$(mktemp /tmp/qkv-bench-generate.XXXXXX.jsonl)

peer() {  # as bench/run_gpt.sh: OpenMP OpenBLAS with its AVX-512 kernels, one wait policy
  local policy=$1; shift
  local wait=(OMP_WAIT_POLICY=$policy)
  [[ $policy == spin* ]] && wait=(GOMP_SPINCOUNT=${policy#spin})
  env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT "${wait[@]}" OPENBLAS_CORETYPE=Cooperlake \
    LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp \
    /usr/bin/python3 bench/peers/torch_gpt.py --json "$@" | tee -a "$OUT"
}

echo "# machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(date -u '+%F %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# qkv wait: OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-unset} GOMP_SPINCOUNT=${GOMP_SPINCOUNT:-unset}; jsonl: $OUT"
"$BUILD/bin/qkv_bench_gpt" --threads 2 --json --reps 1 --gen-reps "$GEN_REPS" --configs gpt2 --gen-modes kv_cache \
  --weights f32,bf16,int8 generate | tee -a "$OUT"
for policy in $PEER_POLICIES; do
  peer "$policy" --threads 2 --gen-reps "$GEN_REPS" --gen-modes kv_cache generate
done
echo "# generation done $(date -u '+%H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
bench/compare.py "$OUT"
if [[ $GEMV == 1 ]]; then
  echo
  "$BUILD/bin/qkv_bench_gemv" --threads 1,2 --reps 5 --rows 1,2,4 bandwidth gemv qgemv
  echo "# done $(date -u '+%H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg)"
fi
