#!/usr/bin/env bash
# The extrapolation study of issue #11 (docs/POSITIONS.md): GPTs that differ
# only in pos_encoding, trained on Tiny Shakespeare with nanoGPT's CPU config
# (4 layers, 128 wide, block 64, batch 12, 2000 iterations, seed 1337), then
# scored at 1×, 2×, 4×, 8× and 16× the training length on the same
# validation tokens by `qkv eval-lengths`.
#   bench/positions/run_extrapolation.sh [BUILD_DIR]
#   env: WORK=/tmp/qkv-positions KINDS="learned sinusoidal rope alibi t5 relative none"
#        LENGTHS=64,128,256,512,1024 ITERS=2000 DATA=…/input.txt
# Runs already trained under $WORK are reused (delete them to retrain).
# Writes $WORK/lengths.jsonl and $WORK/lengths.svg and prints the table.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=$(realpath "${1:-build}")
WORK=${WORK:-/tmp/qkv-positions}
KINDS=${KINDS:-learned sinusoidal rope alibi t5 relative none}
LENGTHS=${LENGTHS:-64,128,256,512,1024}
ITERS=${ITERS:-2000}
DATA=$(realpath "${DATA:-../shared/data/tinyshakespeare/input.txt}")
QKV=$BUILD/bin/qkv
mkdir -p "$WORK"
echo "# machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(date -u '+%F %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# qkv $(git rev-parse --short HEAD), data $DATA, $ITERS iterations, lengths $LENGTHS"
runs=()
for kind in $KINDS; do
  out=$WORK/$kind
  runs+=("$out")
  if [[ -f $out/model.safetensors ]]; then echo "# $kind: reusing $out"; continue; fi
  echo "# $kind: training → $out ($(date -u '+%H:%M:%S'))"
  start=$(date +%s)
  "$QKV" train gpt --data "$DATA" --out "$out" --pos-encoding "$kind" --n-layer 4 --n-head 4 --n-embd 128 \
    --block-size 64 --batch-size 12 --dropout 0 --bias false --max-iters "$ITERS" --lr 1e-3 --min-lr 1e-4 \
    --warmup-iters 100 --lr-decay-iters "$ITERS" --beta2 0.99 --weight-decay 0.1 --grad-clip 1.0 --seed 1337 \
    --eval-interval 500 --eval-iters 20 --log-interval 1000 --threads 2 > "$WORK/$kind.log" 2>&1
  echo "#   $(($(date +%s) - start)) s; $(grep -E 'val' "$WORK/$kind.log" | tail -1)"
done
[[ -n ${TRAIN_ONLY:-} ]] && exit 0
"$QKV" eval-lengths "${runs[@]}" --data "$DATA" --lengths "$LENGTHS" --json --plot "$WORK/lengths.svg" \
  > "$WORK/lengths.jsonl"
# The table: one row per run, perplexity per length ("–": cannot run that long).
/usr/bin/python3 - "$WORK/lengths.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
runs = list(dict.fromkeys(r["run"] for r in rows))
lengths = sorted({r["length"] for r in rows})
print("| run | " + " | ".join(str(n) for n in lengths) + " |")
print("|---" * (len(lengths) + 1) + "|")
for run in runs:
    cell = {r["length"]: r for r in rows if r["run"] == run}
    print("| %s | " % run.rstrip("/").split("/")[-1] + " | ".join(
        "%.3f" % cell[n]["perplexity"] if cell.get(n, {}).get("perplexity") is not None else "–" for n in lengths) + " |")
PY
