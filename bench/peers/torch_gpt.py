#!/usr/bin/python3
"""PyTorch peer for qkv's GPT benchmarks (bench/qkv_bench_gpt.cpp).

    /usr/bin/python3 bench/peers/torch_gpt.py --threads N [--json] [--reps R]
        [--gen-reps G] [--configs nanogpt,gpt2] [--gen-modes kv_cache,no_cache] CASE...
    CASE: train_step generate rss   (rss alone: it is a separate process)

The model is nanoGPT's (model.py) written out: token + learned position
embeddings, n_layer pre-LN blocks (ln_1 -> fused c_attn (C->3C) -> causal
attention -> c_proj; ln_2 -> c_fc (C->4C) -> exact GELU -> c_proj), ln_f, and
an lm_head tied to wte; GPT-2 init; no dropout. Attention is the fastest
formulation on 1.13 from torch_ops.py: baddbmm of q with k^T into an additive
causal mask with alpha=1/sqrt(hs), softmax, bmm with v.

  train_step  zero_grad(set_to_none) + forward + cross_entropy + backward +
              clip_grad_norm_(1.0) + AdamW(lr 1e-3, betas (0.9, 0.99),
              wd 0.1 on matmul weights, 0 on biases/LayerNorm/embeddings, as
              qkv's decay_groups), foreach=True (faster than the 1.13 default
              per-tensor loop), on 4 pre-drawn random token batches cycled.
              nanogpt: V65 L4 H4 C128 block 64, B12 T64; gpt2: V50257 L12 H12
              C768 block 1024, B4 T64. ms/step and tokens/s = B*T/time.
  generate    gpt2 shape, 16-token prompt, 128 new tokens, greedy, under
              no_grad: with a KV cache (preallocated (B,NH,block,hs) per layer;
              single-row Linear layers and the lm_head use addmv/mv, which is
              faster than addmm with M=1) and without (the whole context re-run
              through the training forward every token). tokens/s = 128/time.
  rss         peak RSS (resource.getrusage ru_maxrss) of this process after
              building the gpt2 model + AdamW and doing R steps, plus the RSS
              right after `import torch` (rss_start_mb: the interpreter and
              libtorch alone).

JSON lines as qkv_bench_gpt's: peer, case, shape, threads, ms_best,
ms_median, tokens_per_sec, rss_mb... Run it at its best (bench/peers/README.md):
OPENBLAS_CORETYPE=Cooperlake LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp
and both OMP_WAIT_POLICY values (bench/run_gpt.sh does).
"""

import argparse
import json
import math
import os
import resource
import statistics
import sys
import time


def parse_args(argv):
    p = argparse.ArgumentParser(description="PyTorch peer for qkv GPT benchmarks")
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--json", action="store_true")
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--gen-reps", type=int, default=3)
    p.add_argument("--configs", default="nanogpt,gpt2")
    p.add_argument("--gen-modes", default="kv_cache,no_cache", help="generation modes to run (as qkv_bench_gpt)")
    p.add_argument("--no-foreach", action="store_true", help="AdamW per-tensor loop (1.13 default)")
    p.add_argument("--linear-decode", action="store_true", help="decode with F.linear instead of mv")
    p.add_argument("cases", nargs="*", metavar="CASE", default=["train_step", "generate"])
    a = p.parse_args(argv)
    for c in a.cases:
        if c not in ("train_step", "generate", "rss"):
            p.error(f"unknown case {c!r}")
    if "rss" in a.cases and len(a.cases) > 1:
        p.error("run 'rss' alone (its own process) so the peak is only that workload")
    return a


args = parse_args(sys.argv[1:])
os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
os.environ.setdefault("OPENBLAS_NUM_THREADS", str(args.threads))

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402


def current_rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


RSS_START = current_rss_mb()
torch.set_num_threads(args.threads)
torch.manual_seed(1337)


def blas_desc():
    try:
        libs = [l.split()[-1] for l in open("/proc/self/maps") if "libblas.so" in l]
        lib = libs[0] if libs else "?"
    except OSError:
        lib = "?"
    return f"{lib} core={os.environ.get('OPENBLAS_CORETYPE', 'auto')} wait={os.environ.get('OMP_WAIT_POLICY', 'unset')}"


CONFIGS = {
    "nanogpt": dict(V=65, L=4, H=4, C=128, block=64, B=12, T=64),
    "gpt2": dict(V=50257, L=12, H=12, C=768, block=1024, B=4, T=64),
}


def shape_of(name):
    c = CONFIGS[name]
    return f"{name} V{c['V']} L{c['L']} C{c['C']} B{c['B']} T{c['T']}"


def lin(x, mod, mv):
    """Linear; a single row goes through addmv when mv (sgemv beats M=1 sgemm)."""
    if mv and x.numel() == mod.in_features:
        y = torch.addmv(mod.bias, mod.weight, x.reshape(-1))
        return y.view(*x.shape[:-1], mod.out_features)
    return mod(x)


