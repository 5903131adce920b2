#!/usr/bin/env bash
# Issue #13's reliability target: a soak run against `qkv serve`
# (bench/serve_soak.cpp) — thousands of requests from concurrent clients:
# seeded completions (streamed or not), clients that hang up mid-stream or
# give up waiting, malformed JSON, wrong types, oversized and deeply nested
# bodies, unknown paths, half-sent requests. Afterwards the server must answer
# /health with nothing left running, its RSS must be flat, and SIGTERM must
# stop it with status 0. Then a fresh server replays every completed seeded
# request alone: the texts must be the same. Exit status non-zero on any failure.
#   bench/run_serve_soak.sh [BUILD_DIR]
#   env: REQUESTS=3000 CLIENTS=8 SEED=1 PARALLEL=4 QUEUE=8 THREADS=2
#        MODEL_DIR=/tmp/qkv-serve-bench/tiny (made once: 2 layers × 64 wide, context 128, GPT-2's tokenizer)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/peers/common.sh
BUILD=$(realpath "${1:-build}")
REQUESTS=${REQUESTS:-3000}
CLIENTS=${CLIENTS:-8}
SEED=${SEED:-1}
PARALLEL=${PARALLEL:-4}
QUEUE=${QUEUE:-8}
THREADS=${THREADS:-2}
MAX_BODY=65536
MODEL_DIR=${MODEL_DIR:-/tmp/qkv-serve-bench/tiny}
TOKENIZER=${TOKENIZER:-../shared/data/tokenizers/gpt2}
WORK=$(mktemp -d /tmp/qkv-bench-serve-soak.XXXXXX)
unset OMP_WAIT_POLICY GOMP_SPINCOUNT

if [[ ! -f $MODEL_DIR/model.safetensors ]]; then
  mkdir -p "$(dirname "$MODEL_DIR")"
  head -c 120000 ../shared/data/tinyshakespeare/input.txt > "$WORK/corpus.txt"
  "$BUILD/bin/qkv" train gpt --data "$WORK/corpus.txt" --tokenizer "$TOKENIZER" --n-layer 2 --n-head 2 \
    --n-embd 64 --block-size 128 --batch-size 1 --max-iters 0 --eval-iters 1 --out "$MODEL_DIR" >&2
  rm -rf "$MODEL_DIR/best" "$MODEL_DIR/optimizer.safetensors" "$MODEL_DIR/loss.svg"
fi
CTX=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["block_size"])' "$MODEL_DIR/config.json")

SERVER_PID=
start_server() {  # LOG: a fresh server on a free port (sets PORT, SERVER_PID)
  PORT=$(free_port)
  "$BUILD/bin/qkv" serve "$MODEL_DIR" --port "$PORT" --parallel "$PARALLEL" --queue "$QUEUE" --threads "$THREADS" \
    --max-body "$MAX_BODY" 2>"$1" &
  SERVER_PID=$!
  wait_healthy "$PORT" "$SERVER_PID" 60
}
stop_server() {  # SIGTERM; prints the exit status and how long the drain took
  [[ -n $SERVER_PID ]] || return 0
  local t0=$SECONDS status=0
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" || status=$?
  echo "# SIGTERM: the server exited with status $status after $((SECONDS - t0)) s"
  SERVER_PID=
  return "$status"
}
trap 'stop_server >/dev/null || true' EXIT

machine_line
echo "# qkv $(git rev-parse --short HEAD), model $MODEL_DIR, --parallel $PARALLEL --queue $QUEUE --max-body $MAX_BODY, $THREADS threads; work dir $WORK"
failed=0
start_server "$WORK/soak-server.log"
"$BUILD/bin/qkv_bench_serve_soak" --port "$PORT" --pid "$SERVER_PID" --requests "$REQUESTS" --clients "$CLIENTS" \
  --seed "$SEED" --max-body "$MAX_BODY" --ctx "$CTX" --record "$WORK/seeded.jsonl" || failed=1
stop_server || failed=1

start_server "$WORK/verify-server.log"
"$BUILD/bin/qkv_bench_serve_soak" --port "$PORT" --verify "$WORK/seeded.jsonl" || failed=1
stop_server || failed=1
echo "# done $(date -u '+%H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg); $([[ $failed == 0 ]] && echo PASS || echo FAIL)"
exit "$failed"
