#!/usr/bin/python3
"""PyTorch peer for qkv's encoder–decoder Transformer benchmark
(bench/qkv_bench_seq2seq.cpp; bench/run_seq2seq.sh runs both).

    /usr/bin/python3 bench/peers/torch_seq2seq.py --dump DIR --threads N [--json]
        [--reps R] [--dec-reps D] [--beams 1,4] [--no-parity] CASE...
    CASE: train_step decode   (default both)

DIR is what `qkv_bench_seq2seq --dump DIR` wrote: config.json +
model.safetensors (the weights qkv benchmarks) and inputs.safetensors (the
exact token-id batches, the decoding settings, the shape strings and qkv's
greedy ids for the parity check). The model is tests/fixtures/seq2seq/
seq2seq_torch.py (torch.nn.Transformer with a shared, tied embedding × √C,
sinusoidal positions; the same module the parity fixtures are made with),
loaded from qkv's parameter names.

  train_step  zero_grad(set_to_none) + forward (training mode, the config's
              dropout) + cross_entropy(label_smoothing from the dump, 0.1) +
              backward + Adam(lr from the dump, betas (0.9, 0.98), eps 1e-9,
              foreach=True), one step per dumped batch; a sample = one pass over
              them; ms per step and target tokens/s, as qkv's.
              Dropout sits where qkv has it: embedding sums, attention
              probabilities, each sub-layer's output. nn.Transformer*Layer also
              drops the feed-forward's inner activation, which qkv does not, so
              that module is replaced by Identity.
  decode      the dumped batches (qkv translate's: sorted by source length,
              --batch-size rows), beam search with the semantics of
              include/qkv/generate/beam.h (2K candidates per sentence, Wu et
              al. length penalty α, finished set of K, early stop, limit
              a·S + b capped by max_len, done sentences leave the batch),
              greedy = beam size 1 as in qkv. Under no_grad, in eval mode (so
              nn.TransformerEncoder may take its nested-tensor fast path). The
              encoder runs once per batch; the decoder has NO KV cache:
              nn.TransformerDecoder offers none, so every step re-runs it over
              the whole prefix of every live hypothesis — what a PyTorch user
              of nn.Transformer writes. sentences/s = N / time of all batches.
  parity      (not timed; printed as '#' lines) the best ids of the first
              sentences (qkv_bench_seq2seq --parity, default 20), greedy and for
              each beam size, against qkv's from the dump, and the eval-mode
              loss of the first training batch against qkv's.

JSON lines as qkv_bench_seq2seq's. Run it at its best (bench/peers/README.md):
OPENBLAS_CORETYPE=Cooperlake LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp
and each OMP wait policy (bench/run_seq2seq.sh does).
"""

import argparse
import copy
import json
import math
import os
import statistics
import sys
import time


def parse_args(argv):
    p = argparse.ArgumentParser(description="PyTorch peer for qkv's seq2seq benchmark")
    p.add_argument("--dump", required=True, help="directory written by qkv_bench_seq2seq --dump")
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--json", action="store_true")
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--dec-reps", type=int, default=3)
    p.add_argument("--beams", default="1,4")
    p.add_argument("--no-parity", action="store_true", help="skip the greedy/loss agreement check")
    p.add_argument("--no-foreach", action="store_true", help="Adam's per-tensor loop (1.13 default)")
    p.add_argument("cases", nargs="*", metavar="CASE", default=["train_step", "decode"])
    a = p.parse_args(argv)
    for c in a.cases:
        if c not in ("train_step", "decode"):
            p.error(f"unknown case {c!r}")
    if a.threads < 1 or a.reps < 1 or a.dec_reps < 1:
        p.error("--threads, --reps, --dec-reps must be >= 1")
    return a


args = parse_args(sys.argv[1:])
os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
os.environ.setdefault("OPENBLAS_NUM_THREADS", str(args.threads))

import warnings  # noqa: E402

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "fixtures", "seq2seq"))
from seq2seq_torch import Seq2Seq, load_qkv_weights, read_safetensors  # noqa: E402

