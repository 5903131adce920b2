"""qkv.load_tokenizer on GPT-2's files from the shared data (skipped, visibly,
when absent: a fresh clone has no ../shared/data), and the character
tokenizer `qkv train gpt` builds."""
import os
import unittest

import qkv
from qkv_test_util import SHARED_DATA

GPT2 = os.path.join(SHARED_DATA, "tokenizers", "gpt2") if SHARED_DATA else ""


@unittest.skipUnless(GPT2 and os.path.exists(os.path.join(GPT2, "vocab.json")),
                     f"GPT-2 tokenizer files not found under {GPT2 or 'QKV_SHARED_DATA (unset)'}")
class Gpt2(unittest.TestCase):
    def test_known_ids_and_round_trip(self):
        tok = qkv.load_tokenizer(GPT2)
        self.assertEqual(tok.vocab_size, 50257)
        self.assertEqual(tok.encode("Hello world"), [15496, 995])  # from tiktoken's gpt2 encoding
        text = "Ünïcode, emoji 🙂 and  spaces\nnew line"
        self.assertEqual(tok.decode(tok.encode(text)), text)


class Char(unittest.TestCase):
    def test_char_tokenizer(self):
        tok = qkv.char_tokenizer("abc cab")
        self.assertEqual(tok.kind, "char")
        self.assertEqual(tok.vocab_size, 4)
        self.assertEqual(tok.decode(tok.encode("cab ")), "cab ")
        with self.assertRaisesRegex(ValueError, r"'z'"):
            tok.encode("zz")


if __name__ == "__main__":
    unittest.main()
