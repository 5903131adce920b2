#!/usr/bin/env bash
# How should OpenMP threads wait between parallel regions? Times the nanoGPT
# training step (qkv_bench_gpt, many small parallel regions) at 1 and 2
# threads under each setting, first on the machine as it is, then with one
# busy-looping process per core competing, in alternating rounds, and prints
# the median per setting with t(2 threads)/t(1 thread) — which must stay at or
# below ~1 under load (2 threads never worse than 1).
#   bench/wait_policy.sh [BUILD_DIR]
#   env: ROUNDS=3 REPS=5 SETTINGS="passive spin100 spin300 spin1000"
# passive = OMP_WAIT_POLICY=passive; spinN = GOMP_SPINCOUNT=N (policy unset).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
ROUNDS=${ROUNDS:-3}
REPS=${REPS:-5}
SETTINGS=${SETTINGS:-passive spin100 spin300 spin1000}
OUT=$(mktemp /tmp/qkv-wait-policy.XXXXXX)
load_pids=()
cleanup() { for p in "${load_pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

run() {  # condition setting threads → appends "condition setting threads ms"
  local env=(env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT QKV_NO_REEXEC=1)
  case $2 in
    passive) env+=(OMP_WAIT_POLICY=passive) ;;
    spin*) env+=(GOMP_SPINCOUNT=${2#spin}) ;;
    *) echo "unknown setting $2" >&2; exit 2 ;;
  esac
  local ms
  ms=$("${env[@]}" "$BUILD/bin/qkv_bench_gpt" --threads "$3" --reps "$REPS" --json --configs nanogpt train_step |
       /usr/bin/python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["ms_median"])')
  echo "$1 $2 $3 $ms" | tee -a "$OUT"
}

echo "# $(date -u '+%F %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg), $ROUNDS rounds x $REPS reps"
for condition in as-is loaded; do
  if [[ $condition == loaded ]]; then
    for _ in $(seq "$(nproc)"); do (while :; do :; done) & load_pids+=($!); done
    sleep 1
  fi
  for _ in $(seq "$ROUNDS"); do
    for s in $SETTINGS; do run "$condition" "$s" 1; run "$condition" "$s" 2; done
  done
  cleanup
  load_pids=()
done

/usr/bin/python3 - "$OUT" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
med = {}
for cond, s, thr, ms in rows:
    med.setdefault((cond, s, thr), []).append(float(ms))
print(f"\n{'setting':<10} {'as-is 1 thr':>12} {'as-is 2 thr':>12} {'loaded 1 thr':>13} {'loaded 2 thr':>13} {'loaded 2/1':>11}")
for s in dict.fromkeys(r[1] for r in rows):
    m = {k[0] + k[2]: statistics.median(v) for k, v in med.items() if k[1] == s}
    print(f"{s:<10} {m['as-is1']:>12.1f} {m['as-is2']:>12.1f} {m['loaded1']:>13.1f} {m['loaded2']:>13.1f} "
          f"{m['loaded2'] / m['loaded1']:>11.2f}")
PY
