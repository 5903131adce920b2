#!/bin/bash
# BPE training at vocab 8000 on Tiny Shakespeare: qkv vs SentencePiece (spm_train)
# and Hugging Face tokenizers' BpeTrainer (npm binding), same run.
#
#   bench/tokenizers/bpe_train.sh [build-dir] [reps]
#
# 1. Training time on the whole file (1.1 MB), best-of/median of `reps` runs,
#    tools interleaved so that load from other jobs hits all of them alike.
#    Wall time of the whole process (reading the file, writing the model), and
#    for qkv and HF also the trainer's own figure ("train call only").
# 2. Compression: train on the first 90% (bytes), count tokens on the last 10%
#    (encoded as one string; SentencePiece per line, see below), tokens per byte.
#
# Settings that differ:
#  - qkv: byte-level BPE, GPT-2 pre-tokenizer, alphabet = 256 bytes, min frequency 2
#    (CLI default; the 7744th merge is far above 2, so 0 gives the same merges).
#  - HF: the node binding has no BpeTrainer constructor, only Tokenizer.train(files)
#    with BpeTrainer::default() (vocab 30000, min_frequency 0, alphabet = characters
#    seen); hf_bpe_train.mjs keeps the first 8000-256 merges, which is exactly
#    BpeTrainer(vocab_size=8000, initial_alphabet=ByteLevel.alphabet()) (greedy
#    trainer, see there). Its training time is therefore for ~20000 merges (it
#    runs until no pair is left), an upper bound for vocab 8000.
#  - spm_train: defaults (character_coverage 0.9995, byte_fallback false,
#    nmt_nfkc normalization, remove_extra_whitespaces, one sentence per line so
#    newlines are never tokens, max piece length 16, 3 of the 8000 ids are
#    <unk> <s> </s>). Its token count is given raw and with +1 per newline.
#
# Peers: apt-get install -y sentencepiece (scripts/setup.sh --bench);
#        mkdir -p /tmp/tokpeer-hf && (cd /tmp/tokpeer-hf && npm install tokenizers@0.23.2)
set -euo pipefail
BUILD=${1:-build}
REPS=${2:-5}
QKV=$BUILD/bin/qkv
DATA=${QKV_SHARED_DATA:-../shared/data}
HFPEER=${HF_TOKPEER:-/tmp/tokpeer-hf}
HERE=$(cd "$(dirname "$0")" && pwd)
IN=$DATA/tinyshakespeare/input.txt
WORK=$(mktemp -d)
trap 'rm -rf $WORK' EXIT
export OMP_WAIT_POLICY=passive
have_hf=1
[[ -d $HFPEER/node_modules/tokenizers || -d $HFPEER/node_modules/@anush008/tokenizers ]] || have_hf=0
command -v spm_train > /dev/null || { echo "spm_train missing: apt-get install -y sentencepiece"; exit 1; }

echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2), $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== 1. training time, vocab 8000, $IN ($(stat -c %s $IN) bytes), $REPS reps"
declare -A T
timeit() {  # key, command...
  local t0 t1
  t0=$(date +%s.%N)
  "${@:2}" > $WORK/log 2>&1 || { cat $WORK/log; exit 1; }
  t1=$(date +%s.%N)
  T[$1]+="$(awk -v a=$t0 -v b=$t1 'BEGIN {printf "%.3f", b - a}') "
  # The trainer's own figure (excludes process start, reading, writing).
  local own
  own=$(grep -o 'in [0-9.]* s' $WORK/log | awk '{print $2}'; grep -o '"train_s":[0-9.]*' $WORK/log | cut -d: -f2) || true
  [[ -n $own ]] && T["$1 [train call only]"]+="$own "
  return 0
}
for r in $(seq $REPS); do
  for th in 1 2; do
    timeit "qkv bpe, $th thread(s)" $QKV train-tokenizer --type bpe --vocab-size 8000 --threads $th --out $WORK/qkv $IN
    timeit "spm_train bpe, $th thread(s)" spm_train --input=$IN --model_prefix=$WORK/spm --model_type=bpe \
      --vocab_size=8000 --num_threads=$th --minloglevel=1
    if ((have_hf)); then
      timeit "HF BpeTrainer to ~20k merges, $th thread(s)" env RAYON_NUM_THREADS=$th NODE_PATH=$HFPEER/node_modules \
        node $HERE/hf_bpe_train.mjs $IN 8000 $WORK/hf.json
    fi
  done
