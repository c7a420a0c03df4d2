"""Tokens and cost from what the coding-agent CLIs print, and agents' activity for the screen."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from conftest import bosun, write_unit

from bosun.orchestration.agents.usage import add_usage, spent_by_agent, usage_from_output
from bosun.orchestration.gitcmd import GitRepo
from bosun.orchestration.session import open_session
from bosun.orchestration.status import QUIET_AFTER_S, agent_rows

CLAUDE = json.dumps(
    {
        "type": "result",
        "subtype": "success",
        "is_error": False,
        "result": "Done.",
        "total_cost_usd": 0.0421,
        "usage": {"input_tokens": 1200, "output_tokens": 340, "cache_read_input_tokens": 9000},
    }
)
CODEX = "\n".join(
    [
        json.dumps({"type": "thread.started"}),
        json.dumps({"type": "item.completed", "item": {"type": "agent_message", "text": "ok"}}),
        json.dumps(
            {"type": "turn.completed", "usage": {"input_tokens": 800, "cached_input_tokens": 0, "output_tokens": 95}}
        ),
    ]
)
GEMINI = json.dumps(
    {
        "response": "done",
        "stats": {"models": {"gemini-2.5-pro": {"tokens": {"prompt": 1500, "candidates": 210, "total": 1710}}}},
    }
)


@pytest.mark.parametrize(
    "output, expected",
    [
        ("noise before\n" + CLAUDE, {"prompt_tokens": 1200, "completion_tokens": 340, "cost_usd": 0.0421}),
        (CODEX, {"prompt_tokens": 800, "completion_tokens": 95}),
        (GEMINI, {"prompt_tokens": 1500, "completion_tokens": 210}),
        (
            "Applied edit to calc.py\nTokens: 2.1k sent, 310 received. Cost: $0.01 message, $0.03 session.\n",
            {"prompt_tokens": 2100, "completion_tokens": 310, "cost_usd": 0.03},
        ),
        ("Tokens: 120 sent, 40 received.\n", {"prompt_tokens": 120, "completion_tokens": 40}),
        ("no numbers at all\n{not json}\n", None),
    ],
)
def test_usage_is_read_from_each_clis_output(output: str, expected: dict | None) -> None:
    assert usage_from_output(output) == expected


def test_usage_adds_up_over_attempts() -> None:
    total = add_usage(None, {"prompt_tokens": 10, "completion_tokens": 2, "cost_usd": 0.5})
    total = add_usage(total, {"prompt_tokens": 5, "completion_tokens": 1})
    assert total == {"prompt_tokens": 15, "completion_tokens": 3, "cost_usd": 0.5}
    assert add_usage(total, None) is total
    # A session from before usage was kept per agent: what no agent is named for is the unit's agent's.
    both = add_usage(total, {"prompt_tokens": 1, "completion_tokens": 1, "cost_usd": 0.25}, "bob")
    assert both["by_agent"] == {"bob": {"prompt_tokens": 1, "completion_tokens": 1, "cost_usd": 0.25}}
    spent = spent_by_agent([(both, "ada"), (None, "bob"), (total, None)])
    assert spent == {"bob": both["by_agent"]["bob"], "ada": total}
    # No cost known for the rest: none shown (not $0); a malformed part is left out, not a crash.
    tokens_only = add_usage({"prompt_tokens": 7, "completion_tokens": 1}, {"prompt_tokens": 1, "cost_usd": 0.5}, "bob")
    assert spent_by_agent([(tokens_only, "ada")])["ada"] == {"prompt_tokens": 7, "completion_tokens": 1}
    assert spent_by_agent([({"prompt_tokens": 3, "by_agent": {"x": None}}, "ada")]) == {
        "ada": {"prompt_tokens": 3, "completion_tokens": 0}
    }
    assert spent_by_agent([({"prompt_tokens": 3, "by_agent": "junk"}, "ada")])["ada"]["prompt_tokens"] == 3


def test_each_agent_pays_for_its_own_attempts_of_a_reassigned_unit(project) -> None:
    """ada spends on the unit and fails; reassigned, bob spends and merges it: each agent's usage is
    what it spent (the agents table, `status --json`, an agent's budget), the unit's both."""
    said = {"prompt_tokens": 1200, "completion_tokens": 340, "cost_usd": 0.0421}
    print_usage = {"run": ["sh", "-c", f"printf '%s\\n' '{CLAUDE}'"]}
    script = {"a": [[print_usage, {"exit": 3}], [print_usage, *write_unit("src/a.py", "A = 1\n")]]}
    agents = {name: {"kind": "scripted", "script": "team.toml"} for name in ("ada", "bob")}
    repo = project([{"id": "a", "agent": "ada"}], script, agents=agents)
    assert bosun("run", "--headless", cwd=repo).returncode == 1  # a failed: waits for a human
    assert bosun("reassign", "a", "--to", "bob", cwd=repo).returncode == 0
    assert bosun("resume", "--headless", cwd=repo).returncode == 0
    status = json.loads(bosun("status", "--json", cwd=repo).stdout)
    spent = {a["name"]: a["usage"] for a in status["agents"]}
    assert spent == {"ada": said, "bob": said}, spent
    twice = {"prompt_tokens": 2400, "completion_tokens": 680, "cost_usd": 0.0842}
    assert status["units"][0]["usage"] == twice and status["units"][0]["agent"] == "bob"


def test_activity_tells_busy_waiting_and_idle(project, tmp_path: Path) -> None:
    agents = {
        "ada": {"kind": "scripted", "script": "team.toml"},
        "ext": {"kind": "external"},
        "bob": {"kind": "scripted", "script": "team.toml"},
    }
    repo = project([{"id": "a"}], {"a": [write_unit("src/a.py", "A = 1\n")]}, agents=agents, mode="claim")
    assert bosun("claim", "--agent", "ext", cwd=repo).returncode == 0
    session = open_session(GitRepo(repo))
    try:
        # ada "runs" unit a: give the store a held unit for it, with a log that is quiet or fresh.
        session.store.update("a", owner="ada", attempts=1, started_at=time.time() - 100)
        log = session.dir / "logs" / "a.1.log"
        log.write_text("working\n")
        now = time.time()
        rows = {r["name"]: r for r in agent_rows(session, now=now)}
        assert rows["ada"]["activity"] == "busy" and rows["ada"]["unit"] == "a"
        assert rows["bob"]["activity"] == "idle" and rows["bob"]["unit"] is None
        os.utime(log, (now - QUIET_AFTER_S - 5, now - QUIET_AFTER_S - 5))
        rows = {r["name"]: r for r in agent_rows(session, now=now)}
        assert rows["ada"]["activity"] == "waiting" and rows["ada"]["quiet_s"] >= QUIET_AFTER_S
        assert rows["ada"]["elapsed_s"] >= 100 and rows["ada"]["lease_left_s"] is not None
        # Claimed again for its next attempt: preparing that one (its setup), however quiet.
        session.store.transition("a", "claimed", ("running",), owner="ada", epoch=None)
        rows = {r["name"]: r for r in agent_rows(session, now=now)}
        assert rows["ada"]["activity"] == "preparing" and rows["ada"]["attempt"] == 2, rows["ada"]
    finally:
        session.close()


def test_a_preset_runs_its_cli_quiet_unless_the_agent_passes_the_variable(monkeypatch, tmp_path):
    from bosun.orchestration.agents.launch import agent_env
    from bosun.orchestration.plan import AgentSpec

    def env_of(**extra):
        spec = AgentSpec(name="ada", kind="command", preset="claude-code", **extra)
        return agent_env(spec, task_file=tmp_path / "t", report_file=tmp_path / "r", unit="u", worktree=tmp_path)

    assert env_of()["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"] == "1"
    monkeypatch.setenv("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "0")
    assert env_of(env=("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC",))["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"] == "0"


def test_why_an_agent_stopped_is_what_it_said_last_or_the_error_after_it() -> None:
    from bosun.orchestration.agents.last_words import why_it_stopped

    said = {"type": "assistant", "message": {"content": [{"type": "text", "text": "I'll run the tests now."}]}}
    failed = {"type": "result", "subtype": "error_during_execution", "is_error": True, "result": "rate limited"}
    log = "\n".join(json.dumps(event) for event in (said, failed))
    assert why_it_stopped(log, 1) == "rate limited"  # exiting non-zero: the error after its words
    assert why_it_stopped(log, 0) == "I'll run the tests now."
    assert why_it_stopped("plain output\nlast line\n", 2) == "last line"
    assert why_it_stopped("plain output\n", 0) is None  # a plain log's last line is no reason to give
