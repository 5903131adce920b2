#!/usr/bin/env bash
# bench/run_gemm_candidates.sh — build and time every fp32 GEMM candidate.
#
# Builds bench/fma_peak.cpp and one bench/gemm_candidates.cpp executable per
# backend into $BUILD_DIR (default /tmp/qkv_gemm_bench), measures the FMA peak,
# then runs every candidate × {1,2} threads × {default, OMP_WAIT_POLICY=passive}
# for $ROUNDS interleaved rounds (default 3) and prints one table:
# best-of-all-rounds GFLOP/s, median of the per-round medians, % of FMA peak.
# OpenBLAS is run as the environment stands (OPENBLAS_CORETYPE as set, or
# auto-detected) and forced to SkylakeX, Cooperlake and Haswell for comparison.
# Usage: bench/run_gemm_candidates.sh            (from the repository root)
#        ROUNDS=5 PEAK=117 bench/run_gemm_candidates.sh
#        LAYOUT=nt bench/run_gemm_candidates.sh   (B stored (N,K), C = A @ B^T)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-/tmp/qkv_gemm_bench}
ROUNDS=${ROUNDS:-3}
LAYOUT=${LAYOUT:-nn}
CXX=${CXX:-g++-12}
command -v "$CXX" >/dev/null || CXX=g++
mkdir -p "$BUILD_DIR"
LIB=/usr/lib/x86_64-linux-gnu
OPT="-O3 -march=x86-64-v3 -fopenmp -std=c++20"

echo "== building into $BUILD_DIR with $CXX"
$CXX -O2 -mavx512f -mfma -fopenmp bench/fma_peak.cpp -o "$BUILD_DIR/fma_peak"
$CXX $OPT -DCAND_OPENBLAS -I$LIB/../../include/x86_64-linux-gnu/openblas-pthread \
  bench/gemm_candidates.cpp -o "$BUILD_DIR/gemm_openblas" \
  $LIB/openblas-openmp/libopenblas.so.0 -Wl,-rpath,$LIB/openblas-openmp
$CXX $OPT -DCAND_BLIS -I/usr/include/x86_64-linux-gnu/blis-openmp \
  bench/gemm_candidates.cpp -o "$BUILD_DIR/gemm_blis" \
  $LIB/blis-openmp/libblis.so.4 -Wl,-rpath,$LIB/blis-openmp
$CXX $OPT -DCAND_DNNL bench/gemm_candidates.cpp -o "$BUILD_DIR/gemm_dnnl" -ldnnl
$CXX $OPT -DCAND_QKV -mavx512f -mavx512bw -mavx512vl -mavx512dq -mfma \
  bench/gemm_candidates.cpp src/qkv/kernels/gemm_avx512.cpp \
  -o "$BUILD_DIR/gemm_qkv"

echo "== FMA peak"
"$BUILD_DIR/fma_peak" | tee "$BUILD_DIR/fma_peak.txt"
if [[ -z "${PEAK:-}" ]]; then
  # per-core peak = best 1-thread zmm figure
  PEAK=$(awk '$1=="zmm-512" && $2==1 {print $3}' "$BUILD_DIR/fma_peak.txt")
fi
echo "== using FMA peak $PEAK GFLOP/s per core"

# label | environment prefix | executable
CONFIGS=(
  "openblas|env|gemm_openblas"
  "openblas-SkylakeX|env OPENBLAS_CORETYPE=SkylakeX|gemm_openblas"
  "openblas-Cooperlake|env OPENBLAS_CORETYPE=Cooperlake|gemm_openblas"
  "openblas-Haswell|env OPENBLAS_CORETYPE=Haswell|gemm_openblas"
  "blis|env|gemm_blis"
  "dnnl|env|gemm_dnnl"
  "qkv-own|env|gemm_qkv"
)
RAW="$BUILD_DIR/raw.txt"
: >"$RAW"
: >"$BUILD_DIR/info.txt"
echo "== OPENBLAS_CORETYPE in this environment: '${OPENBLAS_CORETYPE:-<unset>}'"
for round in $(seq "$ROUNDS"); do
  echo "== round $round/$ROUNDS"
  for cfg in "${CONFIGS[@]}"; do
    IFS='|' read -r label envp exe <<<"$cfg"
    for t in 1 2; do
      for wp in default passive; do
        wpenv=""
        [[ $wp == passive ]] && wpenv="OMP_WAIT_POLICY=passive"
        # shellcheck disable=SC2086
        $envp OMP_NUM_THREADS=$t $wpenv "$BUILD_DIR/$exe" "$t" "$PEAK" \
          "$label/$wp" "$LAYOUT" >>"$RAW" 2>>"$BUILD_DIR/info.txt"
      done
    done
  done
done

echo "== backends detected"
sort -u "$BUILD_DIR/info.txt"
echo
echo "== layout $LAYOUT; GFLOP/s: best of $ROUNDS rounds (median of round medians); %peak of best vs $PEAK GFLOP/s/core x threads"
awk -v peak="$PEAK" '
  { key=$1" "$2" "$3"x"$4"x"$5; if (!(key in best) || $6>best[key]) best[key]=$6;
    n[key]++; med[key, n[key]]=$7; maxerr[key]=($9>maxerr[key]?$9:maxerr[key]);
    if (!(key in seen)) { seen[key]=1; order[++nk]=key } }
  END {
    printf "| %-28s | %3s | %-14s | %18s | %6s | %8s |\n", "candidate/wait", "thr", "MxNxK", "GFLOP/s best (med)", "%peak", "maxrelerr";
    printf "|%s|%s|%s|%s|%s|%s|\n", "------------------------------", "-----", "----------------", "--------------------", "--------", "----------";
    for (i=1;i<=nk;i++) { k=order[i]; split(k, f, " ");
      m=n[k]; delete v; for (j=1;j<=m;j++) v[j]=med[k,j];
      # median of the per-round medians (insertion sort, m is small)
      for (a=2;a<=m;a++){x=v[a];b=a-1;while(b>0&&v[b]>x){v[b+1]=v[b];b--}v[b+1]=x}
      md=v[int((m+1)/2)];
      printf "| %-28s | %3s | %-14s | %8.1f (%7.1f) | %5.1f%% | %8.1e |\n", f[1], f[2], f[3], best[k], md, 100*best[k]/(peak*f[2]), maxerr[k] } }' "$RAW"
