"""A stub of the Gemini API (`models/*:streamGenerateContent?alt=sse`, `:generateContent`, `:countTokens`)
for Gemini CLI, at the address `GOOGLE_GEMINI_BASE_URL` names.

The script: the main conversation (the requests that offer the `write_file` tool) is first answered
with a `functionCall` of write_file on the file the test names (or of the tool call the test
gives, e.g. run_shell_command); once the conversation carries the
tool's `functionResponse` it is answered with a closing text. Side requests (routing, next-speaker
checks, token counts) get short answers.
"""

from __future__ import annotations

import json

from stubs.base import Reply, StubServer, sse

PROMPT_TOKENS, CANDIDATE_TOKENS = 1500, 210


def _answer(parts: list[dict], prompt_tokens: int, candidate_tokens: int) -> dict:
    return {
        "candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": {
            "promptTokenCount": prompt_tokens,
            "candidatesTokenCount": candidate_tokens,
            "totalTokenCount": prompt_tokens + candidate_tokens,
        },
        "modelVersion": "gemini-stub",
    }


class GeminiStub(StubServer):
    def __init__(self, path: str, content: str, call: tuple[str, dict] | None = None) -> None:
        """Answers with write_file of `path`, or with `call` (a tool's name and args) when given."""
        self.path, self.content = path, content
        self.call = call or ("write_file", {"file_path": path, "content": content})
        self.main_turns: list[dict] = []
        super().__init__(self.answer)

    def answer(self, request: dict) -> Reply:
        body = request["body"] if isinstance(request["body"], dict) else {}
        path = request["path"]
        if ":countTokens" in path:
            return 200, {"totalTokens": 10}, {}
        if ":generateContent" not in path and ":streamGenerateContent" not in path:
            return 404, {"error": {"code": 404, "message": f"stub: no {path}", "status": "NOT_FOUND"}}, {}
        tools = json.dumps(body.get("tools") or [])
        if '"write_file"' not in tools:
            config = body.get("generationConfig") or body.get("config") or {}
            if config.get("responseMimeType") == "application/json":  # routing / next-speaker checks
                text = json.dumps(
                    {
                        "reasoning": "stub",
                        "next_speaker": "user",
                        "model_choice": "flash",
                        "complexity_reasoning": "stub",
                        "complexity_score": 1,
                    }
                )
            else:
                text = "Stub side answer."
            reply = _answer([{"text": text}], 10, 3)
        else:
            self.main_turns.append(body)
            if "functionResponse" in json.dumps((body.get("contents") or [{}])[-1]):
                reply = _answer([{"text": "Wrote the file."}], PROMPT_TOKENS, CANDIDATE_TOKENS)
            else:
                name, args = self.call
                reply = _answer([{"functionCall": {"name": name, "args": args}}], PROMPT_TOKENS, CANDIDATE_TOKENS)
        if ":streamGenerateContent" in path:
            return 200, sse([(None, reply)]), {"content-type": "text/event-stream"}
        return 200, reply, {}
