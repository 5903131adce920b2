#!/usr/bin/env bash
# Runs qkv's encoder–decoder Transformer benchmark (bench/qkv_bench_seq2seq.cpp)
# and the PyTorch peer (bench/peers/torch_seq2seq.py) in the same command and
# prints ratios (bench/compare.py): a training step on test2016 pairs (token
# budget MAX_TOKENS) and greedy / beam-4 decoding of test2016 (sentences/s),
# both sides at 2 threads on the same weights and the same token-id batches.
#   bench/run_seq2seq.sh [BUILD_DIR] [MODEL_DIR]
#   MODEL_DIR: a `qkv train translate` directory (default ../runs_m30/de-en); it
#   is copied first, so a training run rewriting it cannot change the weights
#   mid-benchmark.
#   env: THREADS=2 REPS=5 DEC_REPS=2 MAX_TOKENS=4096 TRAIN_BATCHES=4 SENTENCES=0 (all)
#        BATCH_SIZE=32 PARITY=20 DATA=../shared/data/multi30k SRC=test2016.de TGT=test2016.en
#        PEER_POLICIES="passive active spin1000"  (wait policies of the peer's training step)
#        DEC_POLICIES="passive spin1000"          (… of its decoding)
# The peer's decoding has no KV cache (nn.TransformerDecoder has none): on the
# 1000 test2016 sentences one rep takes minutes, hence fewer policies and reps.
# compare.py keeps each side's best run. The '# parity' lines check that torch
# and qkv produce the same ids (greedy and beam 4, first PARITY sentences) and
# the same eval-mode loss.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
MODEL=${2:-../runs_m30/de-en}
THREADS=${THREADS:-2}
REPS=${REPS:-5}
DEC_REPS=${DEC_REPS:-2}
MAX_TOKENS=${MAX_TOKENS:-4096}
TRAIN_BATCHES=${TRAIN_BATCHES:-4}
SENTENCES=${SENTENCES:-0}
BATCH_SIZE=${BATCH_SIZE:-32}
PARITY=${PARITY:-20}
DATA=${DATA:-../shared/data/multi30k}
SRC=${SRC:-test2016.de}
TGT=${TGT:-test2016.en}
PEER_POLICIES=${PEER_POLICIES:-passive active spin1000}
DEC_POLICIES=${DEC_POLICIES:-passive spin1000}
for f in config.json model.safetensors tokenizer.json; do
  [[ -f $MODEL/$f ]] || { echo "run_seq2seq.sh: $MODEL/$f is missing (a model directory of qkv train translate)" >&2; exit 1; }
done
WORK=$(mktemp -d /tmp/qkv-bench-s2s.XXXXXX)
OUT=$WORK/results.jsonl
cp "$MODEL"/{config.json,model.safetensors,tokenizer.json} "$WORK/"
unset OMP_WAIT_POLICY GOMP_SPINCOUNT  # qkv: its own default (ensure_wait_policy); the peer: each policy

# The peer at its best (bench/peers/README.md): OpenBLAS's OpenMP build, its
# AVX-512 kernels, and each wait policy (passive, active, or spinN).
peer() {
  local policy=$1; shift
  local wait=(OMP_WAIT_POLICY=$policy)
  [[ $policy == spin* ]] && wait=(GOMP_SPINCOUNT=${policy#spin})
  env "${wait[@]}" OPENBLAS_CORETYPE=Cooperlake \
    LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp \
    /usr/bin/python3 bench/peers/torch_seq2seq.py --dump "$WORK/dump" --threads "$THREADS" --json \
    --reps "$REPS" --dec-reps "$DEC_REPS" "$@" | tee -a "$OUT"
}

echo "# machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(date -u '+%F %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# model: $MODEL ($(tr -d ' \n' < "$WORK/config.json" | head -c 300)); data: $DATA/$SRC $DATA/$TGT"
echo "# work dir: $WORK"
"$BUILD/bin/qkv_bench_seq2seq" --model "$WORK" --src "$DATA/$SRC" --tgt "$DATA/$TGT" --dump "$WORK/dump" \
  --threads "$THREADS" --json --reps "$REPS" --dec-reps "$DEC_REPS" --max-tokens "$MAX_TOKENS" \
  --train-batches "$TRAIN_BATCHES" --sentences "$SENTENCES" --batch-size "$BATCH_SIZE" --parity "$PARITY" \
  --beams 1,4 train_step decode | tee -a "$OUT"
parity=()  # the first peer run also checks parity (not timed), the others skip it
for policy in $PEER_POLICIES; do
  peer "$policy" "${parity[@]}" train_step
  parity=(--no-parity)
done
for policy in $DEC_POLICIES; do
  peer "$policy" --no-parity --beams 1,4 decode
done
echo "# done $(date -u '+%H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
bench/compare.py "$OUT"
