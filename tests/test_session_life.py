"""Starting over, changing the plan mid-session and the command line's manners (issue 15): real
git, real scripted agents, the real CLI in subprocesses."""

from __future__ import annotations

import json
import subprocess
import sys
import time

from conftest import AWAIT_GO, BackgroundRun, bosun, first_parent_merges, git, release, toml_plan, write_unit


def _status(repo) -> dict:
    return json.loads(bosun("status", "--json", cwd=repo).stdout)


def test_reset_archives_the_session_and_puts_the_branches_back(project):
    repo = project(
        [{"id": "a"}, {"id": "b"}],
        {"a": [write_unit("src/a.py", "A = 1\n")], "b": [write_unit("src/b.py", "B = 1\n")]},
        merge="manual",
    )
    assert bosun("run", "--headless", "--auto-approve", cwd=repo).returncode == 0
    assert sorted(first_parent_merges(repo)) == ["a", "b"]
    assert git(repo, "for-each-ref", "refs/bosun/")

    again = bosun("run", "--headless", cwd=repo)  # a second run may build on what this session made
    assert again.returncode != 2 and "ahead of" not in again.stderr, again.stderr
    assert "the last session here had finished; kept in .bosun/archive/" in again.stderr, again.stderr
    refused = bosun("reset", cwd=repo)  # no terminal, no --yes: it asks first, so it refuses
    assert refused.returncode == 2 and "--yes" in refused.stderr
    done = bosun("reset", "--yes", cwd=repo)
    assert done.returncode == 0, done.stderr
    assert git(repo, "rev-parse", "bosun/integration") == git(repo, "rev-parse", "main")
    assert git(repo, "for-each-ref", "refs/bosun/") == ""
    archived = list((repo / ".bosun" / "archive").iterdir())  # the finished session, then the reset one
    assert len(archived) == 2 and all((a / "state.db").exists() and (a / "logs").is_dir() for a in archived)
    assert not (repo / ".bosun" / "state.db").exists()

    fresh = bosun("run", "--headless", "--auto-approve", cwd=repo)
    assert fresh.returncode == 0, fresh.stderr
    # a and b run at once, so either may merge first (the sandbox's start-up shifts the race).
    assert sorted(first_parent_merges(repo)) == ["a", "b"], "the new session started from main, not the old merges"


def test_a_run_over_an_integration_branch_it_did_not_make_says_so_and_stops(project):
    repo = project([{"id": "a"}], {"a": [write_unit("src/a.py", "A = 1\n")]})
    assert bosun("run", "--headless", cwd=repo).returncode == 0
    head = git(repo, "rev-parse", "bosun/integration")
    subprocess.run(["rm", "-rf", str(repo / ".bosun")], check=True)
    result = bosun("run", "--headless", cwd=repo)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "ahead of 'main'" in result.stderr and "bosun reset" in result.stderr
    assert git(repo, "rev-parse", "bosun/integration") == head, "nothing moved"


def test_reload_adds_units_and_agents_and_refuses_what_cannot_apply(project):
    units = [{"id": "a"}, {"id": "later", "depends_on": ["a"]}]
    script = {
        "a": [write_unit("src/a.py", "A = 1\n")],
        "later": [write_unit("src/later.py", "L = 1\n")],
        "new": [write_unit("src/new.py", "N = 1\n")],
    }
    repo = project(units, script, merge="manual")
    assert bosun("run", "--headless", cwd=repo).returncode == 1  # "a" waits for approval
    assert _status(repo)["units"][0]["state"] == "awaiting_approval"

    plan = repo / "bosun.toml"
    agents = {
        "ada": {"kind": "scripted", "script": "team.toml"},
        "bob": {"kind": "scripted", "script": "team.toml"},
        "me": {"kind": "external"},
    }
    original = plan.read_text()
    plan.write_text(toml_plan([{"id": "later"}], agents, merge="manual"))
    removed = bosun("reload", cwd=repo)  # "a" has started: it cannot leave the plan
    assert removed.returncode == 2 and "unit 'a'" in removed.stderr and "cannot leave the plan" in removed.stderr
    plan.write_text(
        toml_plan(
            [{"id": "a", "prompt": "do it differently"}, {"id": "later", "depends_on": ["a"]}], agents, merge="manual"
        )
    )
    changed = bosun("reload", cwd=repo)
    assert changed.returncode == 2 and "can change only before it starts" in changed.stderr
    plan.write_text(toml_plan([{"id": "a"}, {"id": "later", "depends_on": ["later"]}], agents, merge="manual"))
    assert bosun("reload", cwd=repo).returncode == 2  # invalid: nothing applied
    assert [u["id"] for u in _status(repo)["units"]] == ["a", "later"]

    plan.write_text(
        original.replace('[[units]]\nprompt = "do later"', '[[units]]\nprompt = "do later, well"')
        + '[agents.me]\nkind = "external"\n[[units]]\nprompt = "do new"\nid = "new"\n'
    )
    applied = bosun("reload", cwd=repo)
    assert applied.returncode == 0, applied.stderr
    assert "new units: new" in applied.stdout and "new agents: me" in applied.stdout
    assert [u["id"] for u in _status(repo)["units"]] == ["a", "later", "new"]
    assert bosun("reassign", "later", "--to", "me", cwd=repo).returncode == 2  # pending: not a reassign state
    assert bosun("reload", cwd=repo).stdout.startswith("bosun reload: the plan file is as the session runs it")

    assert bosun("approve", "a", cwd=repo).returncode == 0
    resumed = bosun("resume", "--headless", "--auto-approve", cwd=repo)
    assert resumed.returncode == 0, resumed.stderr
    assert sorted(first_parent_merges(repo)) == ["a", "later", "new"]


