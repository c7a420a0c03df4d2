"""A recording HTTP server on 127.0.0.1 (a free port) that answers with what a `respond` function returns.

`respond(request)` gets {"method", "path", "headers", "body"} (body parsed as JSON when it is JSON)
and returns (status, body, headers); a body that is bytes or str is sent as it is, anything else as
JSON. A server-sent-events answer is a str with content-type text/event-stream. Every request is
recorded in `requests`, so a test can check that nothing it did not expect was asked.
"""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Reply = tuple[int, object, dict]


def sse(events: list[tuple[str | None, dict | str]]) -> str:
    """Server-sent events: (event name or None, data) pairs."""
    out = []
    for name, data in events:
        text = data if isinstance(data, str) else json.dumps(data)
        out.append((f"event: {name}\n" if name else "") + f"data: {text}\n\n")
    return "".join(out)


class StubServer:
    """`with StubServer(respond) as server:`; `server.url` is http://127.0.0.1:PORT (no trailing slash)."""

    def __init__(self, respond: Callable[[dict], Reply]) -> None:
        self.respond = respond
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                if self.headers.get("content-encoding") == "gzip":
                    raw = gzip.decompress(raw)
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                request = {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body}
                with stub.lock:
                    stub.requests.append(request)
                try:
                    status, reply, headers = stub.respond(request)
                except Exception as exc:  # a broken script answers 500 and says why, never hangs the CLI
                    status, reply, headers = 500, {"error": {"message": f"stub: {exc!r}"}}, {}
                data = (
                    reply
                    if isinstance(reply, bytes)
                    else (reply.encode() if isinstance(reply, str) else json.dumps(reply).encode())
                )
                self.send_response(status)
                if "content-type" not in {k.lower() for k in headers}:
                    self.send_header("content-type", "application/json")
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle  # noqa: N815 (http.server's names)

            def do_HEAD(self) -> None:  # noqa: N802
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> StubServer:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def paths(self) -> list[str]:
        return [f"{r['method']} {r['path']}" for r in self.requests]
