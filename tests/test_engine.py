"""The engine end to end: real repositories, real scripted agents (subprocesses), real SQLite."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import AWAIT_GO, BackgroundRun, bosun, first_parent_merges, git, release, write_unit

from bosun.orchestration.gitcmd import GitRepo
from bosun.orchestration.session import open_session

DIAMOND = [
    {"id": "a", "scope": ["src/a.py"]},
    {"id": "b", "depends_on": ["a"], "scope": ["src/b.py"]},
    {"id": "c", "depends_on": ["a"], "scope": ["src/c.py"]},
    {"id": "d", "depends_on": ["b", "c"], "scope": ["src/d.py"]},
    {"id": "e", "depends_on": ["a"], "scope": ["src/e.py"]},
    {"id": "f", "depends_on": ["d", "e"], "scope": ["src/f.py"]},
]


def assert_integration_green(repo: Path) -> list[str]:
    """Every first-parent commit since the base is a two-parent merge whose tree passes the gate."""
    base = git(repo, "rev-parse", "main")
    commits = git(repo, "rev-list", "--first-parent", f"{base}..bosun/integration").split()
    check = tmp = repo.parent / "green-check"
    for commit in commits:
        parents = git(repo, "rev-list", "--parents", "-n", "1", commit).split()[1:]
        assert len(parents) == 2, f"{commit} is not a merge commit"
        git(repo, "worktree", "add", "-q", "--detach", "--force", str(tmp), commit)
        result = subprocess.run([sys.executable, "check.py"], cwd=check, capture_output=True, text=True)
        git(repo, "worktree", "remove", "--force", str(tmp))
        assert result.returncode == 0, f"{commit} fails the gate: {result.stdout}"
    return commits


def events(repo: Path) -> list[dict]:
    session = open_session(GitRepo(repo))
    try:
        return [e.to_json() for e in session.store.events()]
    finally:
        session.close()


def test_diamond_runs_to_all_merged(project) -> None:
    script = {u["id"]: [write_unit(f"src/{u['id']}.py", f"{u['id'].upper()} = 1\n")] for u in DIAMOND}
    repo = project(DIAMOND, script)
    result = bosun("run", "--headless", cwd=repo)
    assert result.returncode == 0, result.stdout + result.stderr
    merged = first_parent_merges(repo)
    assert sorted(merged) == sorted(u["id"] for u in DIAMOND)
    for unit in DIAMOND:
        for dep in unit.get("depends_on", []):
            assert merged.index(dep) < merged.index(unit["id"]), f"{unit['id']} merged before {dep}"
    assert len(assert_integration_green(repo)) == 6
    status = json.loads(bosun("status", "--json", cwd=repo).stdout)
    assert {u["state"] for u in status["units"]} == {"merged"}
    assert status["integration"]["commit"] == git(repo, "rev-parse", "bosun/integration")
    assert all(u["gate"]["passed"] for u in status["units"])
    # The user's branch and working tree were never touched; worktrees are gone after the merge.
    assert git(repo, "status", "--porcelain") == ""
    assert first_parent_merges(repo, "main") == []
    assert not any((repo / ".bosun" / "worktrees").iterdir())


def test_conflict_is_handed_back_with_markers_and_resolved(project) -> None:
    resolved = "X = 1\nY = 2\n"
    attempt_two = [
        {"run": ["grep", "-q", "<<<<<<<", "src/shared.py"], "check": True},
        {"run": ["sh", "-c", 'grep -q \'"reason": "conflict"\' "$BOSUN_TASK_FILE"'], "check": True},
        {"write": "src/shared.py", "content": resolved},
        {"commit": "resolve the conflict"},
    ]
    script = {
        "x": [write_unit("src/shared.py", "X = 1\n"), attempt_two],
        "y": [write_unit("src/shared.py", "Y = 2\n"), attempt_two],
    }
    repo = project([{"id": "x"}, {"id": "y"}], script)
    result = bosun("run", "--headless", cwd=repo)
    assert result.returncode == 0, result.stdout + result.stderr
    conflicts = [e for e in events(repo) if e["kind"] == "conflicted"]
    assert len(conflicts) == 1 and conflicts[0]["files"] == ["src/shared.py"]
    assert sorted(first_parent_merges(repo)) == ["x", "y"]
    assert git(repo, "show", "bosun/integration:src/shared.py") + "\n" == resolved
    assert_integration_green(repo)


def test_gate_failure_is_handed_back_with_output_and_fixed(project) -> None:
    fix = [
        {"run": ["sh", "-c", 'grep -q "broken files" "$BOSUN_TASK_FILE"'], "check": True},
        *write_unit("src/calc.py", "VALUE = 2\n", "fix"),
    ]
    repo = project(
        [{"id": "calc", "scope": ["src/calc.py"]}], {"calc": [write_unit("src/calc.py", "BROKEN = 1\n"), fix]}
    )
    result = bosun("run", "--headless", cwd=repo)
    assert result.returncode == 0, result.stdout + result.stderr
    session = open_session(GitRepo(repo))
    runs = session.store.gate_runs("calc")
    unit = session.store.unit("calc")
    session.close()
    assert [r.passed for r in runs] == [False, True]
    assert "broken files" in runs[0].output_tail
    assert unit.attempts == 2 and unit.merged_commit == runs[1].commit_id
    assert_integration_green(repo)


def test_gate_failures_stop_at_max_attempts_and_wait_for_a_human(project) -> None:
    tries = [write_unit("src/calc.py", f"BROKEN = {n}\n") for n in (1, 2, 3)]
    repo = project([{"id": "calc"}], {"calc": tries}, max_attempts=2)
    result = bosun("run", "--headless", cwd=repo)
    assert result.returncode == 1
    status = json.loads(bosun("status", "--json", cwd=repo).stdout)
    assert status["units"][0]["state"] == "gate_failed" and status["units"][0]["attempts"] == 2
    assert git(repo, "rev-parse", "bosun/integration") == git(repo, "rev-parse", "main")


def test_human_decisions_from_a_second_process(project) -> None:
    note_checked = [
        {"run": ["sh", "-c", 'grep -q "use a constant" "$BOSUN_TASK_FILE"'], "check": True},
        *write_unit("src/two.py", "TWO = 2\n", "use a constant"),
    ]
    script = {
        "one": [write_unit("src/one.py", "ONE = 1\n")],
        "two": [write_unit("src/two.py", "TWO = 1 + 1\n"), note_checked],
        "three": [[{"exit": 3}], write_unit("src/three.py", "THREE = 3\n")],
    }
    units = [  # 'two' after 'one': approving 'one' lands it at once (nothing is stacked below it)
        {"id": "one", "scope": ["src/one.py"]},
        {"id": "two", "scope": ["src/two.py"], "depends_on": ["one"]},
        {"id": "three", "scope": ["src/three.py"], "agent": "ada"},
    ]
    repo = project(units, script, merge="manual")
    run = BackgroundRun(repo, "run", "--headless", "--json", "--wait")
    try:
        run.wait_for("awaiting_approval", "one")
        approved = bosun("approve", "one", cwd=repo)
        assert approved.returncode == 0 and "applied" in approved.stdout, approved.stderr
        run.wait_for("merged", "one")
        run.wait_for("awaiting_approval", "two")
        assert bosun("reject", "two", "--note", "use a constant", cwd=repo).returncode == 0
        run.wait_for("rejected", "two")
        run.wait_for("awaiting_approval", "two")
        assert bosun("approve", "two", cwd=repo).returncode == 0
        run.wait_for("failed", "three")
        wrong = bosun("approve", "three", cwd=repo)
        assert wrong.returncode == 2 and "failed" in wrong.stderr
        assert bosun("reassign", "three", "--to", "bob", cwd=repo).returncode == 0
        reassigned = run.wait_for("reassigned", "three")
        claimed = run.wait_for("claimed", "three", after=reassigned["seq"])
        assert claimed["owner"] == "bob"
        run.wait_for("awaiting_approval", "three", after=claimed["seq"])
        assert bosun("approve", "three", cwd=repo).returncode == 0
        assert run.finish() == 0
    finally:
        run.proc.kill()
    assert first_parent_merges(repo) == ["one", "two", "three"]
    assert git(repo, "show", "bosun/integration:src/two.py") == "TWO = 2"
    assert_integration_green(repo)


def test_work_kept_unchanged_after_a_rejection_goes_back_to_the_human(project) -> None:
    """Rejected after its gate passed, the agent reads the note and changes nothing (exit 0, no new
    commit): the same commit is checked and gated again and waits for approval, not `failed` with
    nothing left to approve. An agent that exits non-zero still fails; handed back from there, the
    turned-down commit is still the one it may keep."""
    told = {"run": ["sh", "-c", 'grep -q passed_gate "$BOSUN_TASK_FILE"'], "check": True}
    script = {
        "two": [write_unit("src/two.py", "TWO = 2\n"), [told]],
        "three": [write_unit("src/three.py", "THREE = 3\n"), [told, {"exit": 4}], [told]],
    }
    # 'three' after 'two': with one gate slot units stack on those waiting for their human, and
    # approving 'two' must land it at once (it would wait for 'three' were it stacked on it).
    units = [
        {"id": "two", "scope": ["src/two.py"]},
        {"id": "three", "scope": ["src/three.py"], "depends_on": ["two"]},
    ]
    repo = project(units, script, merge="manual")
    run = BackgroundRun(repo, "run", "--headless", "--json", "--wait")
    try:
        first = run.wait_for("submitted", "two")["commit"]
        gated = run.wait_for("awaiting_approval", "two")
        assert bosun("reject", "two", "--note", "is the name right?", cwd=repo).returncode == 0
        submitted = run.wait_for("submitted", "two", after=gated["seq"])
        assert submitted["commit"] == first and submitted["kept"] is True, submitted
        run.wait_for("awaiting_approval", "two", after=submitted["seq"])
        assert bosun("approve", "two", cwd=repo).returncode == 0
        run.wait_for("merged", "two")
        gated = run.wait_for("awaiting_approval", "three")
        assert bosun("reject", "three", "--note", "really?", cwd=repo).returncode == 0
        failed = run.wait_for("failed", "three", after=gated["seq"])
        assert failed["error"].startswith("agent exited 4 without a new commit"), failed
        assert bosun("handback", "three", cwd=repo).returncode == 0
        submitted = run.wait_for("submitted", "three", after=failed["seq"])
        assert submitted["kept"] is True, submitted
        run.wait_for("awaiting_approval", "three", after=submitted["seq"])
        assert bosun("approve", "three", cwd=repo).returncode == 0
        assert run.finish() == 0
    finally:
        run.proc.kill()
    assert first_parent_merges(repo) == ["two", "three"]
    assert git(repo, "show", "bosun/integration:src/two.py") == "TWO = 2"


def test_a_turned_down_commit_stays_keepable_until_something_judges_it() -> None:
    """`passed_gate` is set by a rejection and carried through a failed attempt or a takeover, but
    a side state's verdict on that commit (a failed gate, a conflict, out of scope) ends it."""
    from bosun.orchestration.agents.attempt import handback_for
    from bosun.orchestration.store import UnitRow

    commit = "c" * 40
    rejected = handback_for(UnitRow("u", 0, "awaiting_approval", head_commit=commit), "why?", "human")
    assert rejected["passed_gate"] == commit
    for state in ("ready", "running", "failed"):
        row = UnitRow("u", 0, state, head_commit=commit, handback=rejected)
        assert handback_for(row, None)["passed_gate"] == commit, state
    for state in ("gate_failed", "conflicted", "out_of_scope"):
        assert "passed_gate" not in handback_for(UnitRow("u", 0, state, head_commit=commit, handback=rejected), None)
    moved = UnitRow("u", 0, "failed", head_commit="d" * 40, handback=rejected)  # a new commit since
    assert "passed_gate" not in handback_for(moved, None)


