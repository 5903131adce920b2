#!/usr/bin/env bash
# Check that the torch peer's BLAS is both fast and correct.
#
#   bench/peers/check_openblas_parity.sh [THREADS]      (default THREADS=1)
#
# Runs one fixed-seed torch computation (mm, linear+bias, softmax, bmm, and a
# small linear->gelu->linear->softmax chain with backward) under several BLAS
# configurations, then prints for each: which libblas.so.3 torch's sgemm_
# resolved to, the OpenBLAS core it selected, the max abs / max relative
# difference of every output against the reference (netlib) BLAS run, and
# sgemm GFLOP/s (torch.mm, best of a few) at 256x768x3072 and 1024^3.
#
# How BLAS is swapped: Debian's torch (libtorch_cpu.so.1.13) has NEEDED
# libblas.so.3 and binds sgemm_/dgemm_ to it; libblas.so.3 is the Debian
# alternative (openblas-pthread by default), a thin wrapper over
# libopenblas.so.0. Putting a directory first in LD_LIBRARY_PATH replaces it
# (verified with LD_DEBUG=bindings: "binding file libtorch_cpu.so.1.13 to
# /usr/lib/x86_64-linux-gnu/blas/libblas.so.3: normal symbol `sgemm_'").
# LD_PRELOAD=/usr/lib/x86_64-linux-gnu/blas/libblas.so.3 works as well.
#
# Always uses /usr/bin/python3 (Debian's torch), not the pyenv python3.
set -euo pipefail

THREADS="${1:-1}"
PY=/usr/bin/python3
LIBDIR=/usr/lib/x86_64-linux-gnu
WORK="$(mktemp -d /tmp/qkv_blas_parity.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT

cat >"$WORK/run.py" <<'EOF'
import ctypes, os, sys, time
import torch, torch.nn.functional as F

tag, out, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
torch.set_num_threads(threads)

libs = set()
for line in open("/proc/self/maps"):
    p = line.split()
    if len(p) >= 6 and os.path.basename(p[5]).startswith("libblas.so"):
        libs.add(os.path.realpath(p[5]))
core = "-"
if any("openblas" in l for l in libs):
    ob = ctypes.CDLL("libopenblas.so.0")
    ob.openblas_get_corename.restype = ctypes.c_char_p
    core = ob.openblas_get_corename().decode()

g = torch.Generator().manual_seed(1234)
r = lambda *s: torch.randn(*s, generator=g)
res = {}
a, b = r(256, 768), r(768, 3072)
res["mm"] = a @ b
x, w, bias = r(512, 768), r(3072, 768) * 0.03, r(3072)
res["linear"] = F.linear(x, w, bias)
res["softmax(linear)"] = torch.softmax(res["linear"], dim=-1)
q, k = r(48, 256, 64), r(48, 256, 64)
res["bmm_qkT"] = torch.bmm(q, k.transpose(1, 2)) * 0.125
# small MLP with backward: exercises sgemm with all transpose combinations
w1 = (r(3072, 768) * 0.02).requires_grad_()
w2 = (r(768, 3072) * 0.02).requires_grad_()
xx = r(256, 768).requires_grad_()
y = torch.softmax(F.linear(F.gelu(F.linear(xx, w1)), w2), dim=-1)
(y * r(256, 768)).sum().backward()
res["mlp_out"], res["mlp_dw1"], res["mlp_dw2"], res["mlp_dx"] = y.detach(), w1.grad, w2.grad, xx.grad
torch.save(res, out)

def gflops(M, K, N, reps):
    A, B, C = torch.randn(M, K), torch.randn(K, N), torch.empty(M, N)
    torch.mm(A, B, out=C)
    best = 1e9
    for _ in range(reps):
        t0 = time.perf_counter(); torch.mm(A, B, out=C); best = min(best, time.perf_counter() - t0)
    return 2.0 * M * K * N / best / 1e9
slow = not any("openblas" in l or "blis" in l for l in libs)
g1 = gflops(256, 768, 3072, 3 if slow else 30)
g2 = gflops(1024, 1024, 1024, 2 if slow else 30)
print("%s\t%s\t%s\t%.1f\t%.1f" % (tag, ",".join(sorted(libs)), core, g1, g2))
EOF

cat >"$WORK/cmp.py" <<'EOF'
import sys, torch
ref = torch.load(sys.argv[1])
for path in sys.argv[2:]:
    got = torch.load(path)
    worst_abs, worst_rel, worst = 0.0, 0.0, ""
    for k, v in ref.items():
        d = (got[k] - v).abs().max().item()
        rel = d / max(v.abs().max().item(), 1e-30)
        if rel > worst_rel:
            worst_abs, worst_rel, worst = d, rel, k
    print("%s\t%.3g\t%.3g\t%s" % (path.rsplit("/", 1)[-1][:-3], worst_abs, worst_rel, worst))
EOF

# name | env assignments (space separated; "-" for none)
CONFIGS=(
  "reference|LD_LIBRARY_PATH=$LIBDIR/blas"
  "openblas_default|-"
  "openblas_Cooperlake|OPENBLAS_CORETYPE=Cooperlake"
  "openblas_SkylakeX|OPENBLAS_CORETYPE=SkylakeX"
  "openblas_Zen|OPENBLAS_CORETYPE=Zen"
  "openblas_Haswell|OPENBLAS_CORETYPE=Haswell"
  "openblas_openmp|LD_LIBRARY_PATH=$LIBDIR/openblas-openmp"
  "blis_openmp|LD_LIBRARY_PATH=$LIBDIR/blis-openmp"
)

echo "# torch BLAS parity, threads=$THREADS, $(date -u +%Y-%m-%dT%H:%MZ), $(uname -n)"
printf "%-20s %-58s %-11s %10s %10s\n" config libblas.so.3 core "GF@256x768x3072" "GF@1024^3"
PTS=()
for c in "${CONFIGS[@]}"; do
  name="${c%%|*}"; envs="${c#*|}"; [[ "$envs" == "-" ]] && envs=""
  line=$(env $envs OMP_NUM_THREADS="$THREADS" OPENBLAS_NUM_THREADS="$THREADS" \
         BLIS_NUM_THREADS="$THREADS" "$PY" "$WORK/run.py" "$name" "$WORK/$name.pt" "$THREADS")
  IFS=$'\t' read -r n lib core g1 g2 <<<"$line"
  printf "%-20s %-58s %-11s %10s %10s\n" "$n" "$lib" "$core" "$g1" "$g2"
  [[ "$name" != reference ]] && PTS+=("$WORK/$name.pt")
done
echo
echo "# max difference vs reference BLAS over all outputs (worst output named)"
printf "%-20s %12s %12s  %s\n" config max_abs max_rel worst_output
"$PY" "$WORK/cmp.py" "$WORK/reference.pt" "${PTS[@]}" | while IFS=$'\t' read -r n a r w; do
  printf "%-20s %12s %12s  %s\n" "$n" "$a" "$r" "$w"
done
