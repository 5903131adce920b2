#!/usr/bin/env bash
# Speed of two builds of qkv (e.g. before and after a refactor) against the
# PyTorch peer, in alternation so that drift of a shared machine hits both:
# each round runs BEFORE, then the peer, then AFTER (B T A B T A …). Cases: the
# training step (nanoGPT's CPU config at 2 and 1 threads, GPT-2 124M at 2) and
# greedy decoding with the KV cache on the 124M shape at 2 threads (qkv with
# f32, bf16 and int8 weights; torch f32, mv decode). Calls the binaries
# directly, so it works with any build whose qkv_bench_gpt has --weights.
#   bench/run_before_after.sh BEFORE_BUILD_DIR AFTER_BUILD_DIR
#   env: ROUNDS=3 REPS=5 GEN_REPS=3 PEER_POLICY=passive WEIGHTS=f32,bf16,int8
# qkv runs with its default wait policy (as bench/run_gpt.sh); the peer with
# PEER_POLICY (passive, active or spinN) and OpenMP OpenBLAS (AVX-512 kernels).
# Prints each round's figures, then the median over rounds per build:
# ms per step (training), tokens/s (decoding), speed ratios (> 1: the first
# named is faster): before/torch = torch ms / before ms, after/before =
# before ms / after ms. A quantized qkv row is compared with torch's f32 row.
set -euo pipefail
[[ $# == 2 ]] || { sed -n '2,16p' "$0"; exit 2; }
BEFORE=$(realpath "$1")
AFTER=$(realpath "$2")
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
REPS=${REPS:-5}
GEN_REPS=${GEN_REPS:-3}
PEER_POLICY=${PEER_POLICY:-passive}
WEIGHTS=${WEIGHTS:-f32,bf16,int8}
OUT=$(mktemp /tmp/qkv-before-after.XXXXXX.jsonl)
unset OMP_WAIT_POLICY GOMP_SPINCOUNT
for b in "$BEFORE" "$AFTER"; do
  [[ -x $b/bin/qkv_bench_gpt ]] || { echo "no $b/bin/qkv_bench_gpt" >&2; exit 1; }
done

load() { cut -d' ' -f1-3 /proc/loadavg; }
# qkv_bench_gpt's JSON lines, tagged with the round and the build's label.
side() {
  local label=$1 build=$2 round=$3
  echo "# round $round $label ($build) $(date -u '+%H:%M:%S UTC'), load $(load)"
  {
    "$build/bin/qkv_bench_gpt" --json --threads 2 --reps "$REPS" --configs nanogpt,gpt2 train_step
    "$build/bin/qkv_bench_gpt" --json --threads 1 --reps "$REPS" --configs nanogpt train_step
    "$build/bin/qkv_bench_gpt" --json --threads 2 --reps 1 --gen-reps "$GEN_REPS" --configs gpt2 \
      --gen-modes kv_cache --weights "$WEIGHTS" generate
  } | sed -u "s/^{\"peer\":\"qkv\"/{\"round\":$round,\"peer\":\"$label\"/" | tee -a "$OUT"
}
peer() {
  local round=$1 wait=(OMP_WAIT_POLICY=$PEER_POLICY)
  [[ $PEER_POLICY == spin* ]] && wait=(GOMP_SPINCOUNT=${PEER_POLICY#spin})
  echo "# round $round torch ($PEER_POLICY) $(date -u '+%H:%M:%S UTC'), load $(load)"
  {
    run() { env "${wait[@]}" OPENBLAS_CORETYPE=Cooperlake LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp \
      /usr/bin/python3 bench/peers/torch_gpt.py --json "$@"; }
    run --threads 2 --reps "$REPS" --configs nanogpt,gpt2 train_step
    run --threads 1 --reps "$REPS" --configs nanogpt train_step
    run --threads 2 --gen-reps "$GEN_REPS" --configs gpt2 --gen-modes kv_cache generate
  } | sed -u "s/^{\"peer\": \"torch\"/{\"round\": $round, \"peer\": \"torch\"/" | tee -a "$OUT"
}

echo "# machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(date -u '+%F %H:%M UTC'), load $(load)"
echo "# before: $BEFORE  after: $AFTER  ROUNDS=$ROUNDS REPS=$REPS GEN_REPS=$GEN_REPS PEER_POLICY=$PEER_POLICY"
echo "# jsonl: $OUT"
for ((r = 1; r <= ROUNDS; ++r)); do
  side before "$BEFORE" $r
  peer $r
  side after "$AFTER" $r
done
echo "# done $(date -u '+%H:%M:%S UTC'), load $(load)"
echo

/usr/bin/python3 - "$OUT" <<'EOF'
import json, statistics, sys
rows = {}  # (case, shape, threads) -> peer -> round -> ms_median
for line in open(sys.argv[1]):
    if line.startswith("{"):
        r = json.loads(line)
        rows.setdefault((r["case"], r["shape"], r["threads"]), {}).setdefault(r["peer"], {})[r["round"]] = r["ms_median"]

def torch_key(k):
    for fmt in (" bf16", " int8"):
        if k[1].endswith(fmt):
            return (k[0], k[1][: -len(fmt)], k[2])
    return k

def show(k, ms):  # training: ms per step; generation: tokens/s (128 new tokens)
    return f"{128e3 / ms:.1f} tok/s" if k[0] == "generate" else f"{ms:.2f} ms"

order = sorted((k for k in rows if "before" in rows[k] or "after" in rows[k]), key=lambda k: (k[0] != "train_step", k[1], -k[2]))
print("Per round (median of each run); after/before = before ms / after ms:")
for k in order:
    t = rows.get(torch_key(k), {}).get("torch", {})
    b, a = rows[k].get("before", {}), rows[k].get("after", {})
    for rd in sorted(set(b) | set(a)):
        cells = [show(k, x[rd]) if rd in x else "-" for x in (b, a, t)]
        ab = f"{b[rd] / a[rd]:.3f}" if rd in a and rd in b else "-"
        print(f"  {k[0]:<10} {k[1]:<30} thr {k[2]}  round {rd}  before {cells[0]:>14}  after {cells[1]:>14}  torch {cells[2]:>14}  after/before {ab}")

print()
print("| metric | before | after | PyTorch | before/torch | after/torch | after/before |")
print("|---|---|---|---|---|---|---|")
for k in order:
    med = lambda d: statistics.median(d.values()) if d else float("nan")
    t = med(rows.get(torch_key(k), {}).get("torch", {}))
    b, a = med(rows[k].get("before", {})), med(rows[k].get("after", {}))
    print(f"| {k[0]} {k[1]}, {k[2]} thr | {show(k, b)} | {show(k, a)} | {show(k, t)} "
          f"| {t / b:.2f} | {t / a:.2f} | {b / a:.3f} |")
EOF