def test_the_prompt_tells_a_rejected_agent_it_may_keep_its_work() -> None:
    from bosun.orchestration.agents.launch import compose_prompt

    task = {"title": "Two", "unit": "two", "attempt": 2, "prompt": "make TWO", "scope": [], "branch": "bosun/unit/two"}
    kept = "exit without a new commit and your work goes back for approval as it is"
    rejected = {"reason": "human", "note": "is the name right?", "files": [], "passed_gate": "0" * 40}
    assert kept in compose_prompt({**task, "handback": rejected})
    assert kept not in compose_prompt({**task, "handback": {**rejected, "passed_gate": None}})


def test_cancel_from_a_second_process_stops_a_running_agent(project) -> None:
    script = {"slow": [[{"sleep": 30}, *write_unit("src/slow.py", "S = 1\n")]]}
    repo = project([{"id": "slow"}], script)
    run = BackgroundRun(repo, "run", "--headless", "--json", "--wait")
    try:
        running = run.wait_for("running", "slow")
        assert bosun("cancel", "slow", cwd=repo).returncode == 0
        run.wait_for("cancelled", "slow")
        assert run.finish() == 0
    finally:
        run.proc.kill()
    pid = running.get("pid")
    assert first_parent_merges(repo) == []
    session = open_session(GitRepo(repo))
    assert session.store.unit("slow").state == "cancelled"
    session.close()
    if pid:
        assert not Path(f"/proc/{pid}").exists()


