#!/usr/bin/env python3
"""Minimal reproduction of a soak finding (bench/RESULTS.md, "qkv serve under
load"): a seeded, sampled completion draws other tokens when it shares the
batch with other requests than when it runs alone, although docs/SERVE.md
promises the same tokens. Run against `qkv serve` on the soak's tiny model
(bench/run_serve_soak.sh makes it: GPT-2's 50257-token vocabulary, random
weights), --parallel 4:

    qkv serve /tmp/qkv-serve-bench/tiny --port 8080 --parallel 4 &
    /usr/bin/python3 bench/serve_seed_repro.py 8080

Prints, per request, whether the text beside 1-3 concurrent greedy requests
equals the text alone. Standard library only.
"""
import json
import sys
import threading
import time
import urllib.request

port = int(sys.argv[1])
def post(body):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/completions", json.dumps(body).encode(), {"Content-Type": "application/json"})
    return json.loads(urllib.request.urlopen(req, timeout=300).read())["choices"][0]["text"]
reqs = [{"prompt": "1 2 3 4 5", "max_tokens": 13, "temperature": 1.5, "top_p": 0.9, "seed": 680695},
        {"prompt": "The", "max_tokens": 15, "temperature": 0.7, "top_p": 0.9, "seed": 123973},
        {"prompt": "The", "max_tokens": 14, "temperature": 1.5, "seed": 226220}]
for a in reqs:
    alone = post(a)
    for words, n_others, delay in ((40, 1, 0.0), (10, 3, 0.0), (40, 3, 0.2), (80, 2, 0.1)):
        others = [threading.Thread(target=post, args=({"prompt": "Once upon a time " * (words // 4 + k), "max_tokens": 24, "temperature": 0},)) for k in range(n_others)]
        [t.start() for t in others]; time.sleep(delay)
        got = post(a); [t.join() for t in others]
        if got != alone:
            print(f"seed {a['seed']}: DIFFERENT beside {n_others} others ({words}-word prompts, joined after {delay}s)\n  alone:  {alone!r}\n  beside: {got!r}")
            break
    else:
        print(f"seed {a['seed']}: same in 4 compositions")
