"""What the agent's own work looks like on screen, at 120×40 on the frozen scene (tests/scenes.py):
the Output tab on `parser`'s running agent (a Claude Code stream-json log, a tool call in
flight), the Output tab on a plain log with colours, and the gate pane on coloured pytest output.
Update baselines with `--snapshot-update` only after looking at the new SVGs."""

from __future__ import annotations

import json
import time

import pytest
from harness import DrivenApp
from scenes import build_scene, frozen, local_times_in_utc
from screen_kit import SIZE

from bosun.widgets.graph_view import GraphView
from bosun.widgets.output_view import OutputView

WT = "/home/me/calc/.bosun/worktrees/parser/"
CLAUDE_LOG = [
    {"type": "system", "subtype": "init", "cwd": WT, "model": "claude-sonnet-4-5", "tools": ["Bash", "Edit", "Write"]},
    {
        "type": "assistant",
        "message": {
            "id": "m1",
            "content": [
                {
                    "type": "text",
                    "text": "I'll start with the tokens the parser gets, then write a recursive-descent "
                    "parser for + - * / and parentheses, with a test for each precedence rule.",
                },
                {"type": "tool_use", "id": "t1", "name": "Read", "input": {"file_path": WT + "src/calc/tokens.py"}},
            ],
            "usage": {"input_tokens": 8200, "output_tokens": 95},
        },
    },
    {
        "type": "user",
        "message": {
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "t1",
                    "content": "def tokenize(text):\n    return text.split()\n",
                }
            ]
        },
    },
    {
        "type": "assistant",
        "message": {
            "id": "m2",
            "content": [
                {
                    "type": "tool_use",
                    "id": "t2",
                    "name": "Write",
                    "input": {"file_path": WT + "src/calc/parser.py", "content": "def parse(tokens): ..."},
                }
            ],
            "usage": {"input_tokens": 9100, "output_tokens": 610},
        },
    },
    {
        "type": "user",
        "message": {
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "t2",
                    "content": "File created successfully at: " + WT + "src/calc/parser.py",
                }
            ]
        },
    },
    {
        "type": "assistant",
        "message": {
            "id": "m3",
            "content": [
                {
                    "type": "tool_use",
                    "id": "t3",
                    "name": "Bash",
                    "input": {"command": "python -m pytest -q tests/test_parser.py"},
                }
            ],
            "usage": {"input_tokens": 9900, "output_tokens": 42},
        },
    },
    {
        "type": "user",
        "message": {
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "t3",
                    "is_error": True,
                    "content": "F.\nFAILED tests/test_parser.py::test_precedence\n"
                    "AssertionError: assert 9 == 7\n1 failed, 1 passed in 0.04s",
                }
            ]
        },
    },
    {
        "type": "assistant",
        "message": {
            "id": "m4",
            "content": [
                {"type": "text", "text": "Multiplication binds looser than it should: `term` must call `factor`."},
                {"type": "tool_use", "id": "t4", "name": "Edit", "input": {"file_path": WT + "src/calc/parser.py"}},
            ],
            "usage": {"input_tokens": 10400, "output_tokens": 120},
        },
    },
]
PLAIN_LOG = (
    "Aider v0.86.1\nModel: openai/gpt-x with whole edit format\n"
    "\x1b[32mApplied edit to src/calc/parser.py\x1b[0m\n"
    "\x1b[33mWarning: tests/test_parser.py is not in the chat\x1b[0m\n"
    "\x1b[1;31mError:\x1b[0m the edit to \x1b[1msrc/calc/__init__.py\x1b[0m was refused\n"
    "Tokens: 5.0k sent, 1.2k received. Cost: $0.05 message, $0.05 session.\n"
)
COLOURED_PYTEST = (
    "\x1b[32m.\x1b[0m\x1b[32m.\x1b[0m\x1b[33ms\x1b[0m\x1b[32m.\x1b[0m\x1b[32m.\x1b[0m"
    "\x1b[32m                                               [100%]\x1b[0m\n"
    "\x1b[32m\x1b[1m4 passed\x1b[0m, \x1b[33m1 skipped\x1b[0m\x1b[32m in 0.03s\x1b[0m\n"
)
"""pytest -q with colour on, as the gate's output tail holds it."""


@pytest.fixture
def scene(tmp_path, monkeypatch):
    local_times_in_utc(monkeypatch)
    session = build_scene(tmp_path / "scene", monkeypatch)
    frozen(session)
    yield session
    session.close()
    monkeypatch.undo()
    time.tzset()


def _log(session, unit: str, text: str) -> None:
    log = session.dir / "logs" / f"{unit}.1.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(text)


def _after(select: str, keys: tuple[str, ...]):
    async def run_before(pilot) -> None:
        app: DrivenApp = pilot.app
        await app.caught_up()
        app.query_one(GraphView).selected = select
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.press(*keys)
        view = app.query_one(OutputView)
        for _ in range(100):  # the tab reads its log once it is on screen
            await pilot.pause()
            if view.lines or "o" not in keys:
                break
            view.poll()
        await pilot.pause()
        await pilot.pause()  # the scroll area's growth laid out, the scrollbar drawn

    return run_before


def test_output_tab_transcript(snap_compare, scene):
    _log(scene, "parser", "".join(json.dumps(e) + "\n" for e in CLAUDE_LOG))
    assert snap_compare(DrivenApp(scene, supervise=False), terminal_size=SIZE, run_before=_after("parser", ("o",)))


def test_output_tab_plain_log_in_colour(snap_compare, scene):
    _log(scene, "parser", PLAIN_LOG)
    assert snap_compare(DrivenApp(scene, supervise=False), terminal_size=SIZE, run_before=_after("parser", ("o",)))


def test_gate_pane_coloured_pytest_output(snap_compare, scene):
    with scene.store.tx() as db:
        db.execute("UPDATE gate_runs SET output_tail = ? WHERE unit = 'format' AND passed = 1", (COLOURED_PYTEST,))
    assert snap_compare(DrivenApp(scene, supervise=False), terminal_size=SIZE, run_before=_after("format", ("g",)))
