"""A unit that starts waiting for a human is announced (an event, the plan's notify hook); an
agent over its budget is stopped and its unit waits for a human (issue 15)."""

from __future__ import annotations

import json
import os

from conftest import AWAIT_GO, BackgroundRun, bosun, write_unit

AIDER_USAGE = "Tokens: 5.0k sent, 1.2k received. Cost: $0.05 message, $0.05 session."


def test_a_unit_waiting_for_approval_is_announced_to_the_notify_hook(project, tmp_path):
    heard = tmp_path / "heard.jsonl"
    repo = project(
        [{"id": "a"}],
        {"a": [write_unit("src/a.py", "A = 1\n")]},
        merge="manual",
        notify=f"cat >> '{heard}'; echo >> '{heard}'",
    )
    result = bosun("run", "--headless", "--json", cwd=repo)
    assert result.returncode == 1
    events = [json.loads(line) for line in result.stdout.splitlines()]
    waiting = [e for e in events if e["kind"] == "waiting_for_human"]
    assert [(e["unit"], e["state"]) for e in waiting] == [("a", "awaiting_approval")]
    told = [json.loads(line) for line in heard.read_text().splitlines() if line.strip()]
    assert [(e["unit"], e["kind"], e["state"]) for e in told] == [("a", "waiting_for_human", "awaiting_approval")]


def test_the_plan_checks_budgets_and_notify(tmp_path):
    plan = tmp_path / "bosun.toml"
    plan.write_text(
        '[project]\nnotify = 3\nbudget = { tokens = -1 }\n[agents.a]\nkind = "external"\n'
        'budget = { dollars = 2 }\n[[units]]\nid = "x"\nprompt = "p"\nbudget = { usd = "lots" }\n'
    )
    result = bosun("validate", str(plan), cwd=tmp_path)
    assert result.returncode == 2
    assert "project.notify: must be a command" in result.stderr
    assert "project.budget: tokens must be a whole number above 0" in result.stderr
    assert "agent 'a', budget: must be a table with tokens and/or usd" in result.stderr
    assert "unit 'x', budget: usd must be a number above 0" in result.stderr


def test_an_agent_over_its_units_budget_is_stopped_and_the_unit_waits(project):
    steps = [{"run": ["sh", "-c", f"echo '{AIDER_USAGE}'"]}, AWAIT_GO, *write_unit("src/a.py", "A = 1\n")]
    repo = project([{"id": "a", "budget": {"tokens": 1000}}], {"a": [steps]})
    run = BackgroundRun(repo, "run", "--headless", "--json")
    started = run.wait_for("running", "a")
    over = run.wait_for("over_budget", "a")
    assert "unit budget: 6200 tokens spent, budget 1000" in over["error"]
    waiting = run.wait_for("waiting_for_human", "a")
    assert waiting["state"] == "failed"
    assert run.finish() == 1
    assert not os.path.exists(f"/proc/{started['pid']}"), "the agent was stopped"
    status = json.loads(bosun("status", "--json", cwd=repo).stdout)
    unit = status["units"][0]
    assert unit["state"] == "failed"


def test_a_spent_session_budget_starts_nothing_new(project):
    steps = [{"run": ["sh", "-c", f"echo '{AIDER_USAGE}'"]}, *write_unit("src/a.py", "A = 1\n")]
    repo = project(
        [{"id": "a"}, {"id": "b", "depends_on": ["a"]}],
        {"a": [steps], "b": [write_unit("src/b.py", "B = 1\n")]},
        budget={"usd": 0.01},
    )
    result = bosun("run", "--headless", "--json", cwd=repo)
    assert result.returncode == 1
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert any(e["kind"] == "over_budget" and "session budget" in e["error"] for e in events)
    assert not any(e["kind"] == "running" and e["unit"] == "b" for e in events), "nothing new started"
