#!/usr/bin/env python3
"""Generation through the Python module against the `qkv` program, same model,
same settings, one run (issue #13's target: Python within 5% of the CLI's
tokens/s).

    PYTHONPATH=build/python /usr/bin/python3 bench/python_generate.py [--build build] [--shape gpt2|small]
        [--rounds 5] [--new-tokens 128] [--weights f32|bf16|int8] [--threads N]

The model has random weights (speed does not depend on them): the GPT-2 124M
shape with GPT-2's tokenizer from ../shared/data (--shape gpt2), or
nanoGPT's Shakespeare-char shape with a character tokenizer (--shape small,
10M parameters: decoding is ~40x faster, so per-token overhead shows more).
Each round times the same greedy generation (a prompt of at most 16 tokens) once
through each, alternating: the CLI's figure is its own --jsonl
tokens_per_sec (generation alone, as the Python side is timed: model
loading excluded on both). Prints the medians and Python/CLI.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import qkv  # first: sets the OpenMP wait policy the CLI uses before anything loads libgomp

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.join(HERE, "..", "..", "shared", "data")

SHAPES = {
    "gpt2": {"model_type": "gpt", "n_layer": 12, "n_head": 12, "n_embd": 768, "block_size": 1024, "dropout": 0.0},
    "small": {"model_type": "gpt", "n_layer": 6, "n_head": 6, "n_embd": 384, "block_size": 256, "dropout": 0.0},
}


def make_model(shape, root):
    d = os.path.join(root, shape)
    if shape == "gpt2":
        tok = qkv.load_tokenizer(os.path.join(SHARED, "tokenizers", "gpt2"))
    else:
        with open(os.path.join(SHARED, "tinyshakespeare", "input.txt")) as f:
            tok = qkv.char_tokenizer(f.read())
    model = qkv.create_model({**SHAPES[shape], "vocab_size": tok.vocab_size}, seed=1)
    model.save(d)
    tok.save(os.path.join(d, "tokenizer.json"))
    return d


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--shape", choices=sorted(SHAPES), default="gpt2")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--new-tokens", type=int, default=128)
    ap.add_argument("--weights", default="f32")
    ap.add_argument("--threads", type=int, default=0, help="0 = qkv's default (physical cores)")
    a = ap.parse_args()
    cli = os.path.join(a.build, "bin", "qkv")
    with tempfile.TemporaryDirectory(prefix="qkv-bench-py-") as root:
        d = make_model(a.shape, root)
        if a.threads:
            qkv.set_threads(a.threads)
        model = qkv.load(d, weights=a.weights)
        prompt = "ROMEO: The quick brown fox jumps over the lazy dog, and then"
        ids = model.tokenize(prompt)[:16]
        prompt = model.decode(ids)
        assert model.tokenize(prompt) == ids, "the prompt must re-tokenize to the same ids"
        common = ["--max-new-tokens", str(a.new_tokens), "--temperature", "0", "--weights", a.weights]
        if a.threads:
            common += ["--threads", str(a.threads)]
        print(f"# {os.uname().nodename}: {qkv.num_threads()} threads, shape {a.shape} "
              f"({model.num_parameters / 1e6:.1f}M parameters), {a.weights} weights, {len(ids)}-token prompt, "
              f"{a.new_tokens} new tokens greedy, {time.strftime('%F %H:%M UTC', time.gmtime())}, "
              f"load {os.getloadavg()[0]:.2f}, GOMP_SPINCOUNT={os.environ.get('GOMP_SPINCOUNT', 'unset')}",
              flush=True)
        model.generate(ids, max_new_tokens=8, temperature=0.0)  # warm-up (allocator cache, page faults)
        py, cl = [], []
        for r in range(a.rounds):
            out = subprocess.run([cli, "generate", d, "--prompt", prompt, "--jsonl", *common],
                                 capture_output=True, text=True, check=True)
            j = json.loads(out.stdout.splitlines()[0])
            cl.append(j["tokens_per_sec"])
            t0 = time.perf_counter()
            new = model.generate(ids, max_new_tokens=a.new_tokens, temperature=0.0)
            py.append(len(new) / (time.perf_counter() - t0))
            assert new == j["ids"], "Python and the CLI generated different tokens"
            print(f"round {r + 1}: cli {cl[-1]:.1f} tokens/s, python {py[-1]:.1f} tokens/s", flush=True)
        mp, mc = statistics.median(py), statistics.median(cl)
        paired = statistics.median(p / c for p, c in zip(py, cl))  # each round's two runs saw the same load
        print(f"median: cli {mc:.1f} tokens/s, python {mp:.1f} tokens/s, python/cli {mp / mc:.3f} "
              f"(median of the rounds' ratios {paired:.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
