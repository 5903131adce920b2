#!/usr/bin/python3
"""PyTorch peer for qkv's op benchmarks.

    /usr/bin/python3 bench/peers/torch_ops.py --threads N [--json] CASE...

CASE is one or more of: attention gemm softmax layernorm gelu add copy all

  attention   B4 H12 T256 hs64 fp32 scaled dot-product attention, plain and
              causal; forward (under no_grad) and forward+backward (grads wrt
              q, k, v). Reports ms.
  gemm        torch.mm at (M,K,N) = (64,768,768), (256,768,3072),
              (1024,1024,1024). Reports GFLOP/s (2*M*N*K / time) and ms.
  softmax     row softmax, layernorm (weight+bias, last dim), gelu (erf), add
  layernorm   (a+b) on a 4096x4096 fp32 tensor (64 MiB, well past L2/L3),
  gelu        written into a preallocated output (out= variants), so no page
  add         faults are timed. Reports GB/s = bytes read+written / time, next
              to the GB/s of Tensor.copy_ over a tensor of the same size.
  copy        Tensor.copy_ alone (the memcpy reference line).

Timing: warm-up, then --reps samples; each sample runs the op enough times
to last >= --min-ms, and the per-call time is sample/inner. ms_best is the
minimum, ms_median the median over samples.

Output: a human table by default; with --json one JSON object per line, e.g.
  {"peer":"torch","case":"attention_fwd_bwd","shape":"B4 H12 T256 hs64",
   "threads":2,"ms_best":...,"ms_median":...}
gemm lines add gflops_best/gflops_median; bandwidth lines add gbps_best,
gbps_median, bytes and copy_gbps_best (the copy_ reference). Every line carries
"blas" (the libblas.so.3 torch resolved sgemm_ to, plus the OpenBLAS core
name) so a driver can tell how the peer was run.

Threads: --threads sets torch.set_num_threads, and, unless already set in the
environment, OMP_NUM_THREADS and OPENBLAS_NUM_THREADS before torch is
imported (the Debian OpenBLAS-pthread pool otherwise ignores
torch.set_num_threads and always starts one thread per CPU).
To run at its best on Zen 4 put OPENBLAS_CORETYPE=Cooperlake in the peer's
command (see bench/peers/README.md).
"""

import argparse
import json
import math
import os
import statistics
import sys
import time

CASES = ["attention", "gemm", "softmax", "layernorm", "gelu", "add", "copy"]


def parse_args(argv):
    p = argparse.ArgumentParser(description="PyTorch peer for qkv op benchmarks")
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument("--reps", type=int, default=15, help="timed samples per case")
    p.add_argument("--warmup", type=int, default=3, help="untimed samples first")
    p.add_argument("--min-ms", type=float, default=20.0,
                   help="minimum length of one sample (inner loop is sized to it)")
    p.add_argument("--attn-impl", choices=["baddbmm", "matmul", "sdpa"], default="baddbmm",
                   help="attention formulation (default: the fastest measured on 1.13)")
    p.add_argument("--rows", type=int, default=4096)
    p.add_argument("--cols", type=int, default=4096)
    p.add_argument("cases", nargs="+", metavar="CASE", choices=CASES + ["all"])
    a = p.parse_args(argv)
    if "all" in a.cases:
        a.cases = CASES
    return a


args = parse_args(sys.argv[1:])
# Must happen before torch (and so OpenBLAS / libgomp) is loaded.
os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
os.environ.setdefault("OPENBLAS_NUM_THREADS", str(args.threads))

import ctypes  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

torch.set_num_threads(args.threads)
torch.manual_seed(0)


def blas_info():
    """Which libblas.so.3 is mapped (torch binds sgemm_ to it) and, for
    OpenBLAS, its core name as selected at load time."""
    libs = set()
    with open("/proc/self/maps") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 6 and os.path.basename(parts[5]).startswith("libblas.so"):
                libs.add(os.path.realpath(parts[5]))
    desc = ",".join(sorted(libs)) or "?"
    if any("openblas" in l for l in libs):
        try:
            ob = ctypes.CDLL("libopenblas.so.0")
            ob.openblas_get_corename.restype = ctypes.c_char_p
            ob.openblas_get_num_threads.restype = ctypes.c_int
            desc += " core=%s nthreads=%d" % (ob.openblas_get_corename().decode(),
                                              ob.openblas_get_num_threads())
        except OSError:
            pass
    return desc


BLAS = blas_info()


def timeit(fn):
    """Returns list of per-call seconds (one per sample)."""
    fn()
    t0 = time.perf_counter()
    fn()
    one = max(time.perf_counter() - t0, 1e-7)
    inner = max(1, int(math.ceil(args.min_ms * 1e-3 / one)))
    for _ in range(args.warmup):
        for _ in range(inner):
            fn()
    out = []
    for _ in range(args.reps):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        out.append((time.perf_counter() - t0) / inner)
    return out


RESULTS = []


def emit(case, shape, secs, **extra):
    rec = {"peer": "torch", "case": case, "shape": shape, "threads": args.threads,
           "ms_best": round(min(secs) * 1e3, 5),
           "ms_median": round(statistics.median(secs) * 1e3, 5)}
    rec.update(extra)
    rec["torch"] = torch.__version__
    rec["blas"] = BLAS
    RESULTS.append(rec)
    if args.json:
        print(json.dumps(rec), flush=True)