def test_sigkill_mid_session_then_resume_merges_every_unit_once(project) -> None:
    units = [
        {"id": f"u{i}", "scope": [f"src/u{i}.py"], **({"depends_on": [f"u{i - 2}"]} if i >= 2 else {})}
        for i in range(6)
    ]
    held = ("u4", "u5")  # held by the test until the supervisor is killed: the session is mid-way then
    script = {
        u["id"]: [[*([AWAIT_GO] if u["id"] in held else []), *write_unit(f"src/{u['id']}.py", f"V{u['id']} = 1\n")]]
        for u in units
    }
    repo = project(units, script)
    run = BackgroundRun(repo, "run", "--headless", "--json")
    run.wait_for("merged")
    run.wait_for("running", "u4", timeout=120)
    run.proc.send_signal(signal.SIGKILL)
    run.proc.wait(timeout=10)
    before = first_parent_merges(repo)
    assert 1 <= len(before) < 6
    resumed = BackgroundRun(repo, "resume", "--headless", "--json")
    try:
        for unit in held:  # now they may go on
            resumed.wait_for("running", unit, timeout=120)
            release(repo, unit)
        assert resumed.finish(timeout=120) == 0
    finally:
        resumed.proc.kill()
    merged = first_parent_merges(repo)
    assert sorted(merged) == sorted(u["id"] for u in units) and merged[: len(before)] == before
    assert_integration_green(repo)


