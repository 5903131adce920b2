#!/usr/bin/env bash
# Training quality against nanoGPT: trains nanoGPT (PyTorch, CPU, no compile)
# and qkv on Tiny Shakespeare with nanoGPT's CPU configuration (4 layers, 4
# heads, 128 wide, block 64, batch 12, 2000 iterations, dropout 0, bias=False,
# lr 1e-3 → 1e-4 cosine, 100 warm-up steps, β2 0.99, weight decay 0.1, clip 1)
# for each seed, one run at a time, then scores every final model on the
# WHOLE validation split (bench/nanogpt/full_val_loss.py: every target once,
# non-overlapping 64-token windows) and prints a table and the means.
#
#   bench/nanogpt/run_quality.sh [BUILD_DIR]
#   env: SEEDS="1 2 3"   WORK=/tmp/qkv-quality (runs + results.jsonl; finished
#        runs found there are scored again, not retrained)
#        TAG=qkv          label of the qkv runs (e.g. before/after a change)
#        SKIP_NANOGPT=1 / SKIP_QKV=1 (both: only print the table for SEEDS)
#        NANOGPT_SRC=DIR  a checkout of karpathy/nanoGPT (default: exported
#                         from the `fetch` mirror /work/.mirror/karpathy+nanoGPT)
#        DATA=../shared/data/tinyshakespeare/input.txt
#
# nanoGPT's seed is fixed in train.py (torch.manual_seed(1337 + seed_offset));
# each run uses a copy of train.py with that one line patched, in WORK, never
# in this repository. nanoGPT runs with --always_save_checkpoint=True so its
# ckpt.pt is the model after all 2000 steps (the config file's False keeps
# the best 20-batch estimate instead), like qkv's model.safetensors.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
BUILD=${1:-build}
SEEDS=${SEEDS:-1 2 3}
WORK=${WORK:-/tmp/qkv-quality}
TAG=${TAG:-qkv}
DATA=$(realpath "${DATA:-../shared/data/tinyshakespeare/input.txt}")
PY=/usr/bin/python3
MIRROR=/work/.mirror/karpathy+nanoGPT/repo
RESULTS=$WORK/results.jsonl
mkdir -p "$WORK"

# The peer at its best (bench/peers/README.md): OpenBLAS's OpenMP build, AVX-512 kernels;
# passive waiting, since libgomp's default spinning collapses on a shared machine
# (RESULTS.md, "Wait policy"). Only speed depends on it.
PEER_ENV=(OPENBLAS_CORETYPE=Cooperlake LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp
          OMP_WAIT_POLICY=${PEER_WAIT_POLICY:-passive})

echo "# machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(date -u '+%F %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg)"

score() {  # score KIND SEED MODEL SECONDS
  local kind=$1 seed=$2 model=$3 secs=$4
  local j
  j=$(env "${PEER_ENV[@]}" $PY "$ROOT/bench/nanogpt/full_val_loss.py" "$model" --data "$DATA" --window 64 --json)
  echo "$j" | $PY -c "import json,sys; d=json.loads(sys.stdin.read()); d.update(kind='$kind', seed=$seed, train_seconds=$secs); print(json.dumps(d))" >> "$RESULTS"
  echo "  $kind seed $seed: full-val loss $(echo "$j" | $PY -c 'import json,sys; print("%.4f" % json.load(sys.stdin)["val_loss"])')"
}

