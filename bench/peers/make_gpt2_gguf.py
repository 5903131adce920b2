#!/usr/bin/env python3
"""Write a qkv GPT model directory as a GPT-2 architecture GGUF file for
llama.cpp's llama-server (bench/run_serve.sh's peer).

    make_gpt2_gguf.py MODEL_DIR TOKENIZER_DIR OUT.gguf [--outtype f32|f16] --gguf-py LLAMA_CPP/gguf-py

MODEL_DIR is qkv's (config.json with model_type "gpt", learned positions,
biases; model.safetensors with Hugging Face's GPT-2 names). Its Linear weights
are stored (out, in) — the layout GGUF wants, so unlike Hugging Face's Conv1D
checkpoints nothing is transposed. TOKENIZER_DIR holds GPT-2's vocab.json +
merges.txt. Only the standard library, NumPy and llama.cpp's own gguf-py
writer are used (Debian: python3-numpy; no transformers, no torch).
"""
import argparse
import json
import struct
import sys
import types
from pathlib import Path

import numpy as np


def read_safetensors(path):
    """name -> read-only NumPy view of every tensor (F32 only: qkv writes F32)."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
    data = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + n)
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        if t["dtype"] != "F32":
            sys.exit(f"{path}: {name} is {t['dtype']}, expected F32")
        a, b = t["data_offsets"]
        out[name] = data[a:b].view(np.float32).reshape(t["shape"])
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("model_dir")
    p.add_argument("tokenizer_dir")
    p.add_argument("out")
    p.add_argument("--outtype", choices=["f32", "f16"], default="f32",
                   help="matrices' type (norms, biases and positions stay f32)")
    p.add_argument("--gguf-py", required=True, help="llama.cpp's gguf-py directory")
    a = p.parse_args()

    # gguf/vocab.py imports sentencepiece for SentencePiece vocabularies, which
    # GPT-2's BPE does not use; a stand-in keeps the import working without it.
    sys.modules.setdefault("sentencepiece", types.SimpleNamespace(SentencePieceProcessor=None))
    sys.path.insert(0, a.gguf_py)
    import gguf  # noqa: E402

    cfg = json.loads((Path(a.model_dir) / "config.json").read_text())
    if cfg.get("model_type") != "gpt" or cfg.get("pos_encoding", "learned") != "learned" or not cfg.get("bias", True):
        sys.exit(f"{a.model_dir}: expected a GPT-2-style qkv GPT (learned positions, biases), got {cfg}")
    L, C, V, T = cfg["n_layer"], cfg["n_embd"], cfg["vocab_size"], cfg["block_size"]
    w = read_safetensors(Path(a.model_dir) / "model.safetensors")

    vocab = json.loads((Path(a.tokenizer_dir) / "vocab.json").read_text(encoding="utf-8"))
    merges = [line for line in (Path(a.tokenizer_dir) / "merges.txt").read_text(encoding="utf-8").splitlines()
              if line and not line.startswith("#version")]
    if len(vocab) != V:
        sys.exit(f"vocab.json has {len(vocab)} tokens, config.json says vocab_size {V}")
    tokens = [None] * V
    for tok, i in vocab.items():
        tokens[i] = tok
    eot = vocab["<|endoftext|>"]
    types_ = [gguf.TokenType.CONTROL if i == eot else gguf.TokenType.NORMAL for i in range(V)]

    arch = gguf.MODEL_ARCH_NAMES[gguf.MODEL_ARCH.GPT2]
    wr = gguf.GGUFWriter(a.out, arch)
    wr.add_name(Path(a.model_dir).name)
    wr.add_block_count(L)
    wr.add_context_length(T)
    wr.add_embedding_length(C)
    wr.add_feed_forward_length(4 * C)
    wr.add_head_count(cfg["n_head"])
    wr.add_layer_norm_eps(1e-5)  # qkv's GPT LayerNorm
    wr.add_file_type(gguf.LlamaFileType.ALL_F32 if a.outtype == "f32" else gguf.LlamaFileType.MOSTLY_F16)
    wr.add_tokenizer_model("gpt2")
    wr.add_tokenizer_pre("gpt-2")
    wr.add_token_list(tokens)
    wr.add_token_types(types_)
    wr.add_token_merges(merges)
    wr.add_bos_token_id(eot)
    wr.add_eos_token_id(eot)
    wr.add_add_bos_token(False)

    def put(name, arr, matrix=False):
        arr = np.ascontiguousarray(arr, dtype=np.float16 if matrix and a.outtype == "f16" else np.float32)
        wr.add_tensor(name, arr)

    put("token_embd.weight", w["wte.weight"], matrix=True)
    put("position_embd.weight", w["wpe.weight"])
    put("output_norm.weight", w["ln_f.weight"])
    put("output_norm.bias", w["ln_f.bias"])
    put("output.weight", w.get("lm_head.weight", w["wte.weight"]), matrix=True)  # tied to wte unless stored
    names = {"ln_1": "attn_norm", "attn.c_attn": "attn_qkv", "attn.c_proj": "attn_output",
             "ln_2": "ffn_norm", "mlp.c_fc": "ffn_up", "mlp.c_proj": "ffn_down"}
    for i in range(L):
        for ours, theirs in names.items():
            put(f"blk.{i}.{theirs}.weight", w[f"h.{i}.{ours}.weight"], matrix=not ours.startswith("ln_"))
            put(f"blk.{i}.{theirs}.bias", w[f"h.{i}.{ours}.bias"])

    wr.write_header_to_file()
    wr.write_kv_data_to_file()
    wr.write_tensors_to_file()
    wr.close()
    print(f"{a.out}: GPT-2 GGUF, {L} layers, C {C}, vocab {V}, context {T}, {a.outtype}", file=sys.stderr)


if __name__ == "__main__":
    main()
