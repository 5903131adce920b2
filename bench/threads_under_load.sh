#!/usr/bin/env bash
# Do 2 threads collapse when another process competes for the cores?
# Starts one busy-looping process per core, then times the same qkv work at 1
# and 2 threads — with qkv's default (GOMP_SPINCOUNT=1000), with passive
# waiting and, for contrast, with libgomp's unbounded spinning
# (OMP_WAIT_POLICY=active) — and prints the ratio t(2 threads) / t(1 thread).
# Passing: the ratio stays near or below 1 with the default.
#   bench/threads_under_load.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
CASES="gemm attention"
load_pids=()
cleanup() { for p in "${load_pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
for _ in $(seq "$(nproc)"); do
  (while :; do :; done) &
  load_pids+=($!)
done
sleep 1
echo "# competing load: $(nproc) busy-loop processes"
run() {  # policy threads → median ms per case (one line each)
  local wait=(GOMP_SPINCOUNT=1000)
  [[ $1 != default ]] && wait=(OMP_WAIT_POLICY=$1)
  env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT "${wait[@]}" QKV_NO_REEXEC=1 \
    "$BUILD/bin/qkv_bench" --threads "$2" --reps 5 --min-ms 100 --json $CASES
}
printf "%-10s %-28s %-18s %10s %10s %8s\n" policy case shape "1 thr ms" "2 thr ms" "2/1"
for policy in default passive active; do
  one=$(run "$policy" 1)
  two=$(run "$policy" 2)
  /usr/bin/python3 - "$policy" "$one" "$two" <<'PY'
import json, sys
policy, one, two = sys.argv[1], sys.argv[2], sys.argv[3]
a = {(r["case"], r["shape"]): r for r in map(json.loads, one.splitlines())}
b = {(r["case"], r["shape"]): r for r in map(json.loads, two.splitlines())}
for k in a:
    t1, t2 = a[k]["ms_median"], b[k]["ms_median"]
    print(f"{policy:<10} {k[0]:<28} {k[1]:<18} {t1:>10.3f} {t2:>10.3f} {t2 / t1:>8.2f}")
PY
done
