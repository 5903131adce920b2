#!/usr/bin/env bash
# Runs qkv's BERT benchmark (bench/qkv_bench_bert.cpp) and the PyTorch peer
# (bench/peers/torch_bert.py) in the same command and prints ratios
# (bench/compare.py, torch time / qkv time: > 1 means qkv is faster) for issue
# #10's speed target: inference at length 128, batch 1 and 32 (mask all true
# and padded), and one fine-tuning step (sequence classification, batch
# TRAIN_BATCH × 128, dropout 0.1, AdamW), BERT-base shape (12 × 768), both sides
# at THREADS threads on the same weights and the same token ids.
#   bench/run_bert.sh [BUILD_DIR]
#   env: THREADS=2 REPS=5 BATCHES=1,32 TRAIN_BATCH=32 ROUNDS=1 CASES="infer train_step"
#        PEER_POLICIES="passive active spin1000"  LAYERS=12 (fewer for a smoke test)
# A round runs qkv, then the peer once per wait policy; ROUNDS > 1 alternates
# the two sides that many times (compare.py keeps each side's best median, and
# the best single call is in the notes). The '# parity' lines check that the
# peer computes qkv's model (eval-mode hidden states and logits, batch 1).
# Under contention the peer's `active` runs collapse: PEER_POLICIES="passive spin1000".
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/peers/common.sh
BUILD=${1:-build}
THREADS=${THREADS:-2}
REPS=${REPS:-5}
BATCHES=${BATCHES:-1,32}
TRAIN_BATCH=${TRAIN_BATCH:-32}
LAYERS=${LAYERS:-12}
ROUNDS=${ROUNDS:-1}
PEER_POLICIES=${PEER_POLICIES:-passive active spin1000}
CASES=${CASES:-infer train_step}
WORK=$(mktemp -d /tmp/qkv-bench-bert.XXXXXX)
OUT=$WORK/results.jsonl
trap 'rm -rf "$WORK/dump"' EXIT  # 440 MB of weights; the results stay
unset OMP_WAIT_POLICY GOMP_SPINCOUNT  # qkv: its own default (ensure_wait_policy); the peer: each policy
QKV=("$BUILD/bin/qkv_bench_bert" --threads "$THREADS" --json --reps "$REPS" --batches "$BATCHES"
     --train-batch "$TRAIN_BATCH" --layers "$LAYERS")

machine_line
echo "# jsonl: $OUT"
# The weights and batches for the peer, written by a process of their own and
# flushed before anything is timed: when qkv's first timed run also wrote
# them, its batch-1 medians right after the 440 MB write were 1.7-2.4x those
# of later rounds.
"${QKV[@]}" --dump "$WORK/dump" dump
sync
parity=()  # the first peer run checks parity (not timed), the others skip it
for round in $(seq "$ROUNDS"); do
  echo "# round $round, load $(cut -d' ' -f1-3 /proc/loadavg)"
  "${QKV[@]}" $CASES | tee -a "$OUT"
  for policy in $PEER_POLICIES; do
    run_peer "$policy" /usr/bin/python3 bench/peers/torch_bert.py --dump "$WORK/dump" --threads "$THREADS" \
      --json --reps "$REPS" "${parity[@]}" $CASES | tee -a "$OUT"
    parity=(--no-parity)
  done
done
echo "# done $(date -u '+%H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
bench/compare.py "$OUT"
