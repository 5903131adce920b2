#!/bin/sh
# Redraws the pictures of docs/PLOTS.md: two tiny GPTs (2 layers × 4 heads,
# 64 wide, learned vs rotary positions, GPT-2's tokenizer) trained for a few
# hundred steps on Tiny Shakespeare (a few minutes on two cores), then one
# picture per plot command. Run from the repository root after a build:
#   sh docs/img/make_images.sh            (QKV=path/to/qkv, DATA=../shared/data to override)
set -eu
QKV=${QKV:-build/bin/qkv}
DATA=${DATA:-../shared/data}
OUT=docs/img
RUNS=$(mktemp -d)
trap 'rm -rf "$RUNS"' EXIT
for pos in learned rope; do
  "$QKV" train gpt --data "$DATA/tinyshakespeare/input.txt" --tokenizer "$DATA/tokenizers/gpt2" \
    --out "$RUNS/$pos" --pos-encoding "$pos" --n-layer 2 --n-head 4 --n-embd 64 --block-size 64 \
    --batch-size 8 --max-iters 300 --eval-interval 50 --eval-iters 5 --warmup-iters 30 \
    --lr-decay-iters 300 --lr 3e-3 --threads 2 > /dev/null
done
"$QKV" plot loss "$RUNS/learned" "$RUNS/rope" -o "$OUT/loss.png"
TEXT="ROMEO:
But soft, what light 東京 한국어"
"$QKV" plot attention "$RUNS/learned" --text "$TEXT" --layer 1 --head 0 -o "$OUT/attention.png"
"$QKV" plot attention "$RUNS/learned" --text "But soft, what light" --grid -o "$OUT/attention_grid.png"
"$QKV" plot next-token "$RUNS/learned" --prompt "ROMEO:
But soft, what" -k 12 -o "$OUT/next_token.png"
"$QKV" plot embeddings "$RUNS/learned" --tokens " king, queen, man, woman, lord, lady, he, she, his, her, sir, madam" \
  -o "$OUT/embeddings.png"
"$QKV" generate "$RUNS/learned" --prompt "ROMEO:" --max-new-tokens 3 --temperature 0 --show-probs 3
"$QKV" neighbors "$RUNS/learned" " king" -k 5
# The run report (docs/PLOTS.md, "The run report"), photographed by headless
# Chromium with no network; made from inside $RUNS so its title reads runs/learned.
mkdir "$RUNS/runs" && ln -s "$RUNS/learned" "$RUNS/runs/learned"
QKV_ABS=$(realpath "$QKV")
(cd "$RUNS" && "$QKV_ABS" report runs/learned -o report.html --samples 2 --max-new-tokens 80)
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1000,1500 \
  --host-resolver-rules='MAP * ~NOTFOUND' --screenshot="$OUT/report.png" "file://$RUNS/report.html" 2>/dev/null
# Sentence embeddings (docs/PLOTS.md, "Embeddings"): the encoder of a small
# German→English translation model trained for a few minutes on Multi30k,
# twelve German sentences on four themes (dogs, cycling, water, music).
"$QKV" train translate --src "$DATA/multi30k/train.de" --tgt "$DATA/multi30k/train.en" \
  --valid-src "$DATA/multi30k/val.de" --valid-tgt "$DATA/multi30k/val.en" --out "$RUNS/de-en" \
  --vocab-size 4000 --d-model 128 --n-heads 4 --d-ff 512 --n-encoder-layers 2 --n-decoder-layers 2 \
  --dropout 0.1 --max-tokens 2048 --max-iters 800 --eval-interval 400 --lr 1e-3 --warmup-iters 200 \
  --bleu-sentences 100 --threads 2 > /dev/null
cat > "$RUNS/sentences.txt" <<'TXT'
Ein Hund läuft über die Wiese.
Ein brauner Hund rennt durch das Gras.
Zwei Hunde spielen im Schnee.
Ein Mann fährt Fahrrad auf der Straße.
Eine Frau fährt mit dem Fahrrad.
Ein Radfahrer fährt einen Berg hinauf.
Kinder spielen im Wasser.
Ein Junge springt in den Pool.
Ein Mädchen schwimmt im See.
Ein Mann spielt Gitarre auf der Bühne.
Eine Band spielt ein Konzert.
Eine Frau singt in ein Mikrofon.
TXT
"$QKV" plot embeddings "$RUNS/de-en" --sentences "$RUNS/sentences.txt" -o "$OUT/sentences.png"
