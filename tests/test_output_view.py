"""The agent's own work on screen: the Output tab follows a running agent's stream as a transcript,
the gate pane renders coloured test output as colours, and the plain-text outputs (`bosun status
--json`, a hand-back's task) carry no escape codes. Real orchestrator, real git, real scripted
agents printing Claude Code's stream-json, held and released with AWAIT_GO."""

from __future__ import annotations

import asyncio
import json

from conftest import AWAIT_GO, bosun, release, write_unit
from screen_kit import SIZE, open_app

from bosun.widgets.gate_pane import GatePane
from bosun.widgets.graph_view import GraphView
from bosun.widgets.output_view import OutputView


def say(*events: dict) -> dict:
    """A scripted step that prints `events` as stream-json lines, as Claude Code does."""
    lines = "\n".join(json.dumps(e, separators=(",", ":")) for e in events)
    assert "'" not in lines
    return {"run": ["sh", "-c", f"printf '%s\\n' '{lines}'"]}


INIT = {"type": "system", "subtype": "init", "model": "claude-test", "tools": ["Bash", "Write"]}
TOOL = {
    "type": "assistant",
    "message": {
        "id": "m1",
        "content": [
            {"type": "tool_use", "id": "t1", "name": "Bash", "input": {"command": "pytest -q tests/test_calc.py"}}
        ],
        "usage": {"input_tokens": 1500, "output_tokens": 40},
    },
}
RESULT = {
    "type": "user",
    "message": {"content": [{"type": "tool_result", "tool_use_id": "t1", "content": "3 passed in 0.02s"}]},
}
SAID = {
    "type": "assistant",
    "message": {
        "id": "m2",
        "content": [{"type": "text", "text": "All three tests pass."}],
        "usage": {"input_tokens": 1600, "output_tokens": 12},
    },
}
DONE = {
    "type": "result",
    "subtype": "success",
    "is_error": False,
    "num_turns": 2,
    "total_cost_usd": 0.0123,
    "usage": {"input_tokens": 3100, "output_tokens": 52},
}

COLOURED = r"printf '\033[32m.....\033[0m\033[31mF\033[0m\n\033[31m\033[1m1 failed\033[0m, \033[32m5 passed\033[0m\033[31m in 0.03s\033[0m\n'"  # noqa: E501
"""What pytest prints with colour on: dots in green, the F and the summary in red."""


async def until(pilot, check, what: str, timeout: float = 30) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}; the screen:\n{pilot.app.text()}")
        await pilot.pause(0.05)


async def test_the_output_tab_follows_a_running_agents_transcript(project):
    steps = [say(INIT, TOOL), AWAIT_GO, say(RESULT, SAID), AWAIT_GO, say(DONE), AWAIT_GO]
    steps += write_unit("src/a.py", "A = 1\n")
    repo = project([{"id": "calc"}], {"calc": [steps]}, max_agents=1)
    app = open_app(repo)
    async with app.run_test(size=SIZE) as pilot:
        await app.state("calc", "running")
        app.query_one(GraphView).selected = "calc"
        await pilot.press("o")
        view = app.query_one(OutputView)
        await until(pilot, lambda: "▶ Bash pytest -q tests/test_calc.py" in app.text(), "the tool call")
        assert "· session started · claude-test" in app.text()
        assert view.border_title == "calc try 1 · busy · 1500 in · 40 out"  # the Bash call is in flight
        await app.caught_up()
        assert "busy" in app.text()  # the agents table says the same, from the stream

        release(repo, "calc")
        await until(pilot, lambda: "● All three tests pass." in app.text(), "the model's answer")
        assert "⎿ 3 passed in 0.02s" in app.text()
        assert view.border_title == "calc try 1 · waiting · 3100 in · 52 out"  # its turn again: the model's

        release(repo, "calc")
        await until(pilot, lambda: "finished · 2 turns" in app.text(), "the end of the session")
        assert view.border_title == "calc try 1 · idle · 3100 in · 52 out · $0.0123"  # the CLI is done, its process not
        release(repo, "calc")
        await app.state("calc", "merged")
        await until(pilot, lambda: view.border_title == "calc try 1 · ended · 3100 in · 52 out · $0.0123", "ended")
        assert "\x1b" not in app.text() and "[0m" not in app.text()


async def test_a_log_that_is_not_a_stream_shows_its_colours(project):
    steps = [{"run": ["sh", "-c", COLOURED]}, AWAIT_GO, *write_unit("src/a.py", "A = 1\n")]
    repo = project([{"id": "calc"}], {"calc": [steps]}, max_agents=1)
    app = open_app(repo)
    async with app.run_test(size=SIZE) as pilot:
        await app.state("calc", "running")
        app.query_one(GraphView).selected = "calc"
        await pilot.press("o")
        await until(pilot, lambda: "1 failed, 5 passed in 0.03s" in app.text(), "the coloured line")
        assert ".....F" in app.text() and "[32m" not in app.text()
        view = app.query_one(OutputView)
        assert view.border_title == "calc try 1 · log"
        colours = {str(s.style.color.name) for segments, _ in view.lines for s in segments if s.style and s.style.color}
        assert {"color(1)", "color(2)"} <= colours, colours  # red and green, as the terminal shows them
        release(repo, "calc")
        await app.state("calc", "merged")


async def test_the_gate_pane_renders_coloured_test_output(project):
    repo = project([{"id": "calc"}], {"calc": [write_unit("src/a.py", "A = 1\n")]}, max_agents=1, gate=COLOURED)
    app = open_app(repo)
    async with app.run_test(size=SIZE) as pilot:
        await app.state("calc", "merged")
        app.query_one(GraphView).selected = "calc"
        await pilot.press("g")
        await app.caught_up()
        await pilot.pause()
        text = app.text()
        assert ".....F" in text and "1 failed, 5 passed in 0.03s" in text, text
        assert "[32m" not in text and "\x1b" not in text
        tail = app.query_one("#gate-tail").render()
        styles = " ".join(str(span.style) for span in tail.spans)
        assert "ansi_green" in styles and "ansi_red" in styles, tail.spans
        pane = app.query_one(GatePane)
        assert pane.table.get_row_at(0)[4:6] == ["5", "1"]  # the counts read through the colours


def test_status_json_and_the_hand_back_carry_no_escape_codes(project):
    gate = "printf '\\033[31m\\033[1mFAILED\\033[0m tests\\n'; python check.py"
    fix = [
        {
            "run": ["sh", "-c", 'grep -q \'broken files\' "$BOSUN_TASK_FILE" && ! grep -q u001b "$BOSUN_TASK_FILE"'],
            "check": True,
        },
        *write_unit("src/a.py", "A = 1\n"),
    ]
    repo = project([{"id": "calc"}], {"calc": [write_unit("src/a.py", "BROKEN\n"), fix]}, gate=gate, max_agents=1)
    result = bosun("run", "--headless", "--json", cwd=repo)
    assert result.returncode == 0, result.stdout + result.stderr
    status = bosun("status", "--json", cwd=repo).stdout
    assert "u001b" not in status and "\x1b" not in status
    assert json.loads(status)["units"][0]["state"] == "merged"
    from bosun.orchestration.gitcmd import GitRepo
    from bosun.orchestration.session import open_session

    session = open_session(GitRepo(repo))
    try:  # the gate's own record keeps the colours, for the gate pane to render
        assert "\x1b[31m" in session.store.gate_runs()[0].output_tail
    finally:
        session.close()