class Attention(nn.Module):
    def __init__(self, C, H):
        super().__init__()
        self.c_attn = nn.Linear(C, 3 * C)
        self.c_proj = nn.Linear(C, C)
        self.H = H

    def forward(self, x, mask, cache=None, mv=False):
        B, T, C = x.shape
        H, hs = self.H, C // self.H
        q, k, v = lin(x, self.c_attn, mv).split(C, dim=2)
        q = q.view(B, T, H, hs).transpose(1, 2)
        k = k.view(B, T, H, hs).transpose(1, 2)
        v = v.view(B, T, H, hs).transpose(1, 2)
        scale = 1.0 / math.sqrt(hs)
        if cache is not None:  # (kc, vc, start): write this step's keys/values, attend over all
            kc, vc, start = cache
            kc[:, :, start:start + T] = k
            vc[:, :, start:start + T] = v
            k, v = kc[:, :, :start + T], vc[:, :, :start + T]
        S = k.shape[2]
        q3 = q.reshape(B * H, T, hs)
        k3 = k.reshape(B * H, S, hs)
        v3 = v.reshape(B * H, S, hs)
        if T == 1:  # one new query sees every cached position: no mask
            att = torch.bmm(q3, k3.transpose(1, 2)).mul_(scale)
        else:
            m = mask[S - T:S, :S]
            att = torch.baddbmm(m, q3, k3.transpose(1, 2), alpha=scale)
        att = torch.softmax(att, dim=-1)
        y = torch.bmm(att, v3).view(B, H, T, hs).transpose(1, 2).reshape(B, T, C)
        return lin(y, self.c_proj, mv)


class MLP(nn.Module):
    def __init__(self, C):
        super().__init__()
        self.c_fc = nn.Linear(C, 4 * C)
        self.c_proj = nn.Linear(4 * C, C)

    def forward(self, x, mv=False):
        return lin(F.gelu(lin(x, self.c_fc, mv)), self.c_proj, mv)


class Block(nn.Module):
    def __init__(self, C, H):
        super().__init__()
        self.ln_1 = nn.LayerNorm(C)
        self.attn = Attention(C, H)
        self.ln_2 = nn.LayerNorm(C)
        self.mlp = MLP(C)

    def forward(self, x, mask, cache=None, mv=False):
        x = x + self.attn(self.ln_1(x), mask, cache, mv)
        return x + self.mlp(self.ln_2(x), mv)


class GPT(nn.Module):
    def __init__(self, V, L, H, C, block):
        super().__init__()
        self.V, self.L, self.H, self.C, self.block = V, L, H, C, block
        self.wte = nn.Embedding(V, C)
        self.wpe = nn.Embedding(block, C)
        self.h = nn.ModuleList([Block(C, H) for _ in range(L)])
        self.ln_f = nn.LayerNorm(C)
        self.register_buffer("mask", torch.full((block, block), float("-inf")).triu_(1), persistent=False)
        for name, p in self.named_parameters():  # GPT-2 init (nanoGPT)
            if name.endswith("bias"):
                nn.init.zeros_(p)
            elif p.dim() >= 2:
                std = 0.02 / math.sqrt(2 * L) if name.endswith("c_proj.weight") else 0.02
                nn.init.normal_(p, 0.0, std)

    def forward(self, idx, caches=None, start=0, mv=False, last_only=False):
        B, T = idx.shape
        pos = torch.arange(start, start + T)
        x = self.wte(idx) + self.wpe(pos)
        for i, blk in enumerate(self.h):
            c = None if caches is None else (caches[i][0], caches[i][1], start)
            x = blk(x, self.mask, c, mv)
        if last_only:  # nanoGPT at inference: lm_head on the last position only
            x, T = x[:, [-1], :], 1
        x = self.ln_f(x)
        if mv and B * T == 1:
            return torch.mv(self.wte.weight, x.reshape(-1)).view(1, 1, -1)
        return F.linear(x, self.wte.weight)  # tied lm_head

    def make_cache(self, B):
        hs = self.C // self.H
        return [(torch.empty(B, self.H, self.block, hs), torch.empty(B, self.H, self.block, hs))
                for _ in range(self.L)]


def make_model(name):
    c = CONFIGS[name]
    return GPT(c["V"], c["L"], c["H"], c["C"], c["block"])