# ---------------------------------------------------------------- nanoGPT
if [[ -z ${SKIP_NANOGPT:-} ]]; then
  NG=$WORK/nanogpt-src
  if [[ ! -f $NG/train.py ]]; then
    mkdir -p "$NG"
    if [[ -n ${NANOGPT_SRC:-} ]]; then cp -r "$NANOGPT_SRC"/. "$NG"/
    else git --git-dir="$MIRROR" archive HEAD | tar -x -C "$NG"; fi
  fi
  echo "# nanoGPT $(git --git-dir="$MIRROR" rev-parse --short HEAD 2>/dev/null || echo '(given source)')"
  if [[ ! -f $NG/data/shakespeare_char/val.bin ]]; then
    cp "$DATA" "$NG/data/shakespeare_char/input.txt"
    (cd "$NG/data/shakespeare_char" && $PY prepare.py)
  fi
  for seed in $SEEDS; do
    out=$WORK/nanogpt-s$seed
    if [[ -f $out/ckpt.pt ]] && $PY -c "import torch,sys; sys.exit(torch.load('$out/ckpt.pt')['iter_num'] != 2000)"; then
      echo "nanoGPT seed $seed: reusing $out"; secs=0
    else
      rm -rf "$out"
      sed "s/torch.manual_seed(1337 + seed_offset)/torch.manual_seed($seed + seed_offset)/" "$NG/train.py" > "$NG/train_seed.py"
      grep -q "torch.manual_seed($seed + seed_offset)" "$NG/train_seed.py" || { echo "seed patch failed" >&2; exit 1; }
      echo "nanoGPT seed $seed → $out"
      t0=$(date +%s)
      (cd "$NG" && env "${PEER_ENV[@]}" $PY train_seed.py config/train_shakespeare_char.py --device=cpu --compile=False \
        --eval_iters=20 --log_interval=100 --block_size=64 --batch_size=12 --n_layer=4 --n_head=4 --n_embd=128 \
        --max_iters=2000 --lr_decay_iters=2000 --dropout=0.0 --bias=False --always_save_checkpoint=True \
        --out_dir="$out") > "$WORK/nanogpt-s$seed.log" 2>&1
      secs=$(( $(date +%s) - t0 ))
      grep '^step 2000' "$WORK/nanogpt-s$seed.log"
    fi
    score nanogpt "$seed" "$out" "$secs"
  done
fi

# ---------------------------------------------------------------- qkv
if [[ -z ${SKIP_QKV:-} ]]; then
  echo "# qkv: $BUILD/bin/qkv as $TAG (this checkout: $(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet HEAD -- src include || echo ', src changed'))"
  for seed in $SEEDS; do
    out=$WORK/$TAG-s$seed
    if [[ -f $out/trainer_state.json ]] && grep -q '"step": *2000' "$out/trainer_state.json"; then
      echo "qkv seed $seed: reusing $out"; secs=0
    else
      rm -rf "$out"
      echo "qkv seed $seed → $out"
      t0=$(date +%s)
      "$BUILD/bin/qkv" train gpt --data "$DATA" --out "$out" --n-layer 4 --n-head 4 --n-embd 128 --block-size 64 \
        --batch-size 12 --dropout 0 --bias false --max-iters 2000 --lr 1e-3 --min-lr 1e-4 --warmup-iters 100 \
        --lr-decay-iters 2000 --beta2 0.99 --weight-decay 0.1 --grad-clip 1.0 --seed "$seed" \
        --eval-interval 250 --eval-iters 20 --log-interval 500 --threads 2 > "$WORK/$TAG-s$seed.log" 2>&1
      secs=$(( $(date +%s) - t0 ))
      grep '^step 2000' "$WORK/$TAG-s$seed.log"
    fi
    score "$TAG" "$seed" "$out" "$secs"
  done
fi

# ---------------------------------------------------------------- table
echo "# done $(date -u '+%H:%M UTC'); results in $RESULTS (latest line per kind and seed)"
$PY - "$RESULTS" "$SEEDS" <<'EOF'
import json, sys, statistics
rows = {}
for line in open(sys.argv[1]):
    d = json.loads(line)
    rows[(d["kind"], d["seed"])] = d["val_loss"]
seeds = [int(s) for s in sys.argv[2].split()]
kinds = sorted({k for k, _ in rows}, key=lambda k: (k != "nanogpt", k))
print("| seed | " + " | ".join(kinds) + " |")
print("|---" * (len(kinds) + 1) + "|")
for s in seeds:
    print(f"| {s} | " + " | ".join(f"{rows[(k, s)]:.4f}" if (k, s) in rows else "–" for k in kinds) + " |")
means = {k: statistics.mean(rows[(k, s)] for s in seeds) for k in kinds if all((k, s) in rows for s in seeds)}
print("| mean | " + " | ".join(f"{means[k]:.4f}" if k in means else "–" for k in kinds) + " |")
if "nanogpt" in means:
    for k in means:
        if k != "nanogpt":
            print(f"{k} − nanogpt = {means[k] - means['nanogpt']:+.4f}")
EOF
