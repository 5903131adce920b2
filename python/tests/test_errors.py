"""Bad inputs from Python raise the Python exception of qkv's C++ error with
its message: a missing directory (OSError), wrong values and unknown
keywords (ValueError, TypeError for Python's own argument errors)."""
import os
import tempfile
import unittest

import numpy as np

import qkv
from qkv_test_util import TINY_GPT, TinyGPT


def setUpModule():
    global RUN
    RUN = TinyGPT()


def tearDownModule():
    RUN.cleanup()


class Load(unittest.TestCase):
    def test_missing_directory_is_an_oserror(self):
        with self.assertRaisesRegex(OSError, r"/nonexistent/model: no such directory"):
            qkv.load("/nonexistent/model")
        with self.assertRaisesRegex(OSError, r"no such file|missing|cannot open"):
            with tempfile.TemporaryDirectory() as d:
                qkv.load(d)

    def test_bad_weights(self):
        with self.assertRaisesRegex(ValueError, r"weights: .*int4"):
            qkv.load(RUN.dir, weights="int4")

    def test_missing_tokenizer(self):
        with tempfile.TemporaryDirectory() as d:
            for name in ("config.json", "model.safetensors"):
                with open(os.path.join(RUN.dir, name), "rb") as src, open(os.path.join(d, name), "wb") as dst:
                    dst.write(src.read())
            with self.assertRaisesRegex(OSError, r"missing tokenizer.json"):
                qkv.load(d)


class Generate(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.model = qkv.load(RUN.dir)

    def test_bad_values(self):
        with self.assertRaisesRegex(ValueError, r"temperature"):
            self.model.generate("the", temperature=-1)
        with self.assertRaisesRegex(ValueError, r"top_p"):
            self.model.generate("the", top_p=1.5)
        with self.assertRaisesRegex(ValueError, r"max_new_tokens must be >= 0"):
            self.model.generate("the", max_new_tokens=-1)
        with self.assertRaisesRegex(ValueError, r"prompt must not be empty"):
            self.model.generate("")
        with self.assertRaisesRegex(ValueError, r"prompt: .*'Z'"):
            self.model.generate("Zebra")  # not in the character vocabulary
        with self.assertRaisesRegex(ValueError, r"eos 9999 is not a token id"):
            self.model.generate("the", eos=9999)
        with self.assertRaisesRegex(ValueError, r"id"):
            self.model.generate([0, 9999])

    def test_bad_keywords_and_types(self):
        with self.assertRaises(TypeError):
            self.model.generate("the", temprature=1.0)
        with self.assertRaises(TypeError):
            self.model.generate(3.5)

    def test_wrong_shape_is_a_shape_error(self):
        with self.assertRaisesRegex(qkv.ShapeError, r"idx must be \(B, T\) token ids, got \[1,2,3\]"):
            self.model.logits(qkv.tensor(np.zeros((1, 2, 3), dtype=np.int64)))

    def test_wrong_dtype_for_ids(self):
        with self.assertRaisesRegex(ValueError, r"int64"):
            self.model.logits(qkv.tensor(np.zeros((1, 3), dtype=np.float32)))


class Train(unittest.TestCase):
    def test_unknown_field_suggests_the_nearest(self):
        with tempfile.TemporaryDirectory() as d:
            with self.assertRaisesRegex(ValueError, r'train_gpt: unknown field "n_layr".*n_layer'):
                qkv.train_gpt(RUN.data, os.path.join(d, "x"), n_layr=2)

    def test_out_of_range_field(self):
        with tempfile.TemporaryDirectory() as d:
            with self.assertRaisesRegex(ValueError, r"n_head"):
                qkv.train_gpt(RUN.data, os.path.join(d, "x"), **{**TINY_GPT, "n_head": 0})

    def test_missing_data_and_used_out(self):
        with self.assertRaisesRegex(OSError, r"no-such-file"):
            qkv.train_gpt("/tmp/no-such-file.txt", "/tmp/qkv-never-written")
        self.assertFalse(os.path.exists("/tmp/qkv-never-written"))
        with self.assertRaisesRegex(ValueError, r"already holds a training run; pass --resume"):
            qkv.train_gpt(RUN.data, RUN.dir, **TINY_GPT)

    def test_a_gpt_run_does_not_resume_as_llama(self):
        with self.assertRaisesRegex(ValueError, r'model_type must be "llama", got "gpt"'):
            qkv.train_llama(RUN.data, RUN.dir, resume=True)

    def test_errors_are_qkv_errors_with_the_cpp_message(self):
        self.assertTrue(issubclass(qkv.ShapeError, ValueError))


if __name__ == "__main__":
    unittest.main()