torch.set_num_threads(args.threads)
torch.manual_seed(7)
warnings.filterwarnings("ignore", message="The PyTorch API of nested tensors")  # the encoder's eval fast path


def blas_desc():
    try:
        libs = [l.split()[-1] for l in open("/proc/self/maps") if "libblas.so" in l]
        lib = libs[0] if libs else "?"
    except OSError:
        lib = "?"
    wait = os.environ.get("OMP_WAIT_POLICY") or (
        "spin" + os.environ["GOMP_SPINCOUNT"] if "GOMP_SPINCOUNT" in os.environ else "unset")
    return f"{lib} core={os.environ.get('OPENBLAS_CORETYPE', 'auto')} wait={wait}"


def report(case, shape, best, median, extra, text):
    if args.json:
        r = {"peer": "torch", "case": case, "shape": shape, "threads": args.threads,
             "ms_best": round(best, 4), "ms_median": round(median, 4)}
        r.update(extra)
        r.update({"torch": torch.__version__, "blas": blas_desc()})
        print(json.dumps(r), flush=True)
    else:
        print(f"{case:<12} {shape:<44} threads {args.threads}  best {best:9.3f} ms  "
              f"median {median:9.3f} ms  {text}", flush=True)


# ---- the model and the inputs, as qkv benchmarked them
with open(os.path.join(args.dump, "config.json")) as f:
    CFG = json.load(f)
model = Seq2Seq.from_config(CFG)
weights, _ = read_safetensors(os.path.join(args.dump, "model.safetensors"))
load_qkv_weights(model, weights)
for stack in (model.transformer.encoder, model.transformer.decoder):
    for layer in stack.layers:
        layer.dropout = nn.Identity()  # the feed-forward's inner dropout, which qkv has not (see the docstring)
INP, META = read_safetensors(os.path.join(args.dump, "inputs.safetensors"))
V, PAD, BOS, EOS = CFG["vocab_size"], CFG["pad_id"], CFG["bos_id"], CFG["eos_id"]
LS, LR = float(META["label_smoothing"]), float(META["lr"])
ALPHA, LEN_A, LEN_B = float(META["alpha"]), float(META["max_len_a"]), int(META["max_len_b"])
MAX_NEW = int(META["max_new_tokens"])
TRAIN = [tuple(INP[f"train.{k}.{n}"] for n in ("src_ids", "src_mask", "tgt_in", "tgt_mask", "labels"))
         for k in range(int(META["train_batches"]))]
DECODE = [(INP[f"decode.{k}.src_ids"], INP[f"decode.{k}.src_mask"]) for k in range(int(META["decode_batches"]))]


def loss_of(batch, m):
    src, src_mask, tgt_in, tgt_mask, labels = batch
    _, logits = m(src, tgt_in, ~src_mask, ~tgt_mask)  # torch's padding masks are true at padding
    return F.cross_entropy(logits.reshape(-1, V), labels.reshape(-1), ignore_index=-100, label_smoothing=LS)


def bench_train_step():
    trained = copy.deepcopy(model).train()  # a copy: decoding always sees the dumped weights, as qkv's
    opt = torch.optim.Adam(trained.parameters(), lr=LR, betas=(0.9, 0.98), eps=1e-9, foreach=not args.no_foreach)

    def step(batch):
        opt.zero_grad(set_to_none=True)
        loss = loss_of(batch, trained)
        loss.backward()
        opt.step()
        return loss.item()

    for b in TRAIN[:2]:  # warm-up, as qkv's
        step(b)
    samples, last = [], 0.0
    for _ in range(args.reps):
        t0 = time.perf_counter()
        for b in TRAIN:
            last = step(b)
        samples.append((time.perf_counter() - t0) * 1e3 / len(TRAIN))
    best, med = min(samples), statistics.median(samples)
    tok = sum(int((b[4] != -100).sum()) for b in TRAIN) / len(TRAIN)  # target tokens per step
    report("train_step", META["shape.train_step"], best, med,
           {"tokens_per_sec": round(tok / best * 1e3, 1), "tokens_per_sec_median": round(tok / med * 1e3, 1),
            "target_tokens_per_step": round(tok, 1), "dropout": CFG.get("dropout", 0.0), "last_loss": round(last, 4),
            "foreach": not args.no_foreach},
           f"{tok / best * 1e3:.0f} target tokens/s (best), loss {last:.3f}")
    del trained, opt


