"""The agent's stream read as a transcript (orchestration/agents/transcript.py), on lines shaped as
the pinned CLIs print them (tests/test_cli_*.py; long fields trimmed), and ANSI escapes stripped
where output is stored or printed as plain text."""

from __future__ import annotations

import json

import pytest

from bosun.orchestration.agents.activity import stream_activity
from bosun.orchestration.agents.transcript import Transcript
from bosun.orchestration.ansi import strip_ansi, strip_ansi_in

WT = "/tmp/t/repo/.bosun/worktrees/calc/"


def line(event: dict) -> str:
    return json.dumps(event, separators=(",", ":"))


CLAUDE = [
    {
        "type": "system",
        "subtype": "init",
        "cwd": WT,
        "tools": ["Bash", "Write"],
        "model": "claude-opus-5-5",
        "permissionMode": "acceptEdits",
    },
    {
        "type": "assistant",
        "message": {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "content": [
                {
                    "type": "tool_use",
                    "id": "toolu_1",
                    "name": "Write",
                    "input": {"file_path": "./src/calc.py", "content": "VALUE = 42\n"},
                }
            ],
            "usage": {"input_tokens": 1234, "output_tokens": 1},
        },
    },
    {
        "type": "user",
        "message": {
            "role": "user",
            "content": [
                {
                    "tool_use_id": "toolu_1",
                    "type": "tool_result",
                    "content": "File created successfully at: ./src/calc.py",
                }
            ],
        },
        "tool_use_result": {"type": "create", "filePath": "./src/calc.py"},
    },
    {
        "type": "assistant",
        "message": {
            "id": "msg_2",
            "content": [{"type": "text", "text": "Wrote the file."}],
            "usage": {"input_tokens": 1234, "output_tokens": 1},
        },
    },
    {
        "type": "result",
        "subtype": "success",
        "is_error": False,
        "num_turns": 2,
        "result": "Wrote the file.",
        "total_cost_usd": 0.012112,
        "usage": {"input_tokens": 2468, "output_tokens": 112},
    },
]
CODEX = [
    {"type": "thread.started", "thread_id": "01a2"},
    {"type": "item.completed", "item": {"id": "item_0", "type": "error", "message": "Model metadata not found."}},
    {"type": "turn.started"},
    {
        "type": "item.started",
        "item": {
            "id": "item_1",
            "type": "command_execution",
            "command": "bash -lc pytest -q",
            "aggregated_output": "",
            "exit_code": None,
            "status": "in_progress",
        },
    },
    {
        "type": "item.completed",
        "item": {
            "id": "item_1",
            "type": "command_execution",
            "command": "bash -lc pytest -q",
            "aggregated_output": "..\n2 passed in 0.01s\n",
            "exit_code": 0,
            "status": "completed",
        },
    },
    {
        "type": "item.started",
        "item": {
            "id": "item_2",
            "type": "file_change",
            "status": "in_progress",
            "changes": [{"path": WT + "src/calc.py", "kind": "update"}],
        },
    },
    {
        "type": "item.completed",
        "item": {
            "id": "item_2",
            "type": "file_change",
            "status": "completed",
            "changes": [{"path": WT + "src/calc.py", "kind": "update"}],
        },
    },
    {"type": "item.completed", "item": {"id": "item_3", "type": "agent_message", "text": "Done: the file is changed."}},
    {"type": "turn.completed", "usage": {"input_tokens": 4200, "cached_input_tokens": 600, "output_tokens": 140}},
]
GEMINI = [
    {"type": "init", "session_id": "c17c", "model": "auto"},
    {"type": "message", "role": "user", "content": "# calc (unit calc, attempt 1)"},
    {
        "type": "tool_use",
        "tool_name": "write_file",
        "tool_id": "write_file_1",
        "parameters": {"file_path": "src/calc.py", "content": "VALUE = 42\n"},
    },
    {"type": "tool_result", "tool_id": "write_file_1", "status": "success"},
    {"type": "message", "role": "assistant", "content": "Wrote ", "delta": True},
    {"type": "message", "role": "assistant", "content": "the file.", "delta": True},
    {
        "type": "result",
        "status": "success",
        "stats": {"total_tokens": 3433, "input_tokens": 3010, "output_tokens": 423, "tool_calls": 1},
    },
]
OPENCODE = [
    {"type": "step_start", "sessionID": "ses_1", "part": {"type": "step-start"}},
    {
        "type": "tool_use",
        "sessionID": "ses_1",
        "part": {
            "type": "tool",
            "tool": "write",
            "callID": "call_1",
            "state": {
                "status": "completed",
                "input": {"filePath": WT + "src/calc.py", "content": "VALUE = 42\n"},
                "output": "Wrote file successfully.",
                "title": "src/calc.py",
            },
        },
    },
    {
        "type": "step_finish",
        "part": {
            "type": "step-finish",
            "reason": "tool-calls",
            "cost": 0.00675,
            "tokens": {"total": 1890, "input": 1800, "output": 90},
        },
    },
    {"type": "step_start", "part": {"type": "step-start"}},
    {"type": "text", "part": {"type": "text", "text": "Done: the file is written."}},
    {
        "type": "step_finish",
        "part": {
            "type": "step-finish",
            "reason": "stop",
            "cost": 0.00675,
            "tokens": {"total": 1890, "input": 1800, "output": 90},
        },
    },
]
QWEN = [
    {"type": "system", "subtype": "init", "cwd": WT, "model": "stub-model", "permission_mode": "yolo"},
    {"type": "stream_event", "event": {"type": "goal_state"}},
    {
        "type": "assistant",
        "message": {
            "id": "a1",
            "content": [
                {"type": "tool_use", "id": "call_1", "name": "write_file", "input": {"file_path": WT + "src/calc.py"}}
            ],
            "usage": {"input_tokens": 1800, "output_tokens": 90},
        },
    },
    {
        "type": "user",
        "message": {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "call_1",
                    "is_error": False,
                    "content": "Successfully created " + WT + "src/calc.py.",
                }
            ],
        },
    },
    {
        "type": "assistant",
        "message": {
            "id": "a2",
            "content": [{"type": "text", "text": "Done: the file is written."}],
            "usage": {"input_tokens": 1800, "output_tokens": 90},
        },
    },
    {
        "type": "result",
        "subtype": "success",
        "is_error": False,
        "num_turns": 2,
        "usage": {"input_tokens": 3600, "output_tokens": 180},
    },
]


