#!/usr/bin/env bash
# Issue #16: what bf16 and int8 weights cost on a trained model. Trains (once)
# nanoGPT's CPU configuration on Tiny Shakespeare (character level), then per
# weight format: the perplexity of the validation split (its last 10%, as
# nanoGPT splits) through `qkv perplexity --weights` — windows of 64 tokens,
# so every product takes the prefill GEMM kernels — and greedy samples from
# PROMPTS through `qkv generate --weights --temperature 0` (the GEMV kernels),
# reporting where each first leaves the f32 tokens.
#   bench/quantized_quality.sh [BUILD_DIR]
#   env: RUN=/tmp/qkv-quant-quality/shakespeare-char  NEW=500 (tokens per sample)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=$(realpath "${1:-build}")
RUN=${RUN:-/tmp/qkv-quant-quality/shakespeare-char}
NEW=${NEW:-500}
DATA=../shared/data/tinyshakespeare/input.txt
WORK=$(mktemp -d /tmp/qkv-quant.XXXXXX)
QKV=$BUILD/bin/qkv

if [[ ! -f $RUN/model.safetensors ]]; then
  mkdir -p "$(dirname "$RUN")"
  "$QKV" train gpt --data "$DATA" --out "$RUN" --n-layer 4 --n-head 4 --n-embd 128 --block-size 64 \
    --batch-size 12 --dropout 0 --max-iters 2000 --lr 1e-3 --min-lr 1e-4 --warmup-iters 100 \
    --lr-decay-iters 2000 --beta2 0.99 --eval-interval 500 --eval-iters 20 --log-interval 500 >&2
fi
bytes=$(stat -c %s "$DATA")
tail -c $((bytes - bytes * 9 / 10)) "$DATA" > "$WORK/val.txt"   # nanoGPT: the last 10% of the characters

echo "# model $RUN; validation $(stat -c %s "$WORK/val.txt") characters; greedy $NEW tokens per prompt"
echo "| weights | val nll | perplexity | Δ perplexity vs f32 | greedy: first token that differs from f32 (per prompt) |"
echo "|---|---:|---:|---:|---|"
PROMPTS=("ROMEO:" "First Citizen:" "KING RICHARD II:" "To be, or not")
f32_ppl=
for w in f32 bf16 int8; do
  j=$("$QKV" perplexity "$RUN" --data "$WORK/val.txt" --context 64 --stride 32 --weights "$w" --json)
  firsts=()
  for i in "${!PROMPTS[@]}"; do
    "$QKV" generate "$RUN" --prompt "${PROMPTS[$i]}" --max-new-tokens "$NEW" --temperature 0 --weights "$w" \
      --jsonl > "$WORK/$w-$i.jsonl"
    firsts+=("$(/usr/bin/python3 -c '
import json, sys
a = json.load(open(sys.argv[1]))["ids"]; b = json.load(open(sys.argv[2]))["ids"]
d = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), None)
print("none" if d is None else str(d))' "$WORK/f32-$i.jsonl" "$WORK/$w-$i.jsonl")")
  done
  read -r nll ppl < <(/usr/bin/python3 -c 'import json,sys; j=json.loads(sys.argv[1]); print("%.6f %.5f" % (j["nll"], j["perplexity"]))' "$j")
  [[ -n $f32_ppl ]] || f32_ppl=$ppl
  delta=$(/usr/bin/python3 -c "print(f'{$ppl - $f32_ppl:+.5f}')")
  echo "| $w | $nll | $ppl | $delta | ${firsts[*]} |"
done
