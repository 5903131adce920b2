"""Shared by the Python tests: where the CLI and the shared data are (ctest
sets QKV_CLI and QKV_SHARED_DATA; python/CMakeLists.txt), and a tiny GPT run."""
import json
import os
import subprocess
import tempfile

import qkv

CLI = os.environ.get("QKV_CLI", "")
SHARED_DATA = os.environ.get("QKV_SHARED_DATA", "")

# A corpus small enough to train in well under a second, long enough for two
# splits of block_size + 1 characters.
CORPUS = "the cat sat on the mat. the dog ran in the park. a cat and a dog.\n" * 12

# `qkv train gpt` flags and the same settings as qkv.train_gpt keywords.
TINY_GPT = {"n_layer": 1, "n_head": 2, "n_embd": 16, "block_size": 16, "batch_size": 4, "max_iters": 12,
            "eval_interval": 6, "eval_iters": 2, "log_interval": 6, "dropout": 0.0, "lr": 3e-3, "warmup_iters": 2}


def cli_flags(settings):
    flags = []
    for k, v in settings.items():
        flags += ["--" + k.replace("_", "-"), str(v)]
    return flags


def run_cli(*args, input=None):
    """Runs the qkv program; returns stdout (raises with stderr on failure)."""
    if not CLI:
        raise unittest_skip("QKV_CLI is not set (run the tests through ctest)")
    # errors="replace": a random model's byte-level tokens need not decode to UTF-8
    # (the module's strings replace such bytes the same way).
    r = subprocess.run([CLI, *args], capture_output=True, text=True, errors="replace", input=input)
    if r.returncode != 0:
        raise AssertionError(f"qkv {' '.join(args)} failed ({r.returncode}):\n{r.stderr}")
    return r.stdout


def unittest_skip(msg):
    import unittest
    return unittest.SkipTest(msg)


class TinyGPT:
    """A temporary directory holding corpus.txt and a GPT trained on it by qkv.train_gpt."""

    def __init__(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="qkv_py_")
        self.root = self.tmp.name
        self.data = os.path.join(self.root, "corpus.txt")
        with open(self.data, "w") as f:
            f.write(CORPUS)
        self.dir = os.path.join(self.root, "gpt")
        self.result = qkv.train_gpt(self.data, self.dir, threads=1, **TINY_GPT)

    def cleanup(self):
        self.tmp.cleanup()


def losses(log_path):
    """(step, train_loss, val_loss) of each evaluation in a log.jsonl."""
    with open(log_path) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    return [(r["step"], r["train_loss"], r["val_loss"]) for r in rows]
