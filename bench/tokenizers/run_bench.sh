#!/bin/bash
# Tokenizer speed: qkv vs tiktoken and Hugging Face tokenizers (npm bindings),
# same machine, same run, one thread, Tiny Shakespeare repeated to ~20 MB,
# encoded line by line. Usage: bench/tokenizers/run_bench.sh [build-dir]
# Peers: mkdir -p /tmp/tokpeer && (cd /tmp/tokpeer && npm install tiktoken @anush008/tokenizers)
set -euo pipefail
BUILD=${1:-build}
QKV=$BUILD/bin/qkv
DATA=${QKV_SHARED_DATA:-../shared/data}
PEER=${TOKPEER:-/tmp/tokpeer}
WORK=$(mktemp -d)
trap 'rm -rf $WORK' EXIT
for i in $(seq 18); do cat $DATA/tinyshakespeare/input.txt; done > $WORK/corpus.txt
MB=$(stat -c %s $WORK/corpus.txt | awk '{printf "%.2f", $1/1e6}')
echo "corpus: Tiny Shakespeare x18 = $MB MB; cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
$QKV tokenize --tokenizer $DATA/tokenizers/gpt2 --save $WORK/gpt2.json 2>/dev/null
$QKV tokenize --tokenizer $DATA/tokenizers/bert-base-uncased --save $WORK/bert.json 2>/dev/null
run_qkv() {  # name, tokenizer, extra flags
  local t0 t1 n
  t0=$(date +%s.%N)
  n=$(OMP_NUM_THREADS=1 QKV_NUM_THREADS=1 $QKV tokenize --tokenizer $2 --ids $3 < $WORK/corpus.txt | wc -w)
  t1=$(date +%s.%N)
  awk -v n="$1" -v mb=$MB -v a=$t0 -v b=$t1 -v t=$n \
    'BEGIN {s = b - a; printf "%-28s %8.2f MB/s %7.2f Mtok/s  (CLI, incl. printing ids)\n", n, mb/s, t/s/1e6}'
}
run_qkv "qkv gpt2" $DATA/tokenizers/gpt2 --no-parse-special
run_qkv "qkv bert" $DATA/tokenizers/bert-base-uncased ""
NODE_PATH=$PEER/node_modules node bench/tokenizers/peers.mjs $WORK/corpus.txt $WORK/gpt2.json $WORK/bert.json
t0=$(date +%s.%N)
$QKV train-tokenizer --type bpe --vocab-size 8000 --threads 1 --out $WORK/bpe8k $DATA/tinyshakespeare/input.txt > /dev/null
awk -v a=$t0 -v b=$(date +%s.%N) 'BEGIN {printf "qkv train-tokenizer bpe 8000 (Tiny Shakespeare 1.1 MB, 1 thread): %.2f s\n", b - a}'
