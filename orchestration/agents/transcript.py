"""A coding-agent CLI's structured stream read as a transcript: what the model said, each tool call
with its file or command and its result, errors and the tokens so far, and what the agent is doing
now (a tool running, or waiting for the model). The screen's Output tab shows the entries; `bosun
status` takes the activity from it (activity.py).

The streams are the ones the presets ask for (shapes as the pinned CLIs print them, see
tests/test_cli_*.py): Claude Code and Qwen Code `stream-json` (`system`, `assistant`, `user` with
`tool_result`, `result`), Codex `exec --json` (`turn.*`, `item.started` / `item.completed`), Gemini
CLI `stream-json` (`message`, `tool_use`, `tool_result`, `result`) and opencode `run --format json`
(`step_start`, `text`, `tool_use`, `step_finish`). A line that is not such an event is plain output.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from bosun.orchestration.ansi import strip_ansi

BUSY, WAITING, IDLE = "busy", "waiting", "idle"
RESULT_LINES = 4
"""A tool's result shows this many lines at most (the log has the rest)."""
LINE_CHARS = 400

_TARGET_KEYS = (
    "command cmd file_path filePath absolute_path notebook_path path pattern query url description prompt".split()
)
"""The arguments that say what a tool call is about, the first found wins."""
_WORKTREE = re.compile(r"\S*?/\.bosun/worktrees/[^/\s]+/")
"""A worktree's absolute prefix: paths read shorter, and the same in every attempt, without it."""


MARKS = dict(text="● ", thinking="  ✻ ", tool="▶ ", result="  ⎿ ", failed="  ⎿ ", error="✖ ", note="· ", plain="")
"""What starts each kind of entry, on the Output tab and in `bosun log`."""


@dataclass(frozen=True)
class Entry:
    """One piece of the transcript. `kind` is one of: text (the model's words), thinking, tool (a
    call: the tool and its file or command), result (a tool's output), failed (the output of a
    tool that failed), error (the CLI or the model said something went wrong), note (the session
    starting or ending, tokens), plain (a line that is not an event: colours kept as escapes).
    `continues` extends the previous text entry (a stream that sends the model's words in pieces)."""

    kind: str
    text: str
    continues: bool = False


def _short(text: str, limit: int = LINE_CHARS) -> str:
    text = _WORKTREE.sub("", text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _target(arguments) -> str:
    """What a tool call is about: its command, file, pattern or URL."""
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments)
        except ValueError:
            return _short(arguments.splitlines()[0] if arguments else "", 200)
    if not isinstance(arguments, dict):
        return ""
    for key in _TARGET_KEYS:
        value = arguments.get(key)
        if isinstance(value, list):
            value = " ".join(map(str, value))
        if isinstance(value, str) and value:
            return _short(value.splitlines()[0], 200)
    return ""