def make_optimizer(model):
    decay, no_decay = [], []
    for n, p in model.named_parameters():  # qkv's decay_groups: dim >= 2, not embeddings
        (decay if p.dim() >= 2 and not n.startswith(("wte", "wpe")) else no_decay).append(p)
    groups = [{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=1e-3, betas=(0.9, 0.99), foreach=not args.no_foreach)


class Trainer:
    def __init__(self, name):
        c = CONFIGS[name]
        self.B, self.T = c["B"], c["T"]
        self.model = make_model(name)
        self.opt = make_optimizer(self.model)
        g = torch.Generator().manual_seed(0)
        self.batches = [(torch.randint(0, c["V"], (self.B, self.T), generator=g),
                         torch.randint(0, c["V"], (self.B, self.T), generator=g)) for _ in range(4)]
        self.i = 0

    def step(self):
        x, y = self.batches[self.i % len(self.batches)]
        self.i += 1
        self.opt.zero_grad(set_to_none=True)
        logits = self.model(x)
        loss = F.cross_entropy(logits.view(-1, logits.size(-1)), y.view(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.opt.step()
        return loss.item()


def time_it(fn, warmup, reps, min_ms):
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(reps):
        inner = 0
        t0 = time.perf_counter()
        while True:
            fn()
            inner += 1
            ms = (time.perf_counter() - t0) * 1e3
            if ms >= min_ms:
                break
        samples.append(ms / inner)
    return min(samples), statistics.median(samples)


def report(case, shape, best, median, extra, text):
    if args.json:
        r = {"peer": "torch", "case": case, "shape": shape, "threads": args.threads,
             "ms_best": round(best, 4), "ms_median": round(median, 4)}
        r.update(extra)
        r.update({"torch": torch.__version__, "blas": blas_desc()})
        print(json.dumps(r), flush=True)
    else:
        print(f"{case:<12} {shape:<36} threads {args.threads}  best {best:10.3f} ms  "
              f"median {median:10.3f} ms  {text}", flush=True)


def maxrss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def bench_train_step():
    for name in ("nanogpt", "gpt2"):
        if name not in args.configs:
            continue
        tr = Trainer(name)
        best, med = time_it(tr.step, 2, args.reps, 200.0 if name == "nanogpt" else 0.0)
        tok = tr.B * tr.T
        report("train_step", shape_of(name), best, med,
               {"tokens_per_sec": round(tok / best * 1e3, 1), "tokens_per_sec_median": round(tok / med * 1e3, 1),
                "rss_mb": round(maxrss_mb(), 1), "foreach": not args.no_foreach},
               f"{tok / best * 1e3:.0f} tokens/s (best)")
        del tr


@torch.no_grad()
def generate(model, prompt, n_new, use_cache):
    idx = prompt.clone()
    if use_cache:
        mv = not args.linear_decode
        caches = model.make_cache(1)
        logits = model(idx, caches, 0, last_only=True)  # prefill
        pos = idx.shape[1]
        out = [idx]
        for _ in range(n_new):
            nxt = logits[:, -1, :].argmax(dim=-1, keepdim=True)
            out.append(nxt)
            if len(out) - 1 == n_new:
                break
            logits = model(nxt, caches, pos, mv=mv)
            pos += 1
        return torch.cat(out, dim=1)
    for _ in range(n_new):
        logits = model(idx[:, -model.block:], last_only=True)
        nxt = logits[:, -1, :].argmax(dim=-1, keepdim=True)
        idx = torch.cat([idx, nxt], dim=1)
    return idx


def bench_generate():
    model = make_model("gpt2").eval()
    g = torch.Generator().manual_seed(0)
    prompt = torch.randint(0, 50257, (1, 16), generator=g)
    n_new = 128
    for use_cache in (True, False):
        if ("kv_cache" if use_cache else "no_cache") not in args.gen_modes:
            continue
        generate(model, prompt, 8, use_cache)  # warm-up
        samples = []
        for _ in range(args.gen_reps):
            t0 = time.perf_counter()
            out = generate(model, prompt, n_new, use_cache)
            samples.append((time.perf_counter() - t0) * 1e3)
        best, med = min(samples), statistics.median(samples)
        shape = "gpt2 prompt16 new128 " + ("kv_cache" if use_cache else "no_cache")
        extra = {"tokens_per_sec": round(n_new / best * 1e3, 2), "tokens_per_sec_median": round(n_new / med * 1e3, 2),
                 "new_tokens": out.shape[1] - 16}
        if use_cache:
            extra["decode"] = "linear" if args.linear_decode else "mv"
        report("generate", shape, best, med, extra, f"{n_new / best * 1e3:.2f} tokens/s (best)")


def bench_rss():
    tr = Trainer("gpt2")
    samples = []
    for _ in range(args.reps):
        t0 = time.perf_counter()
        tr.step()
        samples.append((time.perf_counter() - t0) * 1e3)
    rss = maxrss_mb()
    report("rss", shape_of("gpt2"), min(samples), statistics.median(samples),
           {"rss_mb": round(rss, 1), "rss_start_mb": round(RSS_START, 1), "steps": args.reps},
           f"peak RSS {rss:.1f} MB (after import torch {RSS_START:.1f} MB), {args.reps} steps")


for c in args.cases:
    {"train_step": bench_train_step, "generate": bench_generate, "rss": bench_rss}[c]()
