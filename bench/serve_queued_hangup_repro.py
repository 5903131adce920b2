#!/usr/bin/env python3
"""Minimal reproduction of a soak finding (bench/RESULTS.md, "qkv serve under
load"): a streaming client that hangs up while its request is still queued
keeps its place in the queue, so a live client gets 503 though nobody waits.

    qkv serve /tmp/qkv-serve-bench/gpt2-124m --port 8080 --parallel 1 --queue 2 &
    /usr/bin/python3 bench/serve_queued_hangup_repro.py 8080

(The 124M model of bench/run_serve.sh: slow enough that the first stream
still runs.) Expected: qkv_queue_length 0 and HTTP 200; observed (qkv
bbdc63e): qkv_queue_length 2 and HTTP 503. Standard library only.
"""
import json, socket, sys, threading, time, urllib.request, urllib.error
port = int(sys.argv[1])
def body(n, stream=True): return json.dumps({"prompt": "The", "max_tokens": n, "stream": stream, "temperature": 0})
def raw_send(b):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(f"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {len(b)}\r\n\r\n{b}".encode())
    return s
def status(n, stream=False):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/completions", body(n, stream).encode(), {"Content-Type": "application/json"})
    try:
        r = urllib.request.urlopen(req, timeout=300); r.read(); return r.status
    except urllib.error.HTTPError as e: return e.code
def metrics():
    t = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics").read().decode()
    return " ".join(l for l in t.splitlines() if l.startswith(("qkv_queue_length", "qkv_running_sequences")))
long = raw_send(body(100))           # occupies the only slot for 100 tokens
time.sleep(0.5)
for i in range(2):                   # two streams that give up while queued
    s = raw_send(body(100)); time.sleep(0.1); s.close()
time.sleep(1.0)
print("after 2 queued streams hung up:", metrics())
t0 = time.time()
print("a new request while the first still runs: HTTP", status(4), f"after {time.time() - t0:.1f} s")
long.close()
