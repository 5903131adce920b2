"""A GPT from Python: qkv.train_gpt writes the same checkpoint as `qkv train
gpt` with the same settings (the same library function runs), and
model.generate gives the same tokens as `qkv generate` with the same seed —
plain sampling, top-k/top-p, greedy, int8 weights. tokenize/decode, logits,
and the GIL released while generating."""
import json
import os
import signal
import subprocess
import sys
import threading
import time
import unittest

import numpy as np

import qkv
from qkv_test_util import TINY_GPT, TinyGPT, cli_flags, losses, run_cli


def setUpModule():
    global RUN
    RUN = TinyGPT()


def tearDownModule():
    RUN.cleanup()


def cli_generate(dir, prompt, *flags):
    """ids of `qkv generate --jsonl`'s continuation."""
    out = run_cli("generate", dir, "--prompt", prompt, "--jsonl", "--threads", "1", *flags)
    return json.loads(out.splitlines()[0])


class TrainParity(unittest.TestCase):
    def test_train_gpt_writes_what_the_cli_writes(self):
        cli_dir = os.path.join(RUN.root, "cli")
        run_cli("train", "gpt", "--data", RUN.data, "--out", cli_dir, "--threads", "1", *cli_flags(TINY_GPT))
        self.assertEqual(RUN.result["step"], TINY_GPT["max_iters"])
        self.assertEqual(RUN.result["out"], RUN.dir)
        self.assertEqual(losses(os.path.join(cli_dir, "log.jsonl")), losses(os.path.join(RUN.dir, "log.jsonl")))
        for name in ("model.safetensors", "tokenizer.json", "config.json"):
            with open(os.path.join(cli_dir, name), "rb") as a, open(os.path.join(RUN.dir, name), "rb") as b:
                self.assertEqual(a.read(), b.read(), name)

    def test_resume_continues_the_run(self):
        # Keywords override the checkpoint's configs as flags do: 6 more steps.
        r = qkv.train_gpt(RUN.data, RUN.dir + "_resumed", threads=1, **{**TINY_GPT, "max_iters": 6})
        self.assertEqual(r["step"], 6)
        r = qkv.train_gpt(RUN.data, RUN.dir + "_resumed", resume=True, max_iters=12)
        self.assertEqual(r["step"], 12)
        self.assertEqual(losses(os.path.join(RUN.dir + "_resumed", "log.jsonl")),
                         losses(os.path.join(RUN.dir, "log.jsonl")))


class CtrlC(unittest.TestCase):
    def test_ctrl_c_saves_the_step_and_raises_keyboard_interrupt(self):
        out = os.path.join(RUN.root, "interrupted")
        script = (f"import qkv\nqkv.train_gpt({RUN.data!r}, {out!r}, threads=1, "
                  f"**{ {**TINY_GPT, 'max_iters': 10**6, 'eval_interval': 10**6}!r})\n")
        p = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while not os.path.exists(os.path.join(out, "log.jsonl")) and time.monotonic() < deadline:
            time.sleep(0.05)  # the step-0 evaluation is written: training has begun
        time.sleep(0.3)
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=60)
        self.assertNotEqual(p.returncode, 0)
        self.assertRegex(err, r"KeyboardInterrupt: interrupted at step \d+; the checkpoint in .* resume=True")
        step = int(err.split("interrupted at step ")[1].split(";")[0])
        self.assertGreater(step, 0)
        with open(os.path.join(out, "trainer_state.json")) as f:
            self.assertEqual(json.load(f)["step"], step)


class GenerateParity(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        qkv.set_threads(1)
        cls.model = qkv.load(RUN.dir)

    def test_same_tokens_as_the_cli(self):
        cases = [
            ({"seed": 7}, ["--seed", "7"]),
            ({"seed": 3, "temperature": 1.2, "top_k": 5}, ["--seed", "3", "--temperature", "1.2", "--top-k", "5"]),
            ({"seed": 11, "top_p": 0.9}, ["--seed", "11", "--top-p", "0.9"]),
            ({"temperature": 0.0}, ["--temperature", "0"]),
        ]
        for kw, flags in cases:
            with self.subTest(kw=kw):
                want = cli_generate(RUN.dir, "the cat", "--max-new-tokens", "40", *flags)
                ids = self.model.tokenize("the cat")
                self.assertEqual(ids, want["prompt_ids"])
                self.assertEqual(self.model.generate(ids, max_new_tokens=40, **kw), want["ids"])
                self.assertEqual(self.model.generate("the cat", max_new_tokens=40, **kw), want["text"])

    def test_quantized_weights_match_the_cli_too(self):
        model = qkv.load(RUN.dir, weights="int8")
        want = cli_generate(RUN.dir, "a dog", "--max-new-tokens", "30", "--seed", "5", "--weights", "int8")
        self.assertEqual(model.generate("a dog", max_new_tokens=30, seed=5), want["text"])

    def test_eos_stops_the_sequence(self):
        prompt = self.model.tokenize("the")
        ids = self.model.generate(prompt, max_new_tokens=60, temperature=0.0)
        stop = ids[5]
        cut = self.model.generate(prompt, max_new_tokens=60, temperature=0.0, eos=stop)
        self.assertEqual(cut, ids[: ids.index(stop) + 1])

    def test_tokenize_decode_and_logits(self):
        ids = self.model.tokenize("the dog")
        self.assertEqual(self.model.decode(ids), "the dog")
        self.assertEqual(self.model.tokenizer.encode("the dog"), ids)
        logits = self.model.logits(qkv.tensor(np.array([ids], dtype=np.int64)))
        self.assertEqual(logits.shape, (1, len(ids), self.model.config["vocab_size"]))
        self.assertEqual(self.model.model_type, "gpt")
        self.assertGreater(self.model.num_parameters, 0)

    def test_generate_releases_the_gil(self):
        # While a long generation runs in a thread, this thread keeps running
        # Python: with the GIL held it could not, until generate returned.
        done = threading.Event()
        worker = threading.Thread(target=lambda: (self.model.generate("the", max_new_tokens=3000,
                                                                      temperature=0.0), done.set()))
        start = time.monotonic()
        worker.start()
        ticks = 0
        while not done.is_set():
            ticks += 1
            time.sleep(0.001)
        worker.join()
        self.assertGreater(time.monotonic() - start, 0.05, "generation too short to tell")
        self.assertGreater(ticks, 10)


if __name__ == "__main__":
    unittest.main()
