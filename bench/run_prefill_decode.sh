#!/usr/bin/env bash
# Issue #16: prefill (pp) and decode (tg) of the GPT-2 124M shape, `qkv bench`
# against llama.cpp's `llama-bench` on the same weights, in one interleaved
# run (ROUNDS rounds of: qkv at every precision, then llama.cpp at each), so
# both see the same machine. Prints one table of means over the rounds and
# the ratios qkv/llama.cpp per precision pair (f32/f32, bf16/f16, int8/q8_0),
# plus qkv's GB/s on decode against the read bandwidth measured in the run.
#   bench/run_prefill_decode.sh [BUILD_DIR]
#   env: ROUNDS=2 REPS=3 THREADS=2 PROMPT=512 GEN=128
#        MODEL_DIR=/tmp/qkv-serve-bench/gpt2-124m (random weights, made once as bench/run_serve.sh does)
#        LLAMA_CPP=/work/llama.cpp-src (build/bin/llama-bench, build/bin/llama-quantize, gguf-py;
#                  LLAMA_CPP= runs qkv alone)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/peers/common.sh
BUILD=$(realpath "${1:-build}")
ROUNDS=${ROUNDS:-2}
REPS=${REPS:-3}
THREADS=${THREADS:-2}
PROMPT=${PROMPT:-512}
GEN=${GEN:-128}
MODEL_DIR=${MODEL_DIR:-/tmp/qkv-serve-bench/gpt2-124m}
LLAMA_CPP=${LLAMA_CPP-/work/llama.cpp-src}
TOKENIZER=${TOKENIZER:-../shared/data/tokenizers/gpt2}
WORK=$(mktemp -d /tmp/qkv-bench-pd.XXXXXX)
OUT=$WORK/rows.jsonl
unset OMP_WAIT_POLICY GOMP_SPINCOUNT  # qkv: its own default (ensure_wait_policy)

if [[ ! -f $MODEL_DIR/model.safetensors ]]; then
  mkdir -p "$(dirname "$MODEL_DIR")"
  head -c 120000 ../shared/data/tinyshakespeare/input.txt > "$WORK/corpus.txt"
  "$BUILD/bin/qkv" train gpt --data "$WORK/corpus.txt" --tokenizer "$TOKENIZER" --n-layer 12 --n-head 12 \
    --n-embd 768 --block-size 1024 --batch-size 1 --max-iters 0 --eval-iters 1 --out "$MODEL_DIR" >&2
  rm -rf "$MODEL_DIR/best" "$MODEL_DIR/optimizer.safetensors" "$MODEL_DIR/loss.svg"
fi

GGUFS=()
if [[ -n $LLAMA_CPP ]]; then
  for t in f32 f16; do
    g=$MODEL_DIR-$t.gguf
    [[ -f $g ]] || /usr/bin/python3 bench/peers/make_gpt2_gguf.py "$MODEL_DIR" "$TOKENIZER" "$g" --outtype "$t" \
      --gguf-py "$LLAMA_CPP/gguf-py"
    GGUFS+=("$g")
  done
  g=$MODEL_DIR-q8_0.gguf
  [[ -f $g ]] || "$LLAMA_CPP/build/bin/llama-quantize" "$MODEL_DIR-f32.gguf" "$g" q8_0 >/dev/null 2>&1
  GGUFS+=("$g")
fi

machine_line
echo "# qkv $(git rev-parse --short HEAD); llama.cpp ${LLAMA_CPP:+$(git -C "$LLAMA_CPP" log -1 --format=%h 2>/dev/null || echo '?')}; $ROUNDS rounds x $REPS reps, $THREADS threads, pp$PROMPT tg$GEN; jsonl: $OUT"
for r in $(seq "$ROUNDS"); do
  "$BUILD/bin/qkv" bench "$MODEL_DIR" -p "$PROMPT" -n "$GEN" -t "$THREADS" --weights f32,bf16,int8 -r "$REPS" \
    --bandwidth --json | sed "s/^{/{\"peer\":\"qkv\",\"round\":$r,/" >> "$OUT"
  for g in "${GGUFS[@]}"; do
    "$LLAMA_CPP/build/bin/llama-bench" -m "$g" -p "$PROMPT" -n "$GEN" -t "$THREADS" -r "$REPS" -o jsonl 2>/dev/null |
      sed "s/^{/{\"peer\":\"llama.cpp\",\"round\":$r,/" >> "$OUT"
  done
done

/usr/bin/python3 - "$OUT" <<'EOF'
import json, sys, statistics as st
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
def key(r):
    if r["peer"] == "qkv":
        return r["weights"], r["test"]
    t = "pp%d" % r["n_prompt"] if r["n_prompt"] else "tg%d" % r["n_gen"]
    return r["model_type"].split()[-1].lower(), t  # "gpt2 ?B all F32" → "f32"
qkv, llama = {}, {}
for r in rows:
    (qkv if r["peer"] == "qkv" else llama).setdefault(key(r), []).append(r)
pairs = [("f32", "f32"), ("bf16", "f16"), ("int8", "q8_0")]
print("| test | qkv | t/s (mean of rounds) | llama.cpp | t/s | qkv/llama.cpp | qkv GB/s | % of read bw |")
print("|---|---|---:|---|---:|---:|---:|---:|")
for test in sorted({k[1] for k in qkv}, key=lambda t: (t[:2] != "pp", t)):
    for q, l in pairs:
        a = qkv.get((q, test)); b = llama.get((l, test))
        if not a: continue
        qa = st.mean(r["avg_ts"] for r in a)
        lb = st.mean(r["avg_ts"] for r in b) if b else float("nan")
        gb = st.mean(r.get("gbps", 0) for r in a); bw = st.mean(r.get("read_bandwidth_gbps", 0) for r in a)
        extra = f"{gb:.1f} | {100*gb/bw:.0f} %" if gb and bw else " | "
        print(f"| {test} | {q} | {qa:.1f} | {l} | {lb:.1f} | {qa/lb:.2f} | {extra} |")
EOF
