#!/usr/bin/python3
"""PyTorch peer for qkv's BERT benchmark (bench/qkv_bench_bert.cpp;
bench/run_bert.sh runs both).

    /usr/bin/python3 bench/peers/torch_bert.py --dump DIR --threads N [--json]
        [--reps R] [--no-parity] [--no-foreach] CASE...
    CASE: infer train_step   (default both)

DIR is what `qkv_bench_bert --dump DIR` wrote: config.json + model.safetensors
(the weights qkv benchmarks, under Hugging Face's names) and inputs.safetensors
(every batch, the shape strings, qkv's eval-mode outputs for the parity check).
The model is Hugging Face's BertForSequenceClassification written out in plain
PyTorch (the transformers package is not installed; the layout is
tests/fixtures/bert/make_bert_fixture.py's, with dropout): word + position +
token-type embeddings -> LayerNorm -> dropout; post-LN layers with HF's eager
attention (matmul(q, k^T) / sqrt(hs) + the extended mask (1 - mask) *
finfo.min, softmax, dropout, matmul with v), exact GELU; pooler tanh(dense(h[:,
0])) -> dropout -> classifier. Loaded strictly: every name must match.

  infer       eval mode under torch.inference_mode(), for each dumped batch
              (batch 1 and 32, mask all true and padded): sequences/s = B / time.
  train_step  training mode (dropout 0.1), the dumped training batch and labels:
              zero_grad(set_to_none) + forward + cross_entropy + backward +
              clip_grad_norm_(1.0) + AdamW(lr 2e-5, betas (0.9, 0.999), eps 1e-8,
              weight decay 0.01 on dim >= 2 parameters, 0 on biases/LayerNorm:
              the HF Trainer's split), foreach=True (faster than 1.13's default loop).
  parity      (not timed; '#' lines) eval-mode hidden states and logits of the
              batch-1 inputs against qkv's.

Timing as qkv's: 2 warm-up calls, then R samples, a batch-1 sample repeating
the call until it lasts >= 200 ms. JSON lines as qkv_bench_bert's. Run it at its
best (bench/peers/README.md; bench/run_bert.sh does): OPENBLAS_CORETYPE=Cooperlake
LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp and each wait policy.
"""

import argparse
import json
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402


def parse_args(argv):
    p = argparse.ArgumentParser(description="PyTorch peer for qkv's BERT benchmark")
    p.add_argument("--dump", required=True, help="directory written by qkv_bench_bert --dump")
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--json", action="store_true")
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--no-parity", action="store_true", help="skip the agreement check with qkv's outputs")
    p.add_argument("--no-foreach", action="store_true", help="AdamW's per-tensor loop (1.13 default)")
    p.add_argument("cases", nargs="*", metavar="CASE", default=["infer", "train_step"])
    a = p.parse_args(argv)
    for c in a.cases:
        if c not in ("infer", "train_step"):
            p.error(f"unknown case {c!r}")
    if a.threads < 1 or a.reps < 1:
        p.error("--threads and --reps must be >= 1")
    return a


args = parse_args(sys.argv[1:])
common.set_thread_env(args.threads)

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "fixtures", "seq2seq"))
from seq2seq_torch import read_safetensors  # noqa: E402

torch.set_num_threads(args.threads)
torch.manual_seed(7)
report = common.Reporter(args.json, args.threads, torch.__version__)


class Embeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        C = c["hidden_size"]
        self.word_embeddings = nn.Embedding(c["vocab_size"], C)
        self.position_embeddings = nn.Embedding(c["max_position_embeddings"], C)
        self.token_type_embeddings = nn.Embedding(c["type_vocab_size"], C)
        self.LayerNorm = nn.LayerNorm(C, eps=c["layer_norm_eps"])
        self.dropout = nn.Dropout(c["hidden_dropout_prob"])

    def forward(self, ids, types):
        pos = torch.arange(ids.shape[1])
        x = self.word_embeddings(ids) + self.position_embeddings(pos)[None] + self.token_type_embeddings(types)
        return self.dropout(self.LayerNorm(x))


class SelfAttention(nn.Module):  # HF BertSelfAttention, eager
    def __init__(self, c):
        super().__init__()
        C = c["hidden_size"]
        self.NH, self.hs = c["num_attention_heads"], C // c["num_attention_heads"]
        self.query, self.key, self.value = nn.Linear(C, C), nn.Linear(C, C), nn.Linear(C, C)
        self.dropout = nn.Dropout(c["attention_probs_dropout_prob"])

    def forward(self, x, ext_mask):  # ext_mask (B,1,1,T): 0 at real keys, finfo.min at padding
        b, t, C = x.shape
        q, k, v = (m(x).view(b, t, self.NH, self.hs).transpose(1, 2) for m in (self.query, self.key, self.value))
        s = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.hs) + ext_mask
        p = self.dropout(torch.softmax(s, dim=-1))
        return torch.matmul(p, v).transpose(1, 2).reshape(b, t, C)


