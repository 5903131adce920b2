# Sourced by the bench/run_*.sh drivers (bench/run_bert.sh so far; run_gpt.sh
# and run_seq2seq.sh still carry their own copies of the same lines).
#   machine_line          prints "# machine: CPU, N cores, date, load a b c"
#   run_peer POLICY CMD…  runs CMD as the PyTorch peer at its best
#                         (bench/peers/README.md): OpenBLAS's OpenMP build, its
#                         AVX-512 kernels, and the wait policy POLICY = passive,
#                         active, or spinN (GOMP_SPINCOUNT=N, qkv's default kind).
# qkv keeps its own default wait policy (ensure_wait_policy): a driver should
# `unset OMP_WAIT_POLICY GOMP_SPINCOUNT` before running either side.

machine_line() {
  echo "# machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(date -u '+%F %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg)"
}

run_peer() {
  local policy=$1; shift
  local wait=(OMP_WAIT_POLICY=$policy)
  [[ $policy == spin* ]] && wait=(GOMP_SPINCOUNT=${policy#spin})
  env "${wait[@]}" OPENBLAS_CORETYPE=Cooperlake \
    LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp "$@"
}
