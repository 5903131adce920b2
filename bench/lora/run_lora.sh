#!/usr/bin/env bash
# LoRA against full fine-tuning (issue #12; docs/HF.md), in one command:
#  1. quality: a GPT trained on the first half of Tiny Shakespeare (nanoGPT's
#     CPU config) is fine-tuned on the second half, in full and with LoRA;
#     the best validation loss of each (the second half's own 10% split) and
#     the base's loss on that split before fine-tuning;
#  2. memory: a GPT-2-small-shaped model (12 layers × 768, character vocab,
#     random weights) fine-tuned for a few steps in full and with LoRA: peak
#     RSS (GNU time), trainable parameters, optimizer-state bytes, ms/step.
#   bench/lora/run_lora.sh [BUILD_DIR]
#   env: WORK=/tmp/qkv-lora BASE_ITERS=2000 FT_ITERS=300 LORA=r=8,alpha=16,targets=q,o,up,down
#        LORA_LR=1e-3 FULL_LR=3e-4 MEM_ITERS=4 DATA=…/tinyshakespeare/input.txt
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=$(realpath "${1:-build}")
QKV=$BUILD/bin/qkv
WORK=${WORK:-/tmp/qkv-lora}
BASE_ITERS=${BASE_ITERS:-2000}
FT_ITERS=${FT_ITERS:-300}
LORA=${LORA:-r=8,alpha=16,targets=q,o,up,down}
LORA_LR=${LORA_LR:-1e-3}
FULL_LR=${FULL_LR:-3e-4}
MEM_ITERS=${MEM_ITERS:-4}
DATA=$(realpath "${DATA:-../shared/data/tinyshakespeare/input.txt}")
mkdir -p "$WORK"
echo "# machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(date -u '+%F %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# qkv $(git rev-parse --short HEAD), data $DATA"

# --- 1. quality ---------------------------------------------------------------
half=$(($(wc -c < "$DATA") / 2))
head -c "$half" "$DATA" > "$WORK/a.txt"
tail -c +"$((half + 1))" "$DATA" > "$WORK/b.txt"
# One character vocabulary for both halves (the second has characters the first lacks).
[[ -f $WORK/chars/tokenizer.json ]] || "$QKV" train-tokenizer --type char "$DATA" --out "$WORK/chars" > /dev/null
nano="--tokenizer $WORK/chars --n-layer 4 --n-head 4 --n-embd 128 --block-size 64 --batch-size 12 --dropout 0 --bias true"
if [[ ! -f $WORK/base/model.safetensors ]]; then
  "$QKV" train gpt --data "$WORK/a.txt" --out "$WORK/base" $nano --max-iters "$BASE_ITERS" --lr 1e-3 --min-lr 1e-4 \
    --warmup-iters 100 --lr-decay-iters "$BASE_ITERS" --beta2 0.99 --eval-interval 500 --eval-iters 20 \
    --seed 1337 --threads 2 > "$WORK/base.log" 2>&1
fi
# The base on the fine-tuning data's validation split (its last 10%), before any fine-tuning.
b_bytes=$(wc -c < "$WORK/b.txt")
tail -c +"$((b_bytes - b_bytes / 10 + 1))" "$WORK/b.txt" > "$WORK/b_val.txt"
base_ppl=$("$QKV" perplexity "$WORK/base" --data "$WORK/b_val.txt" --context 64 --stride 32 --json --threads 2)
ft_common="--data $WORK/b.txt --block-size 64 --batch-size 12 --max-iters $FT_ITERS --warmup-iters 20
  --lr-decay-iters $FT_ITERS --eval-interval 100 --eval-iters 40 --seed 7 --threads 2"
rm -rf "$WORK/full" "$WORK/lora"
"$QKV" finetune "$WORK/base" --out "$WORK/full" $ft_common --lr "$FULL_LR" --min-lr 3e-5 > "$WORK/full.log" 2>&1
"$QKV" finetune "$WORK/base" --out "$WORK/lora" $ft_common --lr "$LORA_LR" --min-lr 1e-4 --lora "$LORA" \
  > "$WORK/lora.log" 2>&1
best() { python3 -c "import json,sys; print(min(json.loads(l)['val_loss'] for l in open(sys.argv[1])))" "$1/log.jsonl"; }
ppl() { "$QKV" perplexity "$1" --data "$WORK/b_val.txt" --context 64 --stride 32 --json --threads 2; }
echo "base on b_val (qkv perplexity --context 64 --stride 32): $base_ppl"
echo "full fine-tuning: best val loss $(best "$WORK/full") (trainer's estimate); best/ on b_val: $(ppl "$WORK/full/best"); $(grep -m1 'trainable' "$WORK/full.log")"
echo "LoRA $LORA: best val loss $(best "$WORK/lora"); best/ on b_val: $(ppl "$WORK/lora/best"); $(grep -m1 'trainable' "$WORK/lora.log")"
echo "adapter files: $(du -b "$WORK/lora/adapter_model.safetensors" | cut -f1) bytes; model: $(du -b "$WORK/lora/model.safetensors" | cut -f1) bytes"

# --- 2. memory ----------------------------------------------------------------
big="--tokenizer $WORK/chars --n-layer 12 --n-head 12 --n-embd 768 --block-size 128 --batch-size 1 --dropout 0"
if [[ ! -f $WORK/big/model.safetensors ]]; then
  "$QKV" train gpt --data "$WORK/a.txt" --out "$WORK/big" $big --max-iters 1 --eval-interval 1 --eval-iters 1 \
    --warmup-iters 0 --lr-decay-iters 1 --threads 2 > "$WORK/big.log" 2>&1
fi
for mode in full lora; do
  rm -rf "$WORK/big_$mode"
  extra=(); [[ $mode == lora ]] && extra=(--lora "$LORA")
  /usr/bin/time -v "$QKV" finetune "$WORK/big" --out "$WORK/big_$mode" --data "$WORK/b.txt" --block-size 128 \
    --batch-size 1 --max-iters "$MEM_ITERS" --eval-interval "$MEM_ITERS" --eval-iters 1 --warmup-iters 0 \
    --lr-decay-iters "$MEM_ITERS" --threads 2 "${extra[@]}" > "$WORK/big_$mode.log" 2>&1
  rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$WORK/big_$mode.log")
  opt=$(du -b "$WORK/big_$mode/optimizer.safetensors" | cut -f1)
  wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$WORK/big_$mode.log")
  echo "12x768 $mode: peak RSS $((rss / 1024)) MiB, optimizer.safetensors $((opt / 1024)) KiB, wall $wall for $MEM_ITERS steps + 2 evaluations; $(grep -m1 'trainable' "$WORK/big_$mode.log" || true)"
done
echo "# done $(date -u '+%H:%M UTC')"
