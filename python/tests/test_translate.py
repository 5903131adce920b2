"""The encoder–decoder model from Python: model.translate gives the lines
`qkv translate` prints (beam search, n-best with scores), on a tiny random
Transformer with a byte-level BPE trained by `qkv train-tokenizer`."""
import json
import os
import shutil
import tempfile
import unittest

import qkv
from qkv_test_util import CORPUS, run_cli

SOURCES = ["the cat sat on the mat.", "a dog ran", "", "the dog and the cat in the park. " * 4]


def setUpModule():
    global TMP, DIR
    TMP = tempfile.TemporaryDirectory(prefix="qkv_py_translate_")
    corpus = os.path.join(TMP.name, "corpus.txt")
    with open(corpus, "w") as f:
        f.write(CORPUS)
    tok_dir = os.path.join(TMP.name, "tok")
    run_cli("train-tokenizer", "--type", "bpe", "--vocab-size", "300", "--special", "<pad>", "--special", "<s>",
            "--special", "</s>", "--out", tok_dir, corpus)
    vocab = qkv.load_tokenizer(tok_dir).vocab_size
    model = qkv.create_model({"model_type": "transformer", "vocab_size": vocab, "d_model": 16, "n_heads": 2,
                              "d_ff": 32, "n_encoder_layers": 1, "n_decoder_layers": 1, "dropout": 0.0,
                              "max_len": 24, "pad_id": 0, "bos_id": 1, "eos_id": 2}, seed=3)
    DIR = os.path.join(TMP.name, "model")
    model.save(DIR)
    shutil.copy(os.path.join(tok_dir, "tokenizer.json"), DIR)


def tearDownModule():
    TMP.cleanup()


class Translate(unittest.TestCase):
    def test_same_lines_as_qkv_translate(self):
        model = qkv.load(DIR)
        want = run_cli("translate", DIR, "--beam", "3", input="\n".join(SOURCES) + "\n").split("\n")[:-1]
        got = model.translate(SOURCES, beam=3, batch_size=2)
        self.assertEqual(len(got), len(SOURCES))
        self.assertEqual(got[2], "")  # empty in, empty out
        self.assertEqual([g.replace("\n", " ") for g in got], want)

    def test_n_best_with_scores(self):
        model = qkv.load(DIR)
        out = run_cli("translate", DIR, "--beam", "4", "--n-best", "2", "--jsonl", input="\n".join(SOURCES[:2]) + "\n")
        want = [json.loads(line)["hypotheses"] for line in out.splitlines()]
        got = model.translate(SOURCES[:2], beam=4, n_best=2)
        def text(h):  # the JSON lines mark bad UTF-8 bytes their own way; the rest must agree
            return h["text"].replace("\ufffd", "")

        for g, w in zip(got, want):
            self.assertEqual([text(h) for h in g], [text(h) for h in w])
            for a, b in zip(g, w):
                self.assertAlmostEqual(a["score"], b["score"], places=5)

    def test_bad_options(self):
        model = qkv.load(DIR)
        with self.assertRaisesRegex(ValueError, r"n_best must be in \[1, beam_size = 2\]"):
            model.translate(["a"], beam=2, n_best=3)
        with self.assertRaisesRegex(ValueError, r"translate: this is a 'bert' model|translation needs"):
            qkv.create_model({"model_type": "bert", "vocab_size": 10, "hidden_size": 8, "num_attention_heads": 2,
                              "num_hidden_layers": 1, "intermediate_size": 16}).translate(["a"])


if __name__ == "__main__":
    unittest.main()
