"""A real OpenAI-compatible HTTP server on 127.0.0.1 that serves recorded chat completions.

Each queued reply is (status, body, headers); a body that is a string is sent as it is, a dict
as JSON. A `route` function may pick the reply from the request instead (for CLIs that make
several kinds of request). Every request is recorded for the test to inspect.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def completion(content: str, prompt_tokens: int = 120, completion_tokens: int = 40) -> dict:
    """A chat-completion body whose answer is `content`."""
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 0,
        "model": "test-model",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def streamed(content: str, prompt_tokens: int = 120, completion_tokens: int = 40, piece: int = 50) -> tuple:
    """A reply streamed as server-sent events, usage in the last chunk (stream_options include_usage)."""
    chunks = [
        {"choices": [{"index": 0, "delta": {"content": content[i : i + piece]}}]} for i in range(0, len(content), piece)
    ]
    chunks.append({"choices": [], "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens}})
    body = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"
    return 200, body, {"content-type": "text/event-stream"}


def edits(files: dict[str, str], summary: str = "did the work") -> str:
    """The model agent's answer format: whole-file edits."""
    return json.dumps({"summary": summary, "files": [{"path": p, "content": c} for p, c in files.items()]})


class FakeOpenAI:
    """Start with `with FakeOpenAI() as server:`; `server.base_url` ends in /v1."""

    def __init__(
        self,
        replies: list[tuple[int, dict | str, dict]] | None = None,
        route: Callable[[dict], tuple[int, dict | str, dict]] | None = None,
    ) -> None:
        self.replies = list(replies or [])
        self.route = route
        self.requests: list[dict] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                length = int(self.headers.get("content-length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                fake.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                if fake.route is not None:
                    status, reply, headers = fake.route(body)
                elif fake.replies:
                    status, reply, headers = fake.replies.pop(0)
                else:
                    status, reply, headers = 500, {"error": "no recorded reply left"}, {}
                data = reply.encode() if isinstance(reply, str) else json.dumps(reply).encode()
                self.send_response(status)
                if "content-type" not in {k.lower() for k in headers}:
                    self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802
                data = json.dumps({"object": "list", "data": [{"id": "test-model", "object": "model"}]}).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> FakeOpenAI:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
