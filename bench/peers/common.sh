# Sourced by the bench/run_*.sh drivers (bench/run_bert.sh so far; run_gpt.sh
# and run_seq2seq.sh still carry their own copies of the same lines).
#   machine_line          prints "# machine: CPU, N cores, date, load a b c"
#   run_peer POLICY CMD…  runs CMD as the PyTorch peer at its best
#                         (bench/peers/README.md): OpenBLAS's OpenMP build, its
#                         AVX-512 kernels, and the wait policy POLICY = passive,
#                         active, or spinN (GOMP_SPINCOUNT=N, qkv's default kind).
#   free_port             a TCP port free on 127.0.0.1 now (run_serve*.sh's servers)
#   wait_healthy PORT PID [S]  until GET /health answers 200; false if PID exits or S (120) seconds pass
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

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_healthy() {
  local port=$1 pid=$2 secs=${3:-120}
  for _ in $(seq $((secs * 5))); do
    curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || { echo "server exited before answering /health" >&2; return 1; }
    sleep 0.2
  done
  echo "server not healthy after $secs s" >&2
  return 1
}