def _result_text(content) -> str:
    """A tool result's text, from a string or a list of content blocks."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            _result_text(block.get("text", block.get("content")) if isinstance(block, dict) else block)
            for block in content
        )
    if isinstance(content, dict):
        return _result_text(content.get("text") or content.get("output") or content.get("content") or "")
    return "" if content is None else str(content)


def _result_entries(text: str, error: bool = False) -> list[Entry]:
    lines = [line for line in strip_ansi(text).splitlines() if line.strip()]
    if not lines:
        return [Entry("failed" if error else "result", "(failed)" if error else "(done)")]
    shown = lines[:RESULT_LINES]
    if len(lines) > RESULT_LINES:
        shown.append(f"… {len(lines) - RESULT_LINES} more lines")
    return [Entry("failed" if error else "result", _short(line)) for line in shown]


def _number(value) -> int | None:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


class Transcript:
    """Reads a stream line by line (`feed`), keeping the activity and the tokens so far."""

    def __init__(self) -> None:
        self.structured = False
        """Whether any line so far was an event of a known stream."""
        self.activity: str | None = None
        """busy (a tool call in flight), waiting (for the model), idle (the CLI said it is done), or
        None while the stream has said nothing (then output timing decides)."""
        self.pending: dict[str, str] = {}
        """Tool calls in flight: id -> the tool's name."""
        self.usage: dict = {}
        """prompt_tokens, completion_tokens (and cost_usd where the CLI prints one), so far."""
        self._per_message: dict[str, tuple[int, int]] = {}
        self._summed = (0, 0, 0.0)

    # -- the stream ---------------------------------------------------------------------------------
    def feed(self, line: str) -> list[Entry]:
        """The entries one line of output adds (none for an event with nothing to show)."""
        stripped = line.strip()
        if not stripped:
            return []
        if stripped.startswith("{") and stripped.endswith("}"):
            try:
                event = json.loads(stripped)
            except ValueError:
                event = None
            if isinstance(event, dict) and isinstance(event.get("type"), str):
                entries = self._event(event)
                if entries is not None:
                    self.structured = True
                    return entries
        return [Entry("plain", line.rstrip("\r\n"))]

    def _event(self, event: dict) -> list[Entry] | None:
        kind = event["type"]
        if kind == "result" and "stats" in event and "usage" not in event:
            return self._gemini_result(event)
        if kind in ("system", "assistant", "user", "result", "stream_event"):
            return self._claude(event)
        if kind.startswith(("thread.", "turn.", "item.")) or kind == "error" and "message" in event:
            return self._codex(event)
        if kind in ("init", "message", "tool_use", "tool_result") and "part" not in event:
            return self._gemini(event)
        if kind in ("step_start", "step_finish", "text", "tool_use", "reasoning", "error") and "part" in event:
            return self._opencode(event)
        return None

    def _tool_started(self, call_id: str, name: str, arguments) -> list[Entry]:
        self.pending[call_id] = name
        self.activity = BUSY
        target = _target(arguments)
        return [Entry("tool", f"{name} {target}".rstrip())]

    def _tool_ended(self, call_id: str) -> None:
        self.pending.pop(call_id, None)
        if not self.pending:
            self.activity = WAITING

    # Claude Code, Qwen Code
    def _claude(self, event: dict) -> list[Entry]:
        kind = event["type"]
        if kind == "system":
            if event.get("subtype") == "init":
                self.activity = WAITING
                return [Entry("note", f"session started · {event.get('model') or 'model'}")]
            return []
        message = event.get("message") if isinstance(event.get("message"), dict) else {}
        if kind == "assistant":
            return self._claude_message(message)
        if kind == "user":
            return self._claude_tool_results(message)
        if kind == "result":
            return self._claude_result(event)
        return []  # stream_event: the same words again, in pieces

    def _claude_message(self, message: dict) -> list[Entry]:
        self.activity = WAITING
        entries: list[Entry] = []
        for block in message.get("content") or []:
            if not isinstance(block, dict):
                continue
            if block.get("type") == "text" and block.get("text", "").strip():
                entries.append(Entry("text", block["text"].strip()))
            elif block.get("type") == "thinking" and block.get("thinking", "").strip():
                entries.append(Entry("thinking", block["thinking"].strip()))
            elif block.get("type") == "tool_use":
                entries += self._tool_started(str(block.get("id")), str(block.get("name", "tool")), block.get("input"))
        usage = message.get("usage")
        if isinstance(usage, dict):  # each API message once (one message can span several events)
            tokens = (_number(usage.get("input_tokens")) or 0, _number(usage.get("output_tokens")) or 0)
            before = self._per_message.get(str(message.get("id") or len(self._per_message)), (0, 0))
            self._per_message[str(message.get("id") or len(self._per_message))] = tokens
            self._add(tokens[0] - before[0], tokens[1] - before[1])
        return entries

    def _claude_tool_results(self, message: dict) -> list[Entry]:
        entries: list[Entry] = []
        for block in message.get("content") or []:
            if isinstance(block, dict) and block.get("type") == "tool_result":
                self._tool_ended(str(block.get("tool_use_id")))
                entries += _result_entries(_result_text(block.get("content")), bool(block.get("is_error")))
        return entries

    def _claude_result(self, event: dict) -> list[Entry]:
        self.pending.clear()
        self.activity = IDLE
        usage = event.get("usage")
        if isinstance(usage, dict):
            self.usage = {
                "prompt_tokens": _number(usage.get("input_tokens")) or 0,
                "completion_tokens": _number(usage.get("output_tokens")) or 0,
            }
            if _number(event.get("total_cost_usd")) is not None or isinstance(event.get("total_cost_usd"), float):
                self.usage["cost_usd"] = float(event["total_cost_usd"])
        entries: list[Entry] = []
        if event.get("is_error") or str(event.get("subtype", "")).startswith("error"):
            entries.append(Entry("error", _short(str(event.get("result") or event.get("subtype") or "error"))))
        entries.append(Entry("note", f"finished · {event.get('num_turns', '?')} turns · {self.tokens_line()}"))
        return entries

    # Codex
    def _codex(self, event: dict) -> list[Entry]:
        kind = event["type"]
        if kind == "thread.started":
            return [Entry("note", "session started")]
        if kind == "turn.started":
            self.activity = WAITING
            return []
        if kind == "turn.completed":
            usage = event.get("usage") or {}
            self._add(_number(usage.get("input_tokens")) or 0, _number(usage.get("output_tokens")) or 0)
            self.pending.clear()
            self.activity = IDLE
            return [Entry("note", f"turn done · {self.tokens_line()}")]
        if kind in ("turn.failed", "error"):
            error = event.get("error") if isinstance(event.get("error"), dict) else event
            return [Entry("error", _short(str(error.get("message") or kind)))]
        item = event.get("item") if isinstance(event.get("item"), dict) else {}
        return self._codex_item(item, kind == "item.started", kind == "item.completed")

    def _codex_item(self, item: dict, started: bool, completed: bool) -> list[Entry]:
        what = item.get("type")
        if what == "agent_message" and completed:
            return [Entry("text", str(item.get("text", "")).strip())]
        if what == "reasoning" and completed:
            return [Entry("thinking", str(item.get("text", "")).strip())]
        if what == "error":
            return [Entry("error", _short(str(item.get("message", ""))))]
        if what == "command_execution":
            return self._codex_command(item, started, completed)
        if what == "file_change":
            return self._codex_file_change(item, started, completed)
        if what in ("mcp_tool_call", "web_search", "collab_tool_call"):
            return self._codex_tool_call(item, started, completed)
        return []

    def _codex_command(self, item: dict, started: bool, completed: bool) -> list[Entry]:
        item_id = str(item.get("id"))
        if started:
            return self._tool_started(item_id, "$", {"command": item.get("command")})
        if not completed:
            return []
        self._tool_ended(item_id)
        code = item.get("exit_code")
        entries = _result_entries(str(item.get("aggregated_output") or ""), code not in (0, None))
        return entries + ([Entry("error", f"exit {code}")] if code not in (0, None) else [])

    def _codex_file_change(self, item: dict, started: bool, completed: bool) -> list[Entry]:
        item_id = str(item.get("id"))
        paths = ", ".join(
            f"{c.get('kind', 'edit')} {c.get('path')}" for c in item.get("changes") or [] if isinstance(c, dict)
        )
        if started:
            return self._tool_started(item_id, "patch", {"path": paths})
        if not completed:
            return []
        was_pending = item_id in self.pending
        self._tool_ended(item_id)
        entries = [] if was_pending else [Entry("tool", _short(f"patch {paths}"))]
        return entries + _result_entries(str(item.get("status") or "done"), item.get("status") == "failed")

    def _codex_tool_call(self, item: dict, started: bool, completed: bool) -> list[Entry]:
        item_id, what = str(item.get("id")), item.get("type")
        name = f"{item.get('server')}.{item.get('tool')}" if what == "mcp_tool_call" else what.replace("_", " ")
        if started:
            return self._tool_started(item_id, name, item.get("arguments") or {"query": item.get("query")})
        if not completed:
            return []
        self._tool_ended(item_id)
        error = item.get("error")
        text = error.get("message") if isinstance(error, dict) else item.get("result") or item.get("status") or ""
        return _result_entries(_result_text(text), bool(error))

    # Gemini CLI
    def _gemini(self, event: dict) -> list[Entry]:
        kind = event["type"]
        if kind == "init":
            self.activity = WAITING
            return [Entry("note", f"session started · {event.get('model') or 'model'}")]
        if kind == "message":
            if event.get("role") != "assistant":
                self.activity = WAITING
                return []
            self.activity = WAITING
            text = str(event.get("content") or "")
            return [Entry("text", text, continues=bool(event.get("delta")))] if text else []
        if kind == "tool_use":
            return self._tool_started(
                str(event.get("tool_id")), str(event.get("tool_name", "tool")), event.get("parameters")
            )
        if kind == "tool_result":
            self._tool_ended(str(event.get("tool_id")))
            error = event.get("error")
            failed = event.get("status") not in ("success", None) or bool(error)
            text = (error.get("message") if isinstance(error, dict) else None) or _result_text(event.get("output"))
            return _result_entries(text or str(event.get("status") or ""), failed)
        return []

    def _gemini_result(self, event: dict) -> list[Entry]:
        stats = event.get("stats") if isinstance(event.get("stats"), dict) else {}
        self.usage = {
            "prompt_tokens": _number(stats.get("input_tokens")) or 0,
            "completion_tokens": _number(stats.get("output_tokens")) or 0,
        }
        self.pending.clear()
        self.activity = IDLE
        entries = []
        if event.get("status") not in ("success", None):
            error = event.get("error")
            entries.append(
                Entry("error", _short(str(error.get("message") if isinstance(error, dict) else event.get("status"))))
            )
        return entries + [Entry("note", f"finished · {self.tokens_line()}")]

    # opencode
    def _opencode(self, event: dict) -> list[Entry]:
        kind, part = event["type"], event.get("part") if isinstance(event.get("part"), dict) else {}
        if kind == "step_start":
            self.activity = WAITING
            return []
        if kind == "step_finish":
            tokens = part.get("tokens") if isinstance(part.get("tokens"), dict) else {}
            self._add(
                _number(tokens.get("input")) or 0,
                _number(tokens.get("output")) or 0,
                float(part.get("cost") or 0.0) if isinstance(part.get("cost"), (int, float)) else 0.0,
            )
            self.activity = IDLE if part.get("reason") == "stop" else WAITING
            return []
        if kind == "text":
            text = str(part.get("text") or "").strip()
            return [Entry("text", text)] if text else []
        if kind == "reasoning":
            text = str(part.get("text") or "").strip()
            return [Entry("thinking", text)] if text else []
        if kind == "tool_use":
            state = part.get("state") if isinstance(part.get("state"), dict) else {}
            call_id = str(part.get("callID") or part.get("id"))
            status = state.get("status")
            if status in ("pending", "running"):
                return self._tool_started(call_id, str(part.get("tool", "tool")), state.get("input"))
            was_pending = call_id in self.pending
            entries = (
                []
                if was_pending
                else [Entry("tool", f"{part.get('tool', 'tool')} {_target(state.get('input'))}".rstrip())]
            )
            self._tool_ended(call_id)
            return entries + _result_entries(
                _result_text(state.get("output") or state.get("error") or status or ""), status == "error"
            )
        if kind == "error":
            error = event.get("error") if isinstance(event.get("error"), dict) else part
            data = error.get("data") if isinstance(error.get("data"), dict) else error
            return [Entry("error", _short(str(data.get("message") or error.get("name") or "error")))]
        return []

    def _add(self, prompt: int, completion: int, cost: float = 0.0) -> None:
        before = self._summed
        self._summed = (before[0] + prompt, before[1] + completion, before[2] + cost)
        self.usage = {"prompt_tokens": self._summed[0], "completion_tokens": self._summed[1]}
        if self._summed[2] > 0:
            self.usage["cost_usd"] = round(self._summed[2], 6)

    def tokens_line(self) -> str:
        """`12.3k in · 456 out · $0.0123` (what the tokens so far come to)."""
        if not self.usage:
            return "no tokens yet"
        line = f"{_k(self.usage.get('prompt_tokens', 0))} in · {_k(self.usage.get('completion_tokens', 0))} out"
        if self.usage.get("cost_usd"):
            line += f" · ${self.usage['cost_usd']:.4f}"
        return line


def _k(count: int) -> str:
    return f"{count / 1000:.1f}k" if count >= 10_000 else str(count)