class ResidualOutput(nn.Module):  # BertSelfOutput / BertOutput: LayerNorm(dropout(dense(x)) + residual)
    def __init__(self, inp, c):
        super().__init__()
        self.dense = nn.Linear(inp, c["hidden_size"])
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])
        self.dropout = nn.Dropout(c["hidden_dropout_prob"])

    def forward(self, x, residual):
        return self.LayerNorm(self.dropout(self.dense(x)) + residual)


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.self = SelfAttention(c)
        self.output = ResidualOutput(c["hidden_size"], c)


class Intermediate(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["intermediate_size"])


class Layer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.attention = Attention(c)
        self.intermediate = Intermediate(c)
        self.output = ResidualOutput(c["intermediate_size"], c)

    def forward(self, x, ext_mask):
        a = self.attention.output(self.attention.self(x, ext_mask), x)
        return self.output(F.gelu(self.intermediate.dense(a)), a)


class Encoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layer = nn.ModuleList([Layer(c) for _ in range(c["num_hidden_layers"])])


class Pooler(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["hidden_size"])


class BertModel(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embeddings = Embeddings(c)
        self.encoder = Encoder(c)
        self.pooler = Pooler(c)

    def forward(self, ids, types, mask):  # -> hidden (B,T,C)
        ext = (1.0 - mask[:, None, None, :].to(torch.float32)) * torch.finfo(torch.float32).min
        x = self.embeddings(ids, types)
        for layer in self.encoder.layer:
            x = layer(x, ext)
        return x


class BertForSequenceClassification(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.bert = BertModel(c)
        p = c.get("classifier_dropout")
        self.dropout = nn.Dropout(c["hidden_dropout_prob"] if p is None else p)
        self.classifier = nn.Linear(c["hidden_size"], c["num_labels"])

    def forward(self, ids, types, mask):  # -> (hidden, logits)
        h = self.bert(ids, types, mask)
        pooled = torch.tanh(self.bert.pooler.dense(h[:, 0]))
        return h, self.classifier(self.dropout(pooled))


with open(os.path.join(args.dump, "config.json")) as f:
    CFG = json.load(f)
assert CFG.get("hidden_act", "gelu") == "gelu", "the peer implements the erf GELU only"
model = BertForSequenceClassification(CFG)
weights, _ = read_safetensors(os.path.join(args.dump, "model.safetensors"))
model.load_state_dict(weights, strict=True)  # every Hugging Face name must match qkv's
INP, META = read_safetensors(os.path.join(args.dump, "inputs.safetensors"))


def batch(key):
    return tuple(INP[f"{key}.{n}"] for n in ("input_ids", "token_type_ids", "attention_mask"))


def parity():
    model.eval()
    with torch.inference_mode():
        for key in ("b1_full", "b1_padded"):
            if f"parity.{key}.hidden" not in INP:
                continue
            h, logits = model(*batch(key))
            dh = (h - INP[f"parity.{key}.hidden"]).abs().max().item()
            dl = (logits - INP[f"parity.{key}.logits"]).abs().max().item()
            print(f"# parity {key}: hidden maxdiff {dh:.3g}, logits maxdiff {dl:.3g} (eval mode, against qkv)",
                  flush=True)


def bench_infer():
    model.eval()
    for key in META["infer"].split(","):
        ids, types, mask = batch(key)
        B = ids.shape[0]

        def call():
            with torch.inference_mode():
                model(ids, types, mask)

        best, med = common.time_it(call, 2, args.reps, 200.0 if B == 1 else 0.0)
        report("infer", META[f"shape.{key}"], best, med,
               {"sequences_per_sec": round(B / best * 1e3, 2), "sequences_per_sec_median": round(B / med * 1e3, 2)},
               f"{B / best * 1e3:.2f} sequences/s (best)")


def bench_train_step():
    model.train()
    ps = list(model.parameters())
    opt = torch.optim.AdamW([{"params": [p for p in ps if p.dim() >= 2], "weight_decay": 0.01},
                             {"params": [p for p in ps if p.dim() < 2], "weight_decay": 0.0}],
                            lr=2e-5, betas=(0.9, 0.999), eps=1e-8, foreach=not args.no_foreach)
    ids, types, mask = batch("train")
    labels = INP["train.labels"]
    last = [0.0]

    def step():
        opt.zero_grad(set_to_none=True)
        _, logits = model(ids, types, mask)
        loss = F.cross_entropy(logits, labels)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        last[0] = loss.item()

    best, med = common.time_it(step, 2, args.reps, 0.0)
    B = ids.shape[0]
    report("train_step", META["shape.train_step"], best, med,
           {"sequences_per_sec": round(B / best * 1e3, 2), "sequences_per_sec_median": round(B / med * 1e3, 2),
            "last_loss": round(last[0], 4), "foreach": not args.no_foreach},
           f"{B / best * 1e3:.2f} sequences/s (best), loss {last[0]:.3f}")


if not args.no_parity:
    parity()
for c in args.cases:
    {"infer": bench_infer, "train_step": bench_train_step}[c]()
