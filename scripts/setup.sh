#!/usr/bin/env bash
# Installs every Debian package qkv needs. Idempotent: checks what is already
# installed, runs `apt-get update` once and `apt-get install` only for what is
# missing. Run as root (or with sudo available).
#   scripts/setup.sh          build + test dependencies
#   scripts/setup.sh --bench  also the benchmark peers (PyTorch, OpenBLAS variants)
set -euo pipefail

BUILD_PKGS=(
  g++ cmake make pkg-config
  libgtest-dev libgmock-dev googletest     # tests
  libbenchmark-dev                         # bench/ (Google Benchmark)
  nlohmann-json3-dev libcli11-dev          # JSON configs, the command line
  libutf8proc-dev                          # Unicode normalization + categories (tokenizers)
  libomp-dev                               # OpenMP headers (we link GCC's libgomp)
  libopenblas-dev libopenblas0-openmp      # GEMM candidate (also the peer's BLAS)
  libblis-dev libdnnl-dev                  # GEMM (oneDNN) and the candidates compared in bench/
  fortunes                                 # the demo's training text (/usr/share/games/fortunes)
  libcpp-httplib-dev                       # qkv serve (HTTP/1.1 server, server-sent events)
  libsentencepiece-dev                     # SentencePiece tokenizer.model files (Llama, Mistral, T5)
  pybind11-dev python3-dev python3-numpy   # the Python module (python/) and its tests
  libcairo2-dev libpango1.0-dev            # plots: PNG/SVG/PDF through Cairo, text through Pango
  fonts-dejavu-core fonts-noto-cjk         # fonts with Latin, CJK and Hangul coverage (fontconfig)
  chromium                                 # tests: qkv report opened in a real browser (headless)
  clang libclang-rt-14-dev                 # fuzz/ (libFuzzer + ASan/UBSan runtimes; only Recommended by clang-14)
)
BENCH_PKGS=(
  python3-torch python3-numpy              # the PyTorch peer (Debian's 1.13)
  sentencepiece                            # spm_train: BPE training peer (bench/tokenizers)
)

want=("${BUILD_PKGS[@]}")
if [[ "${1:-}" == "--bench" ]]; then want+=("${BENCH_PKGS[@]}"); fi

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "setup: all ${#want[@]} packages present"
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
echo "setup: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
