"""qkv: Transformers in C++ — tensors, models, generation and training — from Python.

    import qkv, numpy as np
    model = qkv.load("runs/shakespeare")                 # any model directory (qkv's or Hugging Face's)
    print(model.generate("ROMEO:", max_new_tokens=100, seed=1))
    t = qkv.tensor(np.arange(6, dtype=np.float32))      # no copy; np.asarray(t) is the same memory

See docs/PYTHON.md for the tour.
"""
import os as _os

# libgomp reads its wait policy once, when it is loaded: give it the bounded
# spin the `qkv` program uses (qkv/core/threading.h, bench/RESULTS.md "Wait
# policy") unless the user chose one. Only effective when nothing has loaded
# libgomp before this import.
if "OMP_WAIT_POLICY" not in _os.environ and "GOMP_SPINCOUNT" not in _os.environ:
    _os.environ["GOMP_SPINCOUNT"] = "1000"

from ._qkv import (  # noqa: E402  (after the environment is set)
    Model,
    ShapeError,
    Tensor,
    Tokenizer,
    __version__,
    char_tokenizer,
    create_model,
    load,
    load_tokenizer,
    num_threads,
    set_threads,
    tensor,
    train_gpt,
    train_llama,
    zeros,
)

__all__ = [
    "Model", "ShapeError", "Tensor", "Tokenizer", "__version__", "char_tokenizer", "create_model", "load",
    "load_tokenizer", "num_threads", "set_threads", "tensor", "train_gpt", "train_llama", "zeros",
]
