"""Encoders from Python: a tiny random BERT (qkv.create_model, saved with a
WordPiece vocab.txt — as tests/pipelines/test_pipelines.cpp builds one) gives
the same embeddings as `qkv embed` and the same pipeline answers as `qkv
pipeline` (fill-mask, text- and token-classification)."""
import json
import os
import tempfile
import unittest

import numpy as np

import qkv
from qkv_test_util import run_cli

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "sat", "on", "mat", "dog", "ran", "black",
         "##burn", "in", "paris", "a", "."]


def tiny_bert(root, name, architecture, **extra):
    """A saved BERT directory with random weights (seed 11) and VOCAB."""
    config = {"model_type": "bert", "architectures": [architecture], "vocab_size": len(VOCAB), "hidden_size": 16,
              "num_attention_heads": 2, "num_hidden_layers": 2, "intermediate_size": 32,
              "max_position_embeddings": 16, **extra}
    model = qkv.create_model(config, seed=11)
    d = os.path.join(root, name)
    model.save(d)
    with open(os.path.join(d, "vocab.txt"), "w") as f:
        f.write("\n".join(VOCAB) + "\n")
    return d


def setUpModule():
    global TMP, MLM, SEQ, TOK
    TMP = tempfile.TemporaryDirectory(prefix="qkv_py_bert_")
    MLM = tiny_bert(TMP.name, "mlm", "BertForMaskedLM")
    SEQ = tiny_bert(TMP.name, "seq", "BertForSequenceClassification", id2label={"0": "NEG", "1": "POS"})
    TOK = tiny_bert(TMP.name, "tok", "BertForTokenClassification",
                    id2label={"0": "O", "1": "B-PER", "2": "I-PER", "3": "B-LOC"})


def tearDownModule():
    TMP.cleanup()


def pipeline(task, d, text, *flags):
    return json.loads(run_cli("pipeline", task, d, *flags, input=text + "\n").splitlines()[0])


class Embed(unittest.TestCase):
    def test_same_vectors_as_qkv_embed(self):
        texts = ["the cat sat on the mat.", "a black dog ran in paris", "the dog"]
        for pooling in ("mean", "cls"):
            with self.subTest(pooling=pooling):
                e = qkv.load(MLM).embed(texts, pooling=pooling, batch_size=2)
                self.assertEqual(e.shape, (3, 16))
                self.assertEqual(e.dtype, np.float32)
                np.testing.assert_allclose(np.linalg.norm(e, axis=1), 1, atol=1e-5)
                docs = os.path.join(TMP.name, "docs.txt")
                with open(docs, "w") as f:
                    f.write("\n".join(texts) + "\n")
                out = os.path.join(TMP.name, f"index_{pooling}.jsonl")
                run_cli("embed", MLM, "--input", docs, "--out", out, "--pooling", pooling)
                with open(out) as f:
                    want = np.array([json.loads(line)["embedding"] for line in f], dtype=np.float32)
                np.testing.assert_allclose(e, want, atol=1e-6)


class Pipelines(unittest.TestCase):
    def test_fill_mask(self):
        model = qkv.load(MLM)
        self.assertEqual(model.model_type, "bert")
        self.assertIsNone(model.tokenizer)  # encoders tokenize with their WordPiece (model.tokenize)
        self.assertEqual(model.tokenize("the cat"), [2, 5, 6, 3])
        got = model.fill_mask("the [MASK] sat on the mat.", top_k=3)
        want = pipeline("fill-mask", MLM, "the [MASK] sat on the mat.", "--top-k", "3")
        self.assertEqual([p["token"] for p in got], [p["token"] for p in want])
        self.assertEqual([p["sequence"] for p in got], [p["sequence"] for p in want])
        for g, w in zip(got, want):
            self.assertAlmostEqual(g["score"], w["score"], places=6)
        self.assertEqual(len(model.fill_mask("the [MASK] sat on the [MASK].")), 2)  # a list per mask

    def test_classify_text(self):
        got = qkv.load(SEQ).classify_text("the cat sat", top_k=2)
        want = pipeline("text-classification", SEQ, "the cat sat", "--top-k", "2")
        self.assertEqual([r["label"] for r in got], [r["label"] for r in want])
        self.assertAlmostEqual(got[0]["score"] + got[1]["score"], 1.0, places=5)
        self.assertAlmostEqual(got[0]["score"], want[0]["score"], places=6)

    def test_classify_tokens(self):
        model = qkv.load(TOK)
        for agg in ("none", "simple"):
            with self.subTest(aggregation=agg):
                got = model.classify_tokens("a black dog ran in paris", aggregation=agg)
                want = pipeline("token-classification", TOK, "a black dog ran in paris", "--aggregation", agg)
                self.assertEqual(len(got), len(want))
                for g, w in zip(got, want):
                    self.assertEqual(set(g), set(w))
                    self.assertEqual({k: v for k, v in g.items() if k != "score"},
                                     {k: v for k, v in w.items() if k != "score"})
                    self.assertAlmostEqual(g["score"], w["score"], places=6)

    def test_the_wrong_family_is_a_clear_error(self):
        with self.assertRaisesRegex(ValueError, r"generate: this is a 'bert' model; only decoders"):
            qkv.load(MLM).generate("the cat")
        with self.assertRaisesRegex(ValueError, r"weights: bf16 applies to decoders"):
            qkv.load(MLM, weights="bf16")


if __name__ == "__main__":
    unittest.main()
