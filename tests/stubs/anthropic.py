"""A stub of the Anthropic Messages API (`POST /v1/messages`, streamed as server-sent events) for Claude Code.

The script: the first turn of the main conversation (the request that offers the `Write` tool) is
answered with a streamed `tool_use` of Write on the file the test names, at the absolute path of
the working directory the CLI states in its system prompt; a turn that carries the tool's result
is answered with a closing text — or first, when the test asks, with a `tool_use` of Claude Code's
Bash tool running a command (the project's tests), whose output comes back in the next turn.
Side requests (titles, topic checks, token counts) get short text.
"""

from __future__ import annotations

import json
import re

from stubs.base import Reply, StubServer, sse

INPUT_TOKENS, OUTPUT_TOKENS = 1234, 56


def _text_of(node) -> str:
    return json.dumps(node) if not isinstance(node, str) else node


def _cwd(body: dict) -> str | None:
    text = _text_of(body.get("system", "")) + _text_of(body.get("messages"))
    match = re.search(r"[Ww]orking directory: (/[^\s\"\\]+)", text)
    return match.group(1) if match else None


def message_events(content: list[dict], stop: str, model: str, input_tokens: int, output_tokens: int) -> list:
    events: list = [
        (
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": "msg_stub",
                    "type": "message",
                    "role": "assistant",
                    "model": model,
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": {
                        "input_tokens": input_tokens,
                        "output_tokens": 1,
                        "cache_creation_input_tokens": 0,
                        "cache_read_input_tokens": 0,
                    },
                },
            },
        )
    ]
    for index, block in enumerate(content):
        if block["type"] == "tool_use":
            events.append(
                (
                    "content_block_start",
                    {
                        "type": "content_block_start",
                        "index": index,
                        "content_block": {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}},
                    },
                )
            )
            raw = json.dumps(block["input"])
            for i in range(0, len(raw), 40):
                events.append(
                    (
                        "content_block_delta",
                        {
                            "type": "content_block_delta",
                            "index": index,
                            "delta": {"type": "input_json_delta", "partial_json": raw[i : i + 40]},
                        },
                    )
                )
        else:
            events.append(
                (
                    "content_block_start",
                    {"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}},
                )
            )
            events.append(
                (
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": index,
                        "delta": {"type": "text_delta", "text": block["text"]},
                    },
                )
            )
        events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
    events.append(
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop, "stop_sequence": None},
                "usage": {"output_tokens": output_tokens},
            },
        )
    )
    events.append(("message_stop", {"type": "message_stop"}))
    return events


def reply(
    body: dict, content: list[dict], stop: str, input_tokens: int = INPUT_TOKENS, output_tokens: int = OUTPUT_TOKENS
) -> Reply:
    model = body.get("model", "claude-stub")
    if body.get("stream"):
        return (
            200,
            sse(message_events(content, stop, model, input_tokens, output_tokens)),
            {"content-type": "text/event-stream"},
        )
    return (
        200,
        {
            "id": "msg_stub",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": content,
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens},
        },
        {},
    )


class AnthropicStub(StubServer):
    """Answers the main conversation by writing `path` with `content` through Claude Code's Write tool."""

    def __init__(self, path: str, content: str, then_run: str | None = None) -> None:
        self.path, self.content, self.then_run = path, content, then_run
        self.main_turns: list[dict] = []
        self.tool_results: list[str] = []  # what each tool call gave back, as the CLI sent it
        super().__init__(self.answer)

    def answer(self, request: dict) -> Reply:
        body = request["body"] if isinstance(request["body"], dict) else {}
        if not request["path"].startswith("/v1/messages"):
            return 404, {"type": "error", "error": {"type": "not_found_error", "message": "stub: not here"}}, {}
        if "count_tokens" in request["path"]:
            return 200, {"input_tokens": 10}, {}
        tools = {t.get("name") for t in body.get("tools") or []}
        if "Write" not in tools:
            return reply(body, [{"type": "text", "text": "Stub side answer."}], "end_turn", 10, 3)
        self.main_turns.append(body)
        last = (body.get("messages") or [{}])[-1]
        if "tool_result" in _text_of(last.get("content")):
            self.tool_results.append(_text_of(last.get("content")))
            if self.then_run and len(self.tool_results) == 1:  # then a shell command, with Claude Code's Bash
                command = {"command": self.then_run, "description": "Run the tests"}
                return reply(
                    body, [{"type": "tool_use", "id": "toolu_stub_2", "name": "Bash", "input": command}], "tool_use"
                )
            return reply(body, [{"type": "text", "text": "Wrote the file."}], "end_turn")
        cwd = _cwd(body) or "."
        return reply(
            body,
            [
                {
                    "type": "tool_use",
                    "id": "toolu_stub_1",
                    "name": "Write",
                    "input": {"file_path": f"{cwd}/{self.path}", "content": self.content},
                }
            ],
            "tool_use",
        )
