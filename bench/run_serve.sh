#!/usr/bin/env bash
# Issue #13's server targets: `qkv serve` on the GPT-2 124M shape (random
# weights, GPT-2's tokenizer) under 1, 4, 16 and 64 concurrent streaming
# clients (bench/serve_load.cpp), with continuous batching (--parallel 16) and
# one request at a time (--parallel 1); then llama.cpp's llama-server on the
# same weights (a GGUF written by bench/peers/make_gpt2_gguf.py) with the same
# slots, context per slot, threads and load. Prints one table: tokens/s,
# ×(--parallel 1), qkv/llama, TTFT and inter-token p50/p99.
#   bench/run_serve.sh [BUILD_DIR]
#   env: PARALLEL="1 16" CLIENTS=1,4,16,64 REQUESTS=4,8,32,64 MAX_TOKENS=64 THREADS=2
#        WEIGHTS=f32 (qkv --weights; the GGUF is f32 unless GGUF_TYPE=f16)
#        MODEL_DIR=/tmp/qkv-serve-bench/gpt2-124m (made once: `qkv train gpt --max-iters 0`)
#        LLAMA_CPP=/work/llama.cpp-src (its build/bin/llama-server and gguf-py; LLAMA_CPP= skips the peer)
#        LLAMA_ARGS= (more llama-server flags, e.g. "--poll 0")  SERVERS="qkv llama" (either alone)
# Every request is greedy (temperature 0), a fixed prompt of 30-45 tokens, and
# exactly MAX_TOKENS new tokens (qkv's model has no end-of-text stop; the peer
# gets "ignore_eos": true). Servers are stopped with SIGTERM.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/peers/common.sh
BUILD=${1:-build}
BUILD=$(realpath "$BUILD")
PARALLEL=${PARALLEL:-1 16}
CLIENTS=${CLIENTS:-1,4,16,64}
REQUESTS=${REQUESTS:-4,8,32,64}
MAX_TOKENS=${MAX_TOKENS:-64}
THREADS=${THREADS:-2}
WEIGHTS=${WEIGHTS:-f32}
GGUF_TYPE=${GGUF_TYPE:-f32}
MODEL_DIR=${MODEL_DIR:-/tmp/qkv-serve-bench/gpt2-124m}
LLAMA_CPP=${LLAMA_CPP-/work/llama.cpp-src}
LLAMA_ARGS=${LLAMA_ARGS:-}
SERVERS=${SERVERS:-qkv llama}
TOKENIZER=${TOKENIZER:-../shared/data/tokenizers/gpt2}
WORK=$(mktemp -d /tmp/qkv-bench-serve.XXXXXX)
OUT=$WORK/rows.jsonl
LOAD=("$BUILD/bin/qkv_bench_serve_load" --clients "$CLIENTS" --requests "$REQUESTS" --max-tokens "$MAX_TOKENS"
      --out "$OUT")
unset OMP_WAIT_POLICY GOMP_SPINCOUNT  # qkv: its own default (ensure_wait_policy)

# The 124M-shaped model directory: random weights (0 training steps), GPT-2's tokenizer.
if [[ ! -f $MODEL_DIR/model.safetensors ]]; then
  mkdir -p "$(dirname "$MODEL_DIR")"
  head -c 120000 ../shared/data/tinyshakespeare/input.txt > "$WORK/corpus.txt"  # > 2 blocks of tokens
  "$BUILD/bin/qkv" train gpt --data "$WORK/corpus.txt" --tokenizer "$TOKENIZER" --n-layer 12 --n-head 12 \
    --n-embd 768 --block-size 1024 --batch-size 1 --max-iters 0 --eval-iters 1 --out "$MODEL_DIR" >&2
  rm -rf "$MODEL_DIR/best" "$MODEL_DIR/optimizer.safetensors" "$MODEL_DIR/loss.svg"
fi

SERVER_PID=
stop_server() {  # SIGTERM: both servers drain and exit
  [[ -n $SERVER_PID ]] || return 0
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
}
trap stop_server EXIT

machine_line
echo "# qkv $(git rev-parse --short HEAD), model $MODEL_DIR ($WEIGHTS), $THREADS threads, clients $CLIENTS, requests $REQUESTS, $MAX_TOKENS new tokens; jsonl: $OUT"
for p in $PARALLEL; do
  [[ " $SERVERS " == *" qkv "* ]] || break
  port=$(free_port)
  "$BUILD/bin/qkv" serve "$MODEL_DIR" --port "$port" --parallel "$p" --queue 64 --threads "$THREADS" \
    --weights "$WEIGHTS" 2>"$WORK/qkv-p$p.log" &
  SERVER_PID=$!
  wait_healthy "$port" "$SERVER_PID"
  "${LOAD[@]}" --port "$port" --server qkv --parallel "$p" || echo "# (qkv --parallel $p: some requests failed)"
  stop_server
done

if [[ -n $LLAMA_CPP && " $SERVERS " == *" llama "* ]]; then
  SERVER=$LLAMA_CPP/build/bin/llama-server
  GGUF=$(dirname "$MODEL_DIR")/$(basename "$MODEL_DIR")-$GGUF_TYPE.gguf
  if [[ ! -f $GGUF || $GGUF -ot $MODEL_DIR/model.safetensors ]]; then
    /usr/bin/python3 bench/peers/make_gpt2_gguf.py "$MODEL_DIR" "$TOKENIZER" "$GGUF" --outtype "$GGUF_TYPE" \
      --gguf-py "$LLAMA_CPP/gguf-py"
  fi
  echo "# llama-server: $("$SERVER" --version 2>&1 | grep -m1 version), $GGUF"
  for p in $PARALLEL; do
    port=$(free_port)
    # -c is the whole cache, shared by the slots: 1024 tokens a slot, as qkv's.
    "$SERVER" -m "$GGUF" --host 127.0.0.1 --port "$port" -np "$p" -cb -c $((1024 * p)) -t "$THREADS" -tb "$THREADS" \
      $LLAMA_ARGS >"$WORK/llama-p$p.log" 2>&1 &
    SERVER_PID=$!
    wait_healthy "$port" "$SERVER_PID"
    "${LOAD[@]}" --port "$port" --server llama --parallel "$p" --extra '{"ignore_eos": true}' ||
      echo "# (llama-server --parallel $p: some requests failed)"
    stop_server
  done
fi
echo "# done $(date -u '+%H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
"$BUILD/bin/qkv_bench_serve_load" --report "$OUT"
