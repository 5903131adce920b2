#!/usr/bin/python3
"""Cross-entropy of a character-level GPT over the WHOLE validation split.

    /usr/bin/python3 bench/nanogpt/full_val_loss.py MODEL --data input.txt [--window 64] [--json]

MODEL is either a qkv run directory (config.json + model.safetensors +
tokenizer.json, as `qkv train gpt` writes) or a nanoGPT checkpoint (ckpt.pt, or
the out_dir holding it). The validation split is the one each tool trains
against: nanoGPT's data/shakespeare_char/prepare.py keeps
data[int(n*0.9):] (vocab = sorted set of the corpus' characters); qkv's
Trainer keeps tokens[size_t(double(n) * (1.0 - float(val_fraction))):]. The
script computes both and checks that they are the same text.

Every target of the split is scored exactly once: the split v[0..N-1] is cut
into consecutive non-overlapping windows x = v[i : i+W], y = v[i+1 : i+W+1]
(i = 0, W, 2W, ...), the last one partial, so the N-1 targets v[1..N-1] each
appear once, with between 0 and W-1 tokens of context. The result is the mean
over all N-1 targets (summed in float64), not nanoGPT's 20-batch estimate.

The forward pass is written here from the weights (pre-LN GPT-2 as in
nanoGPT's model.py: token + position embeddings, n_layer blocks of
x += attn(ln_1(x)); x += mlp(ln_2(x)), ln_f, tied lm_head = wte), so both kinds
of model go through the same code; safetensors is parsed with numpy.
"""
import argparse
import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

# ------------------------------------------------------------------ loading

_ST_DTYPES = {"F32": np.float32, "F64": np.float64, "F16": np.float16, "I64": np.int64, "I32": np.int32}


def read_safetensors(path):
    """safetensors: u64 little-endian header length, JSON header, raw data."""
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8 : 8 + n].decode("utf-8"))
    data = memoryview(blob)[8 + n :]
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        dt = meta["dtype"]
        if dt not in _ST_DTYPES:
            raise SystemExit(f"{path}: tensor {name}: unsupported dtype {dt}")
        b, e = meta["data_offsets"]
        arr = np.frombuffer(data[b:e], dtype=_ST_DTYPES[dt]).reshape(meta["shape"])
        out[name] = torch.from_numpy(arr.astype(np.float32, copy=True))
    return out


def load_qkv(run_dir):
    cfg = json.load(open(os.path.join(run_dir, "config.json")))
    sd = read_safetensors(os.path.join(run_dir, "model.safetensors"))
    tok = json.load(open(os.path.join(run_dir, "tokenizer.json")))
    vocab = tok["model"]["vocab"]  # char -> id
    stoi = {c: int(i) for c, i in vocab.items()}
    act = cfg.get("activation", "gelu")
    return dict(cfg=cfg, sd=sd, stoi=stoi, act=act, kind="qkv", val_fraction=None)


def load_nanogpt(path):
    if os.path.isdir(path):
        path = os.path.join(path, "ckpt.pt")
    ck = torch.load(path, map_location="cpu")
    sd = {}
    for k, v in ck["model"].items():
        for prefix in ("_orig_mod.", "transformer."):
            if k.startswith(prefix):
                k = k[len(prefix) :]
        if k.endswith(".attn.bias"):  # the causal-mask buffer of nanoGPT's non-flash attention
            continue
        sd[k] = v.float()
    cfg = dict(ck["model_args"])
    cfg["iter_num"] = ck.get("iter_num")
    return dict(cfg=cfg, sd=sd, stoi=None, act="gelu", kind="nanogpt")


# ------------------------------------------------------------------ forward


class GPTForward:
    def __init__(self, sd, n_layer, n_head, act):
        self.sd, self.L, self.H = sd, n_layer, n_head
        self.gelu = (lambda x: F.gelu(x, approximate="tanh")) if act == "gelu_tanh" else F.gelu
        expected = {"wte.weight", "wpe.weight", "ln_f.weight", "ln_f.bias", "lm_head.weight"}
        for l in range(n_layer):
            for n in ("ln_1", "ln_2", "attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj"):
                expected |= {f"h.{l}.{n}.weight", f"h.{l}.{n}.bias"}
        unknown = set(sd) - expected
        if unknown:
            raise SystemExit(f"unexpected tensors: {sorted(unknown)}")
        if "lm_head.weight" in sd and not torch.equal(sd["lm_head.weight"], sd["wte.weight"]):
            raise SystemExit("lm_head.weight is not tied to wte.weight")

    def _lin(self, x, name):
        return F.linear(x, self.sd[name + ".weight"], self.sd.get(name + ".bias"))

    def _ln(self, x, name):
        w = self.sd[name + ".weight"]
        return F.layer_norm(x, w.shape, w, self.sd.get(name + ".bias"), 1e-5)

    @torch.no_grad()
    def logits(self, idx):  # idx (B,T) -> (B,T,V)
        B, T = idx.shape
        x = self.sd["wte.weight"][idx] + self.sd["wpe.weight"][:T]  # (B,T,C)
        C = x.shape[-1]
        hs = C // self.H
        mask = torch.ones(T, T, dtype=torch.bool).tril()
        for l in range(self.L):
            p = f"h.{l}."
            q, k, v = self._lin(self._ln(x, p + "ln_1"), p + "attn.c_attn").split(C, dim=2)
            q, k, v = (t.view(B, T, self.H, hs).transpose(1, 2) for t in (q, k, v))  # (B,NH,T,hs)
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hs))
            att = att.masked_fill(~mask, float("-inf")).softmax(dim=-1)
            y = (att @ v).transpose(1, 2).reshape(B, T, C)
            x = x + self._lin(y, p + "attn.c_proj")
            h = self.gelu(self._lin(self._ln(x, p + "ln_2"), p + "mlp.c_fc"))
            x = x + self._lin(h, p + "mlp.c_proj")
        x = self._ln(x, "ln_f")
        return F.linear(x, self.sd["wte.weight"])  # tied lm_head