def read(events: list[dict], *noise: str) -> tuple[Transcript, list[tuple[str, str]]]:
    transcript = Transcript()
    entries = []
    for text in [*noise, *map(line, events)]:
        entries += [(e.kind, e.text + (" +" if e.continues else "")) for e in transcript.feed(text)]
    return transcript, entries


@pytest.mark.parametrize(
    "events, noise, expected, usage",
    [
        (
            CLAUDE,
            (),
            [
                ("note", "session started · claude-opus-5-5"),
                ("tool", "Write ./src/calc.py"),
                ("result", "File created successfully at: ./src/calc.py"),
                ("text", "Wrote the file."),
                ("note", "finished · 2 turns · 2468 in · 112 out · $0.0121"),
            ],
            {"prompt_tokens": 2468, "completion_tokens": 112, "cost_usd": 0.012112},
        ),
        (
            CODEX,
            ("Reading additional input from stdin...",),
            [
                ("plain", "Reading additional input from stdin..."),
                ("note", "session started"),
                ("error", "Model metadata not found."),
                ("tool", "$ bash -lc pytest -q"),
                ("result", ".."),
                ("result", "2 passed in 0.01s"),
                ("tool", "patch update src/calc.py"),
                ("result", "completed"),
                ("text", "Done: the file is changed."),
                ("note", "turn done · 4200 in · 140 out"),
            ],
            {"prompt_tokens": 4200, "completion_tokens": 140},
        ),
        (
            GEMINI,
            ("YOLO mode is enabled.",),
            [
                ("plain", "YOLO mode is enabled."),
                ("note", "session started · auto"),
                ("tool", "write_file src/calc.py"),
                ("result", "success"),
                ("text", "Wrote  +"),
                ("text", "the file. +"),
                ("note", "finished · 3010 in · 423 out"),
            ],
            {"prompt_tokens": 3010, "completion_tokens": 423},
        ),
        (
            OPENCODE,
            (),
            [
                ("tool", "write src/calc.py"),
                ("result", "Wrote file successfully."),
                ("text", "Done: the file is written."),
            ],
            {"prompt_tokens": 3600, "completion_tokens": 180, "cost_usd": 0.0135},
        ),
        (
            QWEN,
            (),
            [
                ("note", "session started · stub-model"),
                ("tool", "write_file src/calc.py"),
                ("result", "Successfully created src/calc.py."),
                ("text", "Done: the file is written."),
                ("note", "finished · 2 turns · 3600 in · 180 out"),
            ],
            {"prompt_tokens": 3600, "completion_tokens": 180},
        ),
    ],
)
def test_each_clis_stream_reads_as_a_transcript(events, noise, expected, usage) -> None:
    transcript, entries = read(events, *noise)
    assert entries == expected
    assert transcript.usage == usage
    assert transcript.structured and transcript.activity == "idle"


@pytest.mark.parametrize(
    "events, upto, activity",
    [
        (CLAUDE, 1, "waiting"),  # started: the model's turn
        (CLAUDE, 2, "busy"),  # the Write call is in flight
        (CLAUDE, 3, "waiting"),  # its result went back to the model
        (CODEX, 4, "busy"),  # a command runs
        (CODEX, 5, "waiting"),
        (GEMINI, 3, "busy"),
        (QWEN, 3, "busy"),
        (OPENCODE, 4, "waiting"),
    ],
)
def test_activity_comes_from_the_stream(events, upto, activity) -> None:
    assert read(events[:upto])[0].activity == activity


def test_plain_output_has_no_activity() -> None:
    transcript, entries = read([], "\x1b[32m....\x1b[0m", "{not json}")
    assert transcript.activity is None and not transcript.structured
    assert entries == [("plain", "\x1b[32m....\x1b[0m"), ("plain", "{not json}")]


def test_stream_activity_reads_only_what_was_added(tmp_path) -> None:
    log = tmp_path / "calc.1.log"
    assert stream_activity(log) is None
    log.write_text("warming up\n" + line(CLAUDE[0]) + "\n" + line(CLAUDE[1])[:30])  # a line still being written
    assert stream_activity(log) == "waiting"
    with open(log, "a") as handle:
        handle.write(line(CLAUDE[1])[30:] + "\n")
    assert stream_activity(log) == "busy"
    with open(log, "a") as handle:
        handle.write(line(CLAUDE[2]) + "\n")
    assert stream_activity(log) == "waiting"


def test_escape_codes_are_stripped() -> None:
    coloured = "\x1b[32m....\x1b[0m\x1b[31mF\x1b[0m \x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\ \x1b[1;31m1 failed\x1b[0m"
    assert strip_ansi(coloured) == "....F link 1 failed"
    assert strip_ansi_in({"a": [coloured, 1, None], "b": {"c": "\x1b[2Kok"}}) == {
        "a": ["....F link 1 failed", 1, None],
        "b": {"c": "ok"},
    }
