"""A stub of the OpenAI Responses API (`POST /v1/responses`, streamed as server-sent events) for Codex.

The script: a request whose input carries no tool output yet is answered with one call of the
tool the test names (Codex's `apply_patch` or `shell`), streamed as Codex reads it; a request
that carries the tool's output is answered with a closing message. Every answer reports usage.
"""

from __future__ import annotations

import json

from stubs.base import Reply, StubServer, sse

INPUT_TOKENS, OUTPUT_TOKENS, CACHED_TOKENS = 2100, 70, 300


def response_events(items: list[dict], model: str, input_tokens: int, output_tokens: int) -> list:
    response = {
        "id": "resp_stub",
        "object": "response",
        "created_at": 0,
        "status": "in_progress",
        "model": model,
        "output": [],
    }
    events: list = [("response.created", {"type": "response.created", "response": response})]
    for index, item in enumerate(items):
        events.append(
            (
                "response.output_item.added",
                {
                    "type": "response.output_item.added",
                    "output_index": index,
                    "item": {**item, "status": "in_progress"},
                },
            )
        )
        if item["type"] == "message":
            text = item["content"][0]["text"]
            events.append(
                (
                    "response.output_text.delta",
                    {
                        "type": "response.output_text.delta",
                        "item_id": item["id"],
                        "output_index": index,
                        "content_index": 0,
                        "delta": text,
                    },
                )
            )
        events.append(
            (
                "response.output_item.done",
                {"type": "response.output_item.done", "output_index": index, "item": {**item, "status": "completed"}},
            )
        )
    usage = {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cached_tokens": CACHED_TOKENS},
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": input_tokens + output_tokens,
    }
    events.append(
        (
            "response.completed",
            {
                "type": "response.completed",
                "response": {**response, "status": "completed", "output": items, "usage": usage},
            },
        )
    )
    return events


class ResponsesStub(StubServer):
    """`tool_call(request_body) -> output item` makes the first answer; the second closes the turn."""

    def __init__(self, tool_call) -> None:
        self.tool_call = tool_call
        self.turns: list[dict] = []
        super().__init__(self.answer)

    def answer(self, request: dict) -> Reply:
        body = request["body"] if isinstance(request["body"], dict) else {}
        if request["method"] == "GET" and request["path"].rstrip("/").endswith("/models"):
            return 200, {"object": "list", "data": [{"id": "stub-model", "object": "model"}], "models": []}, {}
        if not request["path"].rstrip("/").endswith("/responses"):
            return 404, {"error": {"message": f"stub: no {request['path']}"}}, {}
        self.turns.append(body)
        inputs = json.dumps(body.get("input", []))
        if '_call_output"' in inputs:
            item = {
                "type": "message",
                "id": "msg_stub",
                "role": "assistant",
                "content": [{"type": "output_text", "text": "Done: the file is changed.", "annotations": []}],
            }
        else:
            item = self.tool_call(body)
        return (
            200,
            sse(response_events([item], body.get("model", "stub-model"), INPUT_TOKENS, OUTPUT_TOKENS)),
            {"content-type": "text/event-stream"},
        )