done
for k in "${!T[@]}"; do
  v=($(tr ' ' '\n' <<< "${T[$k]}" | grep . | sort -g))
  printf "  %-44s best %6.2f s  median %6.2f s  (all: %s)\n" "$k" ${v[0]} ${v[$((${#v[@]} / 2))]} "${T[$k]% }"
done | sort

echo "== 2. compression: train on the first 90%, tokens per byte on the last 10%"
python3 - "$IN" $WORK <<'EOF'
import sys
d = open(sys.argv[1], 'rb').read(); n = int(len(d) * 0.9)
open(sys.argv[2] + '/train.txt', 'wb').write(d[:n]); open(sys.argv[2] + '/val.txt', 'wb').write(d[n:])
import json; open(sys.argv[2] + '/val.jsonl', 'w').write(json.dumps({"text": d[n:].decode()}) + '\n')
EOF
VALB=$(stat -c %s $WORK/val.txt)
count_qkv() { $QKV tokenize --tokenizer $1 --jsonl --ids --no-parse-special < $WORK/val.jsonl | wc -w; }
$QKV train-tokenizer --type bpe --vocab-size 8000 --out $WORK/qkv8k $WORK/train.txt > /dev/null
$QKV train-tokenizer --type bpe --vocab-size 8000 --min-frequency 0 --out $WORK/qkv8k0 $WORK/train.txt > /dev/null
QN=$(count_qkv $WORK/qkv8k/tokenizer.json)
cmp -s $WORK/qkv8k/merges.txt $WORK/qkv8k0/merges.txt && MF="same merges with --min-frequency 0" || MF="min-frequency 0 changes merges!"
printf "  %-44s %6d tokens / %d bytes = %.4f tokens/byte  (%s)\n" "qkv bpe 8000" $QN $VALB $(echo "$QN / $VALB" | bc -l) "$MF"
if ((have_hf)); then
  HFJ=$(NODE_PATH=$HFPEER/node_modules node $HERE/hf_bpe_train.mjs $WORK/train.txt 8000 $WORK/hf8k.json $WORK/val.txt 2> /dev/null)
  HN=$(echo "$HFJ" | python3 -c 'import json,sys; print(json.load(sys.stdin)["val_tokens"])')
  printf "  %-44s %6d tokens / %d bytes = %.4f tokens/byte\n" "HF BpeTrainer 8000 ($(echo "$HFJ" | python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["peer"], j["merges_kept"], "of", j["merges_trained"], "merges")'))" $HN $VALB $(echo "$HN / $VALB" | bc -l)
  printf "  qkv / HF tokens: %.4f (%+.2f%%)\n" $(echo "$QN / $HN" | bc -l) $(echo "($QN / $HN - 1) * 100" | bc -l)
  # Cross-checks: qkv encoding HF's model, and how many merges the two trainers share.
  printf "  qkv encoding HF's tokenizer.json: %d tokens (HF itself: %d)\n" $(count_qkv $WORK/hf8k.json) $HN
  python3 - $WORK/qkv8k/merges.txt $WORK/hf8k.json <<'EOF'
import json, sys
q = [tuple(l.split(' ')) for l in open(sys.argv[1], encoding='utf-8').read().split('\n') if l and not l.startswith('#version')]
h = [tuple(m) if isinstance(m, list) else tuple(m.split(' ')) for m in json.load(open(sys.argv[2], encoding='utf-8'))['model']['merges']]
same = next((i for i, (a, b) in enumerate(zip(q, h)) if a != b), min(len(q), len(h)))
print(f"  merges: qkv {len(q)}, HF {len(h)}; identical prefix {same}; same set {len(set(q) & set(h))}")
EOF
else
  echo "  HF tokenizers: no npm package under $HFPEER (npm install tokenizers@0.23.2 there)"
fi
spm_train --input=$WORK/train.txt --model_prefix=$WORK/spm8k --model_type=bpe --vocab_size=8000 --minloglevel=1 > /dev/null 2>&1
SN=$(spm_encode --model=$WORK/spm8k.model --output_format=id < $WORK/val.txt | wc -w)
NL=$(wc -l < $WORK/val.txt)
printf "  %-44s %6d tokens = %.4f tokens/byte; +1 per newline (%d): %.4f\n" "spm_train bpe 8000 (defaults)" $SN \
  $(echo "$SN / $VALB" | bc -l) $NL $(echo "($SN + $NL) / $VALB" | bc -l)
