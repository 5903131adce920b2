"""Shared by the PyTorch peers (bench/peers/torch_bert.py so far; torch_ops.py,
torch_gpt.py and torch_seq2seq.py still carry their own copies of the same
code): the thread variables to set before torch loads, the BLAS line each JSON
record carries, the warm-up/samples timing of bench/bench_util.h, and one
report line (JSON for bench/compare.py, or a readable row).

    import common
    common.set_thread_env(args.threads)   # before `import torch`
    import torch
    report = common.Reporter(args.json, args.threads, torch.__version__)
    best, median = common.time_it(fn, warmup=2, reps=5, min_ms=0.0)
    report("infer", "shape …", best, median, {"sequences_per_sec": …}, "readable tail")
"""
import json
import os
import statistics
import time


def set_thread_env(threads):
    """OMP_NUM_THREADS / OPENBLAS_NUM_THREADS = threads unless already set; call
    before importing torch (an OpenBLAS pthread pool ignores torch.set_num_threads)."""
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    os.environ.setdefault("OPENBLAS_NUM_THREADS", str(threads))


def blas_desc():
    """The libblas.so mapped into this process, the OpenBLAS core asked for and the wait policy."""
    try:
        libs = [l.split()[-1] for l in open("/proc/self/maps") if "libblas.so" in l]
        lib = libs[0] if libs else "?"
    except OSError:
        lib = "?"
    wait = os.environ.get("OMP_WAIT_POLICY") or (
        "spin" + os.environ["GOMP_SPINCOUNT"] if "GOMP_SPINCOUNT" in os.environ else "unset")
    return f"{lib} core={os.environ.get('OPENBLAS_CORETYPE', 'auto')} wait={wait}"


def time_it(fn, warmup, reps, min_ms):
    """`warmup` untimed calls, then `reps` samples; a sample repeats fn until it
    lasts >= min_ms and counts the mean per call. Returns (best, median) in ms."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(reps):
        inner, t0 = 0, time.perf_counter()
        while True:
            fn()
            inner += 1
            ms = (time.perf_counter() - t0) * 1e3
            if ms >= min_ms:
                break
        samples.append(ms / inner)
    return min(samples), statistics.median(samples)


class Reporter:
    """report(case, shape, best, median, extra, text): one JSON line
    {"peer": "torch", case, shape, threads, ms_best, ms_median, **extra, torch, blas}
    or a row padded to the given widths."""

    def __init__(self, as_json, threads, torch_version, case_width=12, shape_width=40):
        self.json, self.threads, self.version = as_json, threads, torch_version
        self.cw, self.sw = case_width, shape_width

    def __call__(self, case, shape, best, median, extra, text):
        if self.json:
            r = {"peer": "torch", "case": case, "shape": shape, "threads": self.threads,
                 "ms_best": round(best, 4), "ms_median": round(median, 4)}
            r.update(extra)
            r.update({"torch": self.version, "blas": blas_desc()})
            print(json.dumps(r), flush=True)
        else:
            print(f"{case:<{self.cw}} {shape:<{self.sw}} threads {self.threads}  best {best:9.3f} ms  "
                  f"median {median:9.3f} ms  {text}", flush=True)
