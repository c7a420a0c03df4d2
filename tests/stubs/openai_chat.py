"""A stub of the OpenAI chat-completions API (`POST /v1/chat/completions`, streamed or not) whose
scripted answer calls the CLI's own file tool: for opencode and Qwen Code.

The script: the first turn of the main conversation (the request that offers the tool the test
names) is answered with one `tool_calls` entry of that tool, with arguments made from the request
(`arguments(body)`: e.g. an absolute path under the working directory the CLI states in its system
prompt); a turn that carries the tool's result (a `tool` message) is answered with a closing text.
Side requests (titles, summaries) get a short text. Streamed answers end with a usage chunk.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from stubs.base import Reply, StubServer, sse

PROMPT_TOKENS, COMPLETION_TOKENS = 1800, 90


def working_directory(body: dict) -> str | None:
    """The working directory a CLI names in its system prompt (`Working directory: /x`, `<env>` blocks...)."""
    text = json.dumps(body.get("messages", []))
    for pattern in (
        r"[Ww]orking directory: (/[^\s\"\\<]+)",
        r"working in the directory: (/[^\s\"\\<]+)",
        r"[Ww]orking directory[^/]{0,40}(/[^\s\"\\<]+)",
        r"cwd[^/]{0,20}(/[^\s\"\\<]+)",
    ):
        match = re.search(pattern, text)
        if match:
            return match.group(1).rstrip(".,`'")
    return None


def _message(content: str | None, tool_calls: list | None, prompt_tokens: int, completion_tokens: int) -> dict:
    message: dict = {"role": "assistant", "content": content}
    if tool_calls:
        message["tool_calls"] = tool_calls
    return {
        "id": "chatcmpl-stub",
        "object": "chat.completion",
        "created": 0,
        "model": "stub-model",
        "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if tool_calls else "stop"}],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def _chunks(content: str | None, tool_calls: list | None, prompt_tokens: int, completion_tokens: int) -> str:
    base = {"id": "chatcmpl-stub", "object": "chat.completion.chunk", "created": 0, "model": "stub-model"}
    chunks = [{**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]}]
    if content:
        chunks.append({**base, "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": None}]})
    for index, call in enumerate(tool_calls or []):
        args = call["function"]["arguments"]
        chunks.append(
            {
                **base,
                "choices": [
                    {
                        "index": 0,
                        "delta": {
                            "tool_calls": [
                                {
                                    "index": index,
                                    "id": call["id"],
                                    "type": "function",
                                    "function": {"name": call["function"]["name"], "arguments": ""},
                                }
                            ]
                        },
                        "finish_reason": None,
                    }
                ],
            }
        )
        for i in range(0, len(args), 40):
            chunks.append(
                {
                    **base,
                    "choices": [
                        {
                            "index": 0,
                            "delta": {"tool_calls": [{"index": index, "function": {"arguments": args[i : i + 40]}}]},
                            "finish_reason": None,
                        }
                    ],
                }
            )
    chunks.append(
        {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls" if tool_calls else "stop"}]}
    )
    chunks.append(
        {
            **base,
            "choices": [],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }
    )
    return sse([(None, c) for c in chunks] + [(None, "[DONE]")])


class ChatStub(StubServer):
    """Calls `tool` with `arguments(body)` on the main conversation's first turn, then closes it."""

    def __init__(self, tool: str, arguments: Callable[[dict], dict]) -> None:
        self.tool, self.arguments = tool, arguments
        self.main_turns: list[dict] = []
        super().__init__(self.answer)

    def answer(self, request: dict) -> Reply:
        body = request["body"] if isinstance(request["body"], dict) else {}
        path = request["path"].split("?")[0].rstrip("/")
        if request["method"] == "GET" and path.endswith("/models"):
            return 200, {"object": "list", "data": [{"id": "stub-model", "object": "model", "owned_by": "stub"}]}, {}
        if not path.endswith("/chat/completions"):
            return 404, {"error": {"message": f"stub: no {request['path']}"}}, {}
        names = {(t.get("function") or {}).get("name") for t in body.get("tools") or []}
        content, calls, tokens = "Stub side answer.", None, (10, 3)
        if self.tool in names:
            self.main_turns.append(body)
            tokens = (PROMPT_TOKENS, COMPLETION_TOKENS)
            if any(m.get("role") == "tool" for m in body.get("messages", [])):
                content = "Done: the file is written."
            else:
                content = None
                calls = [
                    {
                        "id": "call_stub_1",
                        "type": "function",
                        "function": {"name": self.tool, "arguments": json.dumps(self.arguments(body))},
                    }
                ]
        if body.get("stream"):
            return 200, _chunks(content, calls, *tokens), {"content-type": "text/event-stream"}
        return 200, _message(content, calls, *tokens), {}
