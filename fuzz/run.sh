#!/usr/bin/env bash
# Runs every fuzz target of a build-fuzz tree for SECONDS each (docs/FUZZING.md):
#   fuzz/run.sh BUILD_DIR SECONDS [JOBS]
# Each target starts from its seeds (BUILD_DIR/seeds/<target>) and keeps what
# it finds in BUILD_DIR/corpus/<target> (kept between runs). JOBS targets run
# at once. A crash, sanitizer report, leak, timeout (-timeout) or memory bomb
# (-rss_limit_mb / -malloc_limit_mb) fails the run: the target's log is printed
# and the input that did it is left in BUILD_DIR/crashes/. The random seed is
# fixed (FUZZ_SEED, default 1) so a CI failure can be replayed; set FUZZ_SEED=0
# for a time-based one in long runs.
set -uo pipefail
build=${1:?usage: fuzz/run.sh BUILD_DIR SECONDS [JOBS]}
seconds=${2:?usage: fuzz/run.sh BUILD_DIR SECONDS [JOBS]}
jobs=${3:-$(nproc)}
build=$(cd "$build" && pwd)
mkdir -p "$build/corpus" "$build/crashes" "$build/logs"

run_one() {
  local t=$1 build=$2 seconds=$3
  mkdir -p "$build/corpus/$t"
  # -max_len: files bigger than 64 KB add time, not coverage.
  if ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
     "$build/fuzz_$t" -seed="${FUZZ_SEED:-1}" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 -max_len=65536 \
       -print_final_stats=1 -artifact_prefix="$build/crashes/$t-" \
       "$build/corpus/$t" "$build/seeds/$t" > "$build/logs/$t.log" 2>&1; then
    local last runs
    last=$(grep -E '^#[0-9]+' "$build/logs/$t.log" | tail -1)
    runs=$(grep -E '^stat::number_of_executed_units' "$build/logs/$t.log" | awk '{print $2}')
    printf 'fuzz %-17s ok  %6s runs  %s\n' "$t" "$runs" "$(echo "$last" | grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[^ ]+')"
  else
    # libFuzzer's -timeout is wall-clock time: a process stopped for a while
    # (SIGSTOP on a shared machine, a suspended VM) times out on any input.
    # A timeout whose input runs within the limit again is reported, not failed.
    local unit
    unit=$(grep -oE "Test unit written to [^ ]*timeout-[0-9a-f]+" "$build/logs/$t.log" | awk '{print $NF}')
    if [[ -n "$unit" ]] && grep -q "SUMMARY: libFuzzer: timeout" "$build/logs/$t.log" &&
       "$build/fuzz_$t" -timeout=20 -rss_limit_mb=2048 "$unit" > "$build/logs/$t.rerun.log" 2>&1; then
      printf 'fuzz %-17s ok  (timed out on %s, which alone runs within 20 s: was the process paused?)\n' "$t" \
        "$(basename "$unit")"
      rm -f "$unit"
      return 0
    fi
    echo "fuzz $t FAILED — log $build/logs/$t.log:"
    tail -60 "$build/logs/$t.log"
    return 1
  fi
}
export -f run_one

xargs -a "$build/fuzz_targets.txt" -P "$jobs" -I{} bash -c 'run_one "$@"' _ {} "$build" "$seconds"