# ------------------------------------------------------------------ data


def val_split(text, stoi, val_fraction):
    """Returns (ids of the val split, description); checks both tools' rules agree."""
    n = len(text)
    cut_nanogpt = int(n * 0.9)
    # qkv: size_t(double(n) * (1.0 - (double)float(val_fraction)))
    vf32 = float(np.float32(val_fraction))
    cut_qkv = int(float(n) * (1.0 - vf32))
    if abs(val_fraction - 0.1) < 1e-12 and cut_nanogpt != cut_qkv:
        raise SystemExit(f"split mismatch: nanoGPT cuts at {cut_nanogpt}, qkv at {cut_qkv}")
    val = text[cut_qkv:]
    missing = sorted(set(val) - set(stoi))
    if missing:
        raise SystemExit(f"val split has characters outside the vocabulary: {missing!r}")
    return np.array([stoi[c] for c in val], dtype=np.int64), cut_qkv


def full_val_loss(model, ids, window, batch=64):
    """Mean CE over every target of ids, in non-overlapping windows of `window`."""
    N = len(ids)
    total, count = 0.0, 0
    n_full = (N - 1) // window  # windows with `window` targets
    t = torch.from_numpy(ids)
    starts = [i * window for i in range(n_full)]
    for b in range(0, n_full, batch):
        s = starts[b : b + batch]
        x = torch.stack([t[i : i + window] for i in s])
        y = torch.stack([t[i + 1 : i + window + 1] for i in s])
        lg = model.logits(x)
        total += F.cross_entropy(lg.reshape(-1, lg.shape[-1]), y.reshape(-1), reduction="sum").double().item()
        count += y.numel()
    rest = (N - 1) - n_full * window  # the last partial window
    if rest > 0:
        i = n_full * window
        x, y = t[i : i + rest][None], t[i + 1 : i + rest + 1][None]
        lg = model.logits(x)
        total += F.cross_entropy(lg.reshape(-1, lg.shape[-1]), y.reshape(-1), reduction="sum").double().item()
        count += y.numel()
    assert count == N - 1, (count, N)
    return total / count, count


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model", help="qkv run directory, or nanoGPT ckpt.pt / its out_dir")
    ap.add_argument("--data", required=True, help="the corpus (input.txt)")
    ap.add_argument("--window", type=int, default=64, help="tokens per window (<= block_size)")
    ap.add_argument("--val-fraction", type=float, default=0.1)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument("--json", action="store_true", help="print one JSON line instead of text")
    a = ap.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)

    text = open(a.data, encoding="utf-8").read()
    is_qkv = os.path.isdir(a.model) and os.path.exists(os.path.join(a.model, "model.safetensors"))
    m = load_qkv(a.model) if is_qkv else load_nanogpt(a.model)
    chars = sorted(set(text))
    if m["stoi"] is None:  # nanoGPT: prepare.py's sorted character vocabulary
        m["stoi"] = {c: i for i, c in enumerate(chars)}
    elif len(m["stoi"]) != len(chars) or set(m["stoi"]) != set(chars):
        raise SystemExit("qkv tokenizer's characters differ from the corpus' character set")
    cfg = m["cfg"]
    V = m["sd"]["wte.weight"].shape[0]
    if V != len(m["stoi"]):
        raise SystemExit(f"wte has {V} rows but the vocabulary has {len(m['stoi'])} characters")
    if a.window > cfg["block_size"]:
        raise SystemExit(f"--window {a.window} exceeds block_size {cfg['block_size']}")
    ids, cut = val_split(text, m["stoi"], a.val_fraction)
    fwd = GPTForward(m["sd"], cfg["n_layer"], cfg["n_head"], m["act"])
    loss, count = full_val_loss(fwd, ids, a.window)
    if a.json:
        print(json.dumps({"model": a.model, "kind": m["kind"], "val_loss": loss, "targets": count,
                          "val_start": cut, "window": a.window}))
    else:
        print(f"{m['kind']} {a.model}: full-val cross-entropy {loss:.4f} over {count} targets "
              f"(val = chars [{cut}:{len(text)}], windows of {a.window})")


if __name__ == "__main__":
    sys.exit(main())