# ---------------------------------------------------------------- attention
def attention_fn(impl, causal, mask):
    """Returns f(q, k, v) -> out for (B,H,T,hs) inputs. 1.13 has no public
    F.scaled_dot_product_attention; 'sdpa' is its private math path
    F._scaled_dot_product_attention, 'matmul' the textbook form, 'baddbmm'
    (default) folds the scale and additive causal mask into the first GEMM."""
    if impl == "sdpa":
        return lambda q, k, v: F._scaled_dot_product_attention(
            q, k, v, None, 0.0, False, causal)[0]

    def matmul(q, k, v):
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(q.size(-1)))
        if causal:
            att = att.masked_fill(mask, float("-inf"))  # mask: bool, True = hidden
        return torch.softmax(att, dim=-1) @ v

    def baddbmm(q, k, v):
        B, H, T, hs = q.shape
        q3, k3, v3 = (t.reshape(B * H, T, hs) for t in (q, k, v))
        scale = 1.0 / math.sqrt(hs)
        if causal:  # mask: float (T,T), -inf above the diagonal
            att = torch.baddbmm(mask, q3, k3.transpose(1, 2), alpha=scale)
        else:
            att = torch.bmm(q3 * scale, k3.transpose(1, 2))
        att = torch.softmax(att, dim=-1)
        return torch.bmm(att, v3).view(B, H, T, hs)

    return matmul if impl == "matmul" else baddbmm


def case_attention():
    B, H, T, hs = 4, 12, 256, 64
    shape = "B%d H%d T%d hs%d" % (B, H, T, hs)
    q, k, v = (torch.randn(B, H, T, hs) for _ in range(3))
    dout = torch.randn(B, H, T, hs)
    for causal in (False, True):
        if args.attn_impl == "matmul":
            mask = torch.ones(T, T, dtype=torch.bool).triu_(1)  # True = masked out
        else:
            mask = torch.full((T, T), float("-inf")).triu_(1)  # additive mask
        fn = attention_fn(args.attn_impl, causal, mask)
        name = "attention_causal" if causal else "attention"

        def fwd():
            with torch.no_grad():
                fn(q, k, v)

        emit(name + "_fwd", shape, timeit(fwd), impl=args.attn_impl)

        qg, kg, vg = (t.clone().requires_grad_(True) for t in (q, k, v))

        def fwd_bwd():
            qg.grad = kg.grad = vg.grad = None
            out = fn(qg, kg, vg)
            out.backward(dout)

        emit(name + "_fwd_bwd", shape, timeit(fwd_bwd), impl=args.attn_impl)


# ---------------------------------------------------------------- gemm
def case_gemm():
    for M, K, N in [(64, 768, 768), (256, 768, 3072), (1024, 1024, 1024)]:
        a, b = torch.randn(M, K), torch.randn(K, N)
        c = torch.empty(M, N)
        secs = timeit(lambda: torch.mm(a, b, out=c))
        flop = 2.0 * M * N * K
        emit("gemm", "M%d K%d N%d" % (M, K, N), secs,
             gflops_best=round(flop / min(secs) / 1e9, 3),
             gflops_median=round(flop / statistics.median(secs) / 1e9, 3))


# ---------------------------------------------------------------- bandwidth
_COPY = {}


def copy_gbps():
    if "best" not in _COPY:
        R, C = args.rows, args.cols
        src, dst = torch.randn(R, C), torch.empty(R, C)
        secs = timeit(lambda: dst.copy_(src))
        nbytes = 2 * R * C * 4
        _COPY["secs"], _COPY["bytes"] = secs, nbytes
        _COPY["best"] = nbytes / min(secs) / 1e9
    return _COPY["best"]


def emit_bw(case, nbytes, secs):
    emit(case, "%dx%d" % (args.rows, args.cols), secs, bytes=nbytes,
         gbps_best=round(nbytes / min(secs) / 1e9, 3),
         gbps_median=round(nbytes / statistics.median(secs) / 1e9, 3),
         copy_gbps_best=round(copy_gbps(), 3))


def case_bw(name):
    R, C = args.rows, args.cols
    n = R * C * 4
    x = torch.randn(R, C)
    y = torch.empty(R, C)
    if name == "copy":
        copy_gbps()
        emit_bw("copy", _COPY["bytes"], _COPY["secs"])
    elif name == "softmax":
        emit_bw("softmax", 2 * n, timeit(lambda: torch._softmax(x, -1, False, out=y)))
    elif name == "layernorm":
        w, b = torch.randn(C), torch.randn(C)
        mean, rstd = torch.empty(R, 1), torch.empty(R, 1)
        ln = torch.ops.aten.native_layer_norm.out
        emit_bw("layernorm", 2 * n,
                timeit(lambda: ln(x, [C], w, b, 1e-5, out0=y, out1=mean, out2=rstd)))
    elif name == "gelu":
        emit_bw("gelu", 2 * n, timeit(lambda: torch._C._nn.gelu(x, out=y)))
    elif name == "add":
        x2 = torch.randn(R, C)
        emit_bw("add", 3 * n, timeit(lambda: torch.add(x, x2, out=y)))


def main():
    for c in args.cases:
        if c == "attention":
            case_attention()
        elif c == "gemm":
            case_gemm()
        else:
            case_bw(c)
    if not args.json:
        print("torch %s  threads=%d  blas=%s" % (torch.__version__, args.threads, BLAS))
        print("%-26s %-18s %10s %10s  %s" % ("case", "shape", "ms_best", "ms_median", "rate"))
        for r in RESULTS:
            if "gflops_best" in r:
                rate = "%.1f GFLOP/s best, %.1f median" % (r["gflops_best"], r["gflops_median"])
            elif "gbps_best" in r:
                rate = "%.1f GB/s best, %.1f median (copy_ %.1f GB/s)" % (
                    r["gbps_best"], r["gbps_median"], r["copy_gbps_best"])
            else:
                rate = ""
            print("%-26s %-18s %10.4f %10.4f  %s" % (r["case"], r["shape"], r["ms_best"],
                                                    r["ms_median"], rate))


if __name__ == "__main__":
    main()
