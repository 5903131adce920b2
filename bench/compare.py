#!/usr/bin/python3
"""Joins qkv_bench and torch_ops.py (or qkv_bench_gpt and torch_gpt.py, qkv_bench_seq2seq and
torch_seq2seq.py, qkv_bench_bert and torch_bert.py) JSON lines (same case, shape, threads) and
prints one table with the ratio torch_time / qkv_time (> 1: qkv is faster). A qkv shape ending in
" bf16" or " int8" (generation with quantized weights) is compared with torch's row of the same
shape without it (f32).

    bench/compare.py RESULTS.jsonl
"""
import json
import sys


def main(path):
    rows, bests = {}, {}
    for line in open(path):
        line = line.strip()
        if not line.startswith("{"):
            continue
        r = json.loads(line)
        key = (r["case"], r.get("shape", ""), r["threads"])
        peers = rows.setdefault(key, {})
        best = bests.setdefault(key, {})
        best[r["peer"]] = min(best.get(r["peer"], float("inf")), r["ms_best"])  # best over all runs
        old = peers.get(r["peer"])
        if old is None or r["ms_median"] < old["ms_median"]:  # keep each peer's best run
            peers[r["peer"]] = r
    print(f"{'case':<26} {'shape':<36} {'thr':>3} {'qkv ms':>9} {'torch ms':>9} {'torch/qkv':>9}  notes")
    for key in sorted(rows, key=lambda k: (k[0], k[1], k[2])):
        peers = rows[key]
        q, t = peers.get("qkv"), peers.get("torch")
        if not q:
            continue
        tkey = key
        for fmt in (" bf16", " int8"):  # qkv with quantized weights against torch's f32 run of the same case
            if not t and key[1].endswith(fmt):
                tkey = (key[0], key[1][: -len(fmt)], key[2])
                t = rows.get(tkey, {}).get("torch")
        qms = q["ms_median"]
        tms = t["ms_median"] if t else float("nan")
        ratio = tms / qms if t else float("nan")
        note = ""
        if "gflops_median" in q:
            note = f"qkv {q['gflops_median']:.1f} GFLOP/s"
            if t and "gflops_median" in t:
                note += f", torch {t['gflops_median']:.1f}"
            raw = rows.get(("gemm_backend_raw", key[1], key[2]), {}).get("qkv")
            if raw and key[0] == "gemm":
                note += f"; matmul = {100 * q['gflops_median'] / raw['gflops_median']:.0f}% of the raw backend GEMM"
        if "gbps_median" in q:
            note = f"qkv {q['gbps_median']:.1f} GB/s = {100 * q['gbps_median'] / q['memcpy_gbps_best']:.0f}% of memcpy {q['memcpy_gbps_best']:.1f}"
            if t and "gbps_median" in t:
                note += f"; torch {t['gbps_median']:.1f} GB/s"
        if "tokens_per_sec_median" in q:  # GPT cases (qkv_bench_gpt / torch_gpt.py)
            note = f"tokens/s median qkv {q['tokens_per_sec_median']:.1f}"
            if t:
                note += f", torch {t['tokens_per_sec_median']:.1f}"
            qb, tb = bests[key]["qkv"], bests[tkey].get("torch")
            note += f"; best qkv {qb:.1f} ms"
            if t:
                note += f", torch {tb:.1f} ms (ratio {tb / qb:.2f})"
        if "sentences_per_sec_median" in q:  # seq2seq decoding (qkv_bench_seq2seq / torch_seq2seq.py)
            note = f"sentences/s median qkv {q['sentences_per_sec_median']:.2f}"
            if t:
                note += f", torch {t['sentences_per_sec_median']:.2f}"
                if q.get("output_tokens") != t.get("output_tokens"):  # same ids give the same count
                    note += f"; OUTPUT TOKENS DIFFER: qkv {q.get('output_tokens')}, torch {t.get('output_tokens')}"
        if "sequences_per_sec_median" in q:  # BERT cases (qkv_bench_bert / torch_bert.py)
            note = f"sequences/s median qkv {q['sequences_per_sec_median']:.2f}"
            if t:
                note += f", torch {t['sequences_per_sec_median']:.2f}"
            qb, tb = bests[key]["qkv"], bests[tkey].get("torch")
            note += f"; best qkv {qb:.1f} ms"
            if t:
                note += f", torch {tb:.1f} ms (ratio {tb / qb:.2f})"
        if key[0] == "rss":
            note = f"peak RSS qkv {q['rss_mb']:.0f} MB (at start {q['rss_start_mb']:.0f})"
            if t:
                note += f", torch {t['rss_mb']:.0f} MB (after import torch {t['rss_start_mb']:.0f}); torch/qkv {t['rss_mb'] / q['rss_mb']:.2f}"
        print(f"{key[0]:<26} {key[1]:<36} {key[2]:>3} {qms:>9.3f} {tms:>9.3f} {ratio:>9.2f}  {note}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