def test_a_merge_interrupted_after_its_intent_is_finished_exactly_once(project) -> None:
    """A crash between recording the intent and moving the ref: resume moves it once."""
    repo = project([{"id": "a"}], {"a": [write_unit("src/a.py", "A = 1\n")]}, merge="manual")
    assert bosun("run", "--headless", cwd=repo).returncode == 1  # waits for approval
    session = open_session(GitRepo(repo))
    unit = session.store.unit("a")
    head = session.integration_head()
    session.store.add_intent("a", session.integration_ref, head, unit.candidate)
    session.close()
    result = bosun("resume", "--headless", cwd=repo)
    assert result.returncode == 0, result.stdout + result.stderr
    assert first_parent_merges(repo) == ["a"]
    assert git(repo, "rev-parse", "bosun/integration") == unit.candidate
    # And when the ref had already moved before the crash, resume does not move it again.
    assert bosun("resume", "--headless", cwd=repo).returncode == 0
    assert first_parent_merges(repo) == ["a"]


def test_an_agent_that_exits_without_a_commit_fails(project) -> None:
    repo = project([{"id": "lazy"}], {"lazy": [[{"write": "src/lazy.py", "content": "L = 1\n"}]]})
    assert bosun("run", "--headless", cwd=repo).returncode == 1
    kinds = [(e["kind"], e.get("error", "")) for e in events(repo) if e["unit"] == "lazy"]
    assert ("failed", "agent exited 0 without a new commit") in kinds


def test_a_cli_that_gives_up_without_a_commit_says_why_in_the_failure(project) -> None:
    """A CLI agent's log is its structured stream: the failure names what the model said last,
    not the stream's last JSON line (and says nothing more when it said nothing)."""
    said = {
        "type": "assistant",
        "message": {"content": [{"type": "text", "text": "I could not apply it:\nno parser."}]},
    }
    result = {"type": "result", "subtype": "success", "is_error": False, "result": "done", "usage": {}}
    lines = "\n".join(json.dumps(event) for event in (said, result))
    script = {"lazy": [[{"run": ["sh", "-c", f"printf '%s\\n' '{lines}'"]}]]}
    repo = project([{"id": "lazy"}], script)
    assert bosun("run", "--headless", cwd=repo).returncode == 1
    errors = [e.get("error", "") for e in events(repo) if e["unit"] == "lazy" and e["kind"] == "failed"]
    assert errors == ["agent exited 0 without a new commit: I could not apply it: no parser."], errors


def test_out_of_scope_commits_are_held(project) -> None:
    repo = project(
        [{"id": "narrow", "scope": ["src/narrow.py"]}],
        {"narrow": [[*write_unit("src/narrow.py", "N = 1\n"), *write_unit("src/other.py", "O = 1\n")]]},
        handback="manual",
    )
    assert bosun("run", "--headless", cwd=repo).returncode == 1
    status = json.loads(bosun("status", "--json", cwd=repo).stdout)
    unit = status["units"][0]
    assert unit["state"] == "out_of_scope" and unit["detail"]["files"] == ["src/other.py"]
    assert first_parent_merges(repo) == []