@torch.no_grad()
def beam_search(src, src_mask, K):
    """Best hypothesis (ids, eos excluded) per row of src (B,S); beam.h's
    semantics, beam size 1 = qkv's greedy search. No KV cache: each step
    re-runs the decoder over BOS + the whole prefix of every live hypothesis."""
    B = src.shape[0]
    src_pad = ~src_mask
    memory = model.encode(src, src_pad)  # the encoder runs once
    lengths = src_mask.sum(1).tolist()
    lp = lambda n: ((5.0 + n) / 6.0) ** ALPHA  # Wu et al. 2016, eq. 14
    sents = []
    for b in range(B):
        limit = min(MAX_NEW, math.floor(LEN_A * lengths[b] + LEN_B))
        s = {"live": [(0.0, [])], "finished": [], "limit": limit, "len": 0, "done": False}
        if limit == 0:
            s.update(live=[], finished=[([], 0.0, 0.0, False)], done=True)
        sents.append(s)
    neg_inf = float("-inf")
    while True:
        active = [b for b in range(B) if not sents[b]["done"]]
        if not active:
            break
        rows, prefixes, slots, scores = [], [], [], []
        for j, b in enumerate(active):
            for h, (logp, toks) in enumerate(sents[b]["live"]):
                rows.append(b)
                prefixes.append([BOS] + toks)
                slots.append(j * K + h)
                scores.append(logp)
        idx = torch.tensor(rows)
        tgt = torch.tensor(prefixes)  # (R, t): every live hypothesis has the same length
        logits = model.decode(tgt, memory.index_select(0, idx), src_pad.index_select(0, idx))[:, -1]  # (R,V)
        logp = torch.log_softmax(logits.double(), dim=-1) + torch.tensor(scores, dtype=torch.float64)[:, None]
        cand = torch.full((len(active) * K, V), neg_inf, dtype=torch.float64)
        cand[torch.tensor(slots)] = logp
        top_v, top_i = torch.topk(cand.view(len(active), K * V), min(2 * K, K * V), dim=1)  # 2K per sentence
        top_v, top_i = top_v.tolist(), top_i.tolist()
        for j, b in enumerate(active):
            s = sents[b]
            s["len"] += 1
            live = []
            for c_lp, flat in zip(top_v[j], top_i[j]):
                if len(live) >= K or c_lp == neg_inf:
                    break
                parent = s["live"][flat // V][1]
                tok = flat % V
                if tok == EOS:
                    if len(s["finished"]) < K:  # a full finished set admits no more (beam.h)
                        s["finished"].append((parent, c_lp, c_lp / lp(s["len"]), True))
                    continue
                live.append((c_lp, parent + [tok]))
            s["live"] = live
            if s["len"] >= s["limit"]:  # the length limit: live hypotheses finish without eos
                s["finished"] += [(t, l, l / lp(s["len"]), False) for l, t in live]
                s["live"] = []
            if not s["live"] or cannot_improve(s, K, lp):
                s["done"], s["live"] = True, []
    out = []
    for s in sents:
        f = sorted(s["finished"], key=lambda x: (-x[2], not x[3]))  # best score; on ties, ended with eos first
        out.append(f[0][0] if f else [])
    return out


def cannot_improve(s, K, lp):
    if len(s["finished"]) < K:
        return False
    worst = min(h[2] for h in s["finished"])
    return all(max(l / lp(s["len"] + 1), l / lp(s["limit"])) <= worst for l, _ in s["live"])


def decode_all(K):
    return [beam_search(src, mask, K) for src, mask in DECODE]


def bench_decode():
    model.eval()
    n = sum(int(src.shape[0]) for src, _ in DECODE)
    for K in [int(k) for k in args.beams.split(",") if k]:
        case = "greedy" if K == 1 else f"beam{K}"
        if f"shape.{case}" not in META:
            sys.exit(f"torch_seq2seq.py: the dump has no {case} shape (qkv_bench_seq2seq --beams must include {K})")
        if DECODE:
            beam_search(*DECODE[0], K)  # warm-up
        samples, out_tokens = [], 0
        for _ in range(args.dec_reps):
            t0 = time.perf_counter()
            hyps = decode_all(K)
            samples.append((time.perf_counter() - t0) * 1e3)
            out_tokens = sum(len(h) for batch in hyps for h in batch)
        best, med = min(samples), statistics.median(samples)
        report(case, META[f"shape.{case}"], best, med,
               {"sentences_per_sec": round(n / best * 1e3, 2), "sentences_per_sec_median": round(n / med * 1e3, 2),
                "sentences": n, "output_tokens": out_tokens, "kv_cache": False},
               f"{n / best * 1e3:.1f} sentences/s (best), {out_tokens} output tokens")


def parity():
    """Best ids of the first P input lines per beam size (batched as qkv did:
    sorted by length, --batch-size rows) against qkv's; the eval-mode loss of batch 0."""
    model.eval()
    msgs = []
    if "parity.loss0" in META and META["parity.loss0"] and TRAIN:
        with torch.no_grad():
            l0 = loss_of(TRAIN[0], model).item()
        q0 = float(META["parity.loss0"])
        msgs.append(f"eval loss of train batch 0: torch {l0:.6f} qkv {q0:.6f} (rel diff {abs(l0 - q0) / abs(q0):.1e})")
    lines = INP["decode.lines"].tolist()
    srcs, k = {}, 0
    for src, mask in DECODE:  # each input line's source ids back from the padded batches
        for r in range(src.shape[0]):
            srcs[lines[k]] = src[r][mask[r]].tolist()
            k += 1
    for K in [int(k) for k in args.beams.split(",") if k]:
        case = "greedy" if K == 1 else f"beam{K}"
        if f"parity.{case}.offsets" not in INP:
            continue
        offs, flat = INP[f"parity.{case}.offsets"].tolist(), INP[f"parity.{case}.ids"].tolist()
        qkv_ids = [flat[offs[i]:offs[i + 1]] for i in range(len(offs) - 1)]
        P = len(qkv_ids)
        todo = sorted((i for i in range(P) if srcs.get(i)), key=lambda i: len(srcs[i]))  # stable, as qkv's
        bs = int(META["batch_size"])
        torch_ids = {i: [] for i in range(P)}
        for a in range(0, len(todo), bs):
            chunk = todo[a:a + bs]
            S = max(len(srcs[i]) for i in chunk)
            src = torch.full((len(chunk), S), PAD, dtype=torch.int64)
            mask = torch.zeros(len(chunk), S, dtype=torch.bool)
            for r, i in enumerate(chunk):
                src[r, :len(srcs[i])] = torch.tensor(srcs[i])
                mask[r, :len(srcs[i])] = True
            for i, h in zip(chunk, beam_search(src, mask, K)):
                torch_ids[i] = h
        agree = sum(torch_ids[i] == qkv_ids[i] for i in range(P))
        msgs.append(f"{case} ids torch == qkv on {agree}/{P} sentences")
        for i in range(P):
            if torch_ids[i] != qkv_ids[i]:
                x, y = torch_ids[i], qkv_ids[i]
                first = next((t for t in range(min(len(x), len(y))) if x[t] != y[t]), min(len(x), len(y)))
                msgs.append(f"  first disagreement: line {i + 1}, token {first} (torch {len(x)} tokens, qkv {len(y)})")
                break
    for m in msgs:
        print(f"# parity: {m}", flush=True)


if not args.no_parity:
    parity()
for c in args.cases:
    {"train_step": bench_train_step, "decode": bench_decode}[c]()
