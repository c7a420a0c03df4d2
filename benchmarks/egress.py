"""What the egress proxy costs on a streamed model response: the same server-sent-events stream
from a stub on 127.0.0.1, read with httpx (the model agent's client) in two real boxes measured
in the same run, interleaved: one with the host's network (direct) and one whose network
allow-list names the stub (through the relay inside and Bosun's proxy outside). Per stream: time
to the first byte and to the last; per box: the wall time of the whole process, relay start
included.

    python benchmarks/egress.py [--chunks 2000] [--size 200] [--delay-ms 0] [--rounds 5]
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bosun.orchestration.sandbox import bwrap
from bosun.orchestration.sandbox.boxes import gate_box
from bosun.orchestration.sandbox.probe import bwrap_path, probe
from bosun.orchestration.sandbox.proxy import open_egress

CLIENT = r"""
import json, sys, time, httpx
url, rounds = sys.argv[1], int(sys.argv[2])
found = []
with httpx.Client(timeout=60) as client:
    for _ in range(rounds):
        start, first, size = time.perf_counter(), None, 0
        with client.stream("POST", url, json={"model": "m", "stream": True}) as response:
            for chunk in response.iter_bytes():
                first = first or time.perf_counter()
                size += len(chunk)
        found.append({"first": first - start, "last": time.perf_counter() - start, "bytes": size})
print(json.dumps(found))
"""


def stub(chunks: int, size: int, delay: float) -> http.server.ThreadingHTTPServer:
    """An OpenAI-style streaming endpoint: `chunks` SSE events of about `size` bytes each."""
    event = b"data: " + json.dumps({"choices": [{"delta": {"content": "x" * size}}]}).encode() + b"\n\n"

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Content-Length", str(len(event) * chunks + len(b"data: [DONE]\n\n")))
            self.end_headers()
            for _ in range(chunks):
                self.wfile.write(event)
                self.wfile.flush()
                if delay:
                    time.sleep(delay)
            self.wfile.write(b"data: [DONE]\n\n")

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def run_box(folder: Path, port: int, rounds: int, proxied: bool) -> tuple[float, list[dict]]:
    egress = open_egress("bench", (f"127.0.0.1:{port}",)) if proxied else None
    box = gate_box(repo=folder / "none", folder=folder, env={"PATH": os.environ["PATH"]}, network=not proxied)
    box.proxy = egress.socket if egress else None
    argv = bwrap.argv(
        bwrap_path() or "bwrap", box, [sys.executable, "-c", CLIENT, f"http://127.0.0.1:{port}/v1", str(rounds)]
    )
    start = time.perf_counter()
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=600)
        if done.returncode:
            raise SystemExit(f"the {'proxied' if proxied else 'direct'} box failed: {done.stderr[-2000:]}")
    finally:
        if egress is not None:
            egress.close()
    return time.perf_counter() - start, json.loads(done.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=2000)
    parser.add_argument("--size", type=int, default=200)
    parser.add_argument("--delay-ms", type=float, default=0.0)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    works, why = probe()
    if not works:
        print(f"bubblewrap cannot work here: {why}", file=sys.stderr)
        return 2
    server = stub(args.chunks, args.size, args.delay_ms / 1000)
    port = server.server_address[1]
    results: dict[str, dict[str, list[float]]] = {"direct": {}, "proxied": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(3):  # interleaved: the machine's noise falls on both alike
            for name in ("direct", "proxied"):
                wall, streams = run_box(Path(tmp), port, args.rounds, name == "proxied")
                got = results[name]
                got.setdefault("wall", []).append(wall)
                got.setdefault("first", []).extend(s["first"] for s in streams)
                got.setdefault("last", []).extend(s["last"] for s in streams)
                assert all(s["bytes"] > args.chunks * args.size for s in streams), streams
    server.shutdown()
    print(f"{args.chunks} events of ~{args.size} B, {args.delay_ms:g} ms apart; medians over {3 * args.rounds} streams")
    print(f"{'':10}{'first byte':>12}{'whole stream':>14}{'box wall':>10}")
    for name, got in results.items():
        first, last, wall = (statistics.median(got[k]) * 1000 for k in ("first", "last", "wall"))
        print(f"{name:10}{first:10.2f}ms{last:12.2f}ms{wall:8.0f}ms")
    direct, proxied = (statistics.median(results[n]["last"]) for n in ("direct", "proxied"))
    print(f"proxy overhead on the whole stream: {(proxied - direct) * 1000:+.2f} ms ({proxied / direct:.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