def _alive(pid_file: Path) -> bool:
    pid = int(pid_file.read_text())
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "Z" not in Path(f"/proc/{pid}/stat").read_text().split()[2]


def test_an_agent_past_its_timeout_is_killed_with_its_whole_group(project, tmp_path: Path) -> None:
    pid_file = tmp_path / "grandchild.pid"
    spawn = ["sh", "-c", f"sleep 60 & echo $! > {pid_file}; wait"]
    # Unsandboxed: the process group kill itself (the sandboxed case is in test_sandbox.py).
    repo = project([{"id": "slow", "timeout": "1s"}], {"slow": [[{"run": spawn}]]}, sandbox="off")
    started = time.monotonic()
    result = bosun("run", "--headless", cwd=repo)
    assert result.returncode == 1 and time.monotonic() - started < 30
    assert ("failed", "timed out after 1s") in [(e["kind"], e.get("error")) for e in events(repo)]
    assert not _alive(pid_file), "the agent's background process survived the timeout"


def test_a_gate_past_its_timeout_is_killed_and_fails(project, tmp_path: Path) -> None:
    pid_file = tmp_path / "gate-child.pid"
    repo = project(
        [{"id": "a"}],
        {"a": [write_unit("src/a.py", "A = 1\n")]},
        handback="manual",
        gate=f"sleep 60 & echo $! > {pid_file}; wait",
        gate_timeout="1s",
        sandbox="off",
    )
    result = bosun("run", "--headless", cwd=repo)
    assert result.returncode == 1
    status = json.loads(bosun("status", "--json", cwd=repo).stdout)
    assert status["units"][0]["state"] == "gate_failed"
    assert status["units"][0]["gate"]["cause"] == "timed out after 1s"
    assert not _alive(pid_file), "the gate's background process survived the timeout"
    assert first_parent_merges(repo) == []


def test_an_integration_branch_moved_behind_bosuns_back_stops_the_session(project) -> None:
    repo = project([{"id": "a"}], {"a": [write_unit("src/a.py", "A = 1\n")]}, merge="manual")
    assert bosun("run", "--headless", cwd=repo).returncode == 1  # 'a' awaits approval
    bosun_head = git(repo, "rev-parse", "bosun/integration")
    git(repo, "commit", "--allow-empty", "-q", "-m", "someone else's commit")
    git(repo, "update-ref", "refs/heads/bosun/integration", "HEAD")
    assert bosun("approve", "a", cwd=repo).returncode == 0  # queued for the next supervisor
    result = bosun("resume", "--headless", cwd=repo)
    assert result.returncode == 2
    assert "only Bosun moves it" in result.stderr and bosun_head in result.stderr
    assert git(repo, "rev-parse", "bosun/integration") == git(repo, "rev-parse", "HEAD")  # left alone
    session = open_session(GitRepo(repo))
    assert session.store.unit("a").state != "merged"
    session.close()


def test_cancelling_with_dependents_lets_the_session_finish(project) -> None:
    units = [
        {"id": "base"},
        {"id": "mid", "depends_on": ["base"]},
        {"id": "top", "depends_on": ["mid"]},
        {"id": "other"},
    ]
    script = {"base": [[{"exit": 3}]], "other": [write_unit("src/other.py", "O = 1\n")]}
    repo = project(units, script)
    assert bosun("run", "--headless", cwd=repo).returncode == 1  # base failed; mid and top wait on it
    assert bosun("cancel", "base", cwd=repo).returncode == 0  # queued for the next supervisor
    paused = bosun("resume", "--headless", "--json", cwd=repo)
    assert paused.returncode == 1
    blocked = [json.loads(line) for line in paused.stdout.splitlines() if '"blocked"' in line]
    assert blocked and blocked[0]["units"] == ["mid", "top"]
    assert bosun("cancel", "mid", "--with-dependents", cwd=repo).returncode == 0
    assert bosun("resume", "--headless", cwd=repo).returncode == 0  # everything merged or cancelled
    states = {u["id"]: u["state"] for u in json.loads(bosun("status", "--json", cwd=repo).stdout)["units"]}
    assert states == {"base": "cancelled", "mid": "cancelled", "top": "cancelled", "other": "merged"}