def test_resume_applies_an_edited_plan_or_refuses_it_and_writes_nothing(project):
    repo = project(
        [{"id": "a"}],
        {"a": [write_unit("src/a.py", "A = 1\n")], "b": [write_unit("src/b.py", "B = 1\n")]},
        merge="manual",
    )
    assert bosun("run", "--headless", cwd=repo).returncode == 1
    plan = repo / "bosun.toml"
    events_before = _events(repo)
    plan.write_text(plan.read_text().replace('id = "a"', 'id = "a"\ndepends_on = ["a"]'))
    refused = bosun("resume", "--headless", cwd=repo)
    assert refused.returncode == 2 and "itself" in refused.stderr
    assert _events(repo) == events_before, "a refused resume writes no event"

    plan.write_text(plan.read_text().replace('\ndepends_on = ["a"]', "") + '[[units]]\nid = "b"\nprompt = "b"\n')
    assert bosun("approve", "a", cwd=repo).returncode == 0
    resumed = bosun("resume", "--headless", "--auto-approve", cwd=repo)
    assert resumed.returncode == 0, resumed.stderr
    assert "changed since the session started; applied: new units: b" in resumed.stderr
    assert sorted(first_parent_merges(repo)) == ["a", "b"]


def _events(repo) -> int:
    from bosun.orchestration.gitcmd import GitRepo
    from bosun.orchestration.session import open_session

    session = open_session(GitRepo(repo))
    try:
        return session.store.last_seq()
    finally:
        session.close()


def test_a_resume_while_a_supervisor_runs_is_refused_without_an_event(project):
    repo = project([{"id": "a"}], {"a": [[AWAIT_GO] + write_unit("src/a.py", "A = 1\n")]})
    run = BackgroundRun(repo, "run", "--headless", "--json")
    run.wait_for("running", "a")
    before = _events(repo)
    refused = bosun("resume", "--headless", cwd=repo)
    assert refused.returncode == 2 and "already running" in refused.stderr
    assert _events(repo) == before
    release(repo, "a")
    assert run.finish() == 0


def test_flags_that_cannot_take_effect_say_so(project):
    repo = project([{"id": "a"}], {"a": [write_unit("src/a.py", "A = 1\n")]})
    result = bosun("run", "--headless", "--max-agents", "8", cwd=repo)
    assert result.returncode == 0
    assert "--max-agents 8, but the plan has 2 agent(s) Bosun starts" in result.stderr


def test_a_closed_pipe_ends_quietly(project):
    """Far more than a pipe holds, read by a reader that leaves after two lines."""
    repo = project([{"id": f"unit-number-{i}"} for i in range(2000)], {})
    shell = subprocess.run(
        f"'{sys.executable}' -m bosun.app.cli.main graph --format json | head -2; echo \"exit ${{PIPESTATUS[0]}}\"",
        shell=True,
        executable="/bin/bash",
        cwd=repo,
        capture_output=True,
        text=True,
    )
    assert len(shell.stdout.splitlines()) == 3 and shell.stdout.endswith("exit 0\n")
    assert "Traceback" not in shell.stderr and "BrokenPipe" not in shell.stderr, shell.stderr


def test_a_headless_run_stopped_with_sigterm_stops_its_agents_and_status_says_none_runs(project, tmp_path):
    """`kill PID` (a service manager, a cancelled CI job) ends a headless run as Ctrl+C does: an
    unsandboxed agent (no `--die-with-parent` box) is stopped with it, not left to run with nobody
    to collect it; `bosun status` then says no supervisor runs the session."""
    import os
    import signal

    marker = tmp_path / "agent.pid"
    agents = {"ada": {"kind": "command", "command": ["sh", "-c", f"echo $$ > {marker}; exec sleep 300"]}}
    repo = project([{"id": "a"}], {}, agents=agents, sandbox="off")
    run = BackgroundRun(repo, "run", "--headless", "--json")
    run.wait_for("running", "a")
    deadline = time.monotonic() + 30
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    agent = int(marker.read_text())
    run.proc.send_signal(signal.SIGTERM)
    assert run.proc.wait(timeout=60) == 143
    assert "stopped (SIGTERM); `bosun resume` continues the session" in run.proc.stderr.read()
    try:
        os.kill(agent, 0)
        alive = open(f"/proc/{agent}/stat").read().split()[2] != "Z"
    except (ProcessLookupError, FileNotFoundError):
        alive = False
    assert not alive, "the agent outlived its supervisor"
    assert _status(repo)["supervisor"] is None
    assert "no supervisor runs this session" in bosun("status", cwd=repo).stdout


def test_a_headless_run_interrupted_with_ctrl_c_says_interrupted(project):
    """Ctrl+C (SIGINT) cancels the run's task as SIGTERM does, and is told apart from it."""
    import signal

    repo = project([{"id": "a"}], {"a": [[AWAIT_GO, *write_unit("src/a.py", "A = 1\n")]]})
    run = BackgroundRun(repo, "run", "--headless", "--json")
    run.wait_for("running", "a")
    run.proc.send_signal(signal.SIGINT)
    assert run.proc.wait(timeout=60) == 130
    assert "interrupted; `bosun resume` continues the session" in run.proc.stderr.read()
