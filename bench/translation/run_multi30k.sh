#!/usr/bin/env bash
# Multi30k German→English with the encoder–decoder Transformer: one
# `qkv train translate` command from the raw text, then test2016 translated
# with beam search and scored as sacreBLEU does (detokenized, case-sensitive),
# plus chrF2 and the lowercased variant. The issue's target: BLEU ≥ 36 on
# test2016 from a training that fits in 2 hours on the 2-core machine.
#   bench/translation/run_multi30k.sh [BUILD_DIR] [OUT_DIR]
#   env: MAX_ITERS=6000 THREADS=2 BEAM=4 ALPHA=0.6
# An interrupted run (Ctrl-C keeps the finished steps) continues with the same
# command plus RESUME=1; RESUME=1 MAX_ITERS=<the step it stopped at> ends it
# there (the final evaluation and the checkpoint average).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build}
OUT=${2:-runs/multi30k-de-en}
DATA=${DATA:-../shared/data/multi30k}
MAX_ITERS=${MAX_ITERS:-6000}
THREADS=${THREADS:-2}
BEAM=${BEAM:-4}
ALPHA=${ALPHA:-0.6}
QKV="$BUILD/bin/qkv"
[[ -d $DATA ]] || { echo "no Multi30k at $DATA" >&2; exit 1; }

echo "# machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(date -u '+%F %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg)"
resume=()
[[ ${RESUME:-0} == 1 ]] && resume=(--resume)
start=$(date +%s)
"$QKV" train translate --src "$DATA/train.de" --tgt "$DATA/train.en" \
  --valid-src "$DATA/val.de" --valid-tgt "$DATA/val.en" --out "$OUT" \
  --vocab-size 8000 --d-model 256 --n-heads 8 --d-ff 1024 --n-encoder-layers 3 --n-decoder-layers 3 \
  --dropout 0.3 --max-len 128 --max-tokens 4096 --max-iters "$MAX_ITERS" --eval-interval 400 --log-interval 50 \
  --lr 1e-3 --warmup-iters 800 --average-last 5 --threads "$THREADS" "${resume[@]}"
echo "# training wall time: $(( $(date +%s) - start )) s"

for model in best averaged; do
  [[ -d $OUT/$model ]] || continue
  hyp="$OUT/test2016.$model.beam$BEAM.en"
  t0=$(date +%s.%N)
  "$QKV" translate "$OUT/$model" --beam "$BEAM" --alpha "$ALPHA" --threads "$THREADS" < "$DATA/test2016.de" > "$hyp"
  t1=$(date +%s.%N)
  echo "## $model, beam $BEAM, alpha $ALPHA ($(echo "$t1 - $t0" | bc) s for $(wc -l < "$hyp") sentences)"
  "$QKV" bleu --ref "$DATA/test2016.en" < "$hyp"
  "$QKV" chrf --ref "$DATA/test2016.en" < "$hyp"
  "$QKV" bleu --ref "$DATA/test2016.en" --lowercase < "$hyp"
done
