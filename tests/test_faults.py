"""Fault injection: each named fault point (orchestration/faults.py) of a state-changing path is
hit by a real process that SIGKILLs itself there; then the session is resumed or the command
run again, and the invariants are checked:

- each unit merged at most once, and none lost (the session runs to the end);
- the integration branch only ever at gated trees (every first-parent commit passes the gate);
- no stranded claim (a dead claimer's unit comes back within its lease);
- no process left behind;
- the event log agrees with the units (each unit's last transition event names its state).

`BOSUN_FAULT` reaches only Bosun's own processes: agents and gates get a scrubbed environment.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest
from conftest import AWAIT_GO, BackgroundRun, bosun, first_parent_merges, git, write_unit
from test_engine import assert_integration_green

from bosun.orchestration.faults import POINTS
from bosun.orchestration.gitcmd import GitRepo
from bosun.orchestration.session import open_session

KILLED = -signal.SIGKILL


def crash(*args: str, at: str, cwd: Path) -> None:
    assert at in POINTS
    result = bosun(*args, cwd=cwd, env={"BOSUN_FAULT": at})
    assert result.returncode == KILLED, f"{at} was not reached: {result.returncode} {result.stderr}"


def check_invariants(repo: Path, units: list[str]) -> None:
    merged = first_parent_merges(repo)
    assert len(merged) == len(set(merged)), f"a unit merged twice: {merged}"
    assert sorted(merged) == sorted(units), f"units lost: {sorted(set(units) - set(merged))}"
    assert_integration_green(repo)
    session = open_session(GitRepo(repo))
    try:
        rows = session.store.units()
        assert not [u.id for u in rows if u.state in ("claimed", "running")], "a stranded claim"
        last_to: dict[str, str] = {}
        for event in session.store.events():
            if event.unit and "to" in event.data:
                last_to[event.unit] = event.data["to"]
        assert {u.id: u.state for u in rows} == {u: last_to.get(u, "pending") for u in (r.id for r in rows)}
    finally:
        session.close()
    assert not processes_in(repo), "a process was left running"


def processes_in(repo: Path) -> list[int]:
    """Live processes whose working directory or command line is inside the repository."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cwd = os.readlink(entry / "cwd")
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and (cwd.startswith(str(repo)) or str(repo) in cmdline):
            found.append(int(entry.name))
    return found


def wait_until(check, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout:g}s")
        time.sleep(0.1)


UNITS = [{"id": "a"}, {"id": "b", "depends_on": ["a"]}, {"id": "c"}]
SCRIPT = {u["id"]: [write_unit(f"src/{u['id']}.py", f"{u['id'].upper()} = 1\n")] for u in UNITS}


@pytest.mark.parametrize("point", ["handout.prepared", "agent.started"])
def test_the_supervisor_killed_mid_hand_out_resumes_and_loses_nothing(project, point):
    repo = project(UNITS, SCRIPT)
    crash("run", "--headless", at=point, cwd=repo)
    resumed = bosun("resume", "--headless", cwd=repo)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    check_invariants(repo, ["a", "b", "c"])


def test_git_lock_files_a_killed_supervisor_left_do_not_fail_its_units(project):
    """Killed while writing a unit's branch in the agents' clone (under git's `X.lock`) or its
    worktree's index, a supervisor leaves the lock file behind; resumed, the unit must not fail on
    "File exists"."""
    repo = project(UNITS, SCRIPT)
    crash("run", "--headless", at="handout.prepared", cwd=repo)
    clone = repo / ".bosun" / "agents.git"
    for unit in ("b", "c"):
        lock = clone / "refs" / "heads" / "bosun" / "unit" / f"{unit}.lock"
        lock.parent.mkdir(parents=True, exist_ok=True)
        lock.write_text("0" * 40 + "\n")
        (clone / "worktrees" / unit).mkdir(parents=True, exist_ok=True)
        (clone / "worktrees" / unit / "index.lock").write_bytes(b"")
    resumed = bosun("resume", "--headless", cwd=repo)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    check_invariants(repo, ["a", "b", "c"])


def _claim_mode(project):
    return project(
        [{"id": "one", "scope": ["src/one.py"]}], {}, agents={"me": {"kind": "external"}}, mode="claim", lease="2s"
    )


def _finish_claimed(repo: Path) -> None:
    """Claim, commit, submit and gate the unit, as an external agent and its supervisor would."""
    claimed = bosun("claim", "--agent", "me", cwd=repo)
    assert claimed.returncode == 0, claimed.stderr
    task = json.loads(claimed.stdout)
    work = Path(task["worktree"])
    (work / "src").mkdir(exist_ok=True)
    (work / "src" / "one.py").write_text("ONE = 1\n")
    git(work, "add", "-A")
    git(work, "commit", "-qm", "one")
    assert bosun("submit", "one", "--token", str(task["token"]), cwd=repo).returncode == 0
    resumed = bosun("resume", "--headless", cwd=repo)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr


def _ready_again(repo: Path) -> bool:
    board = json.loads(bosun("board", "--json", cwd=repo).stdout)
    return [u["unit"] for u in board["ready"]] == ["one"]


@pytest.mark.parametrize("point", ["claim.won", "claim.prepared"])
def test_a_claimer_killed_mid_claim_strands_nothing_past_its_lease(project, point):
    repo = _claim_mode(project)
    crash("claim", "--agent", "me", at=point, cwd=repo)
    wait_until(lambda: _ready_again(repo), "the dead claimer's unit coming back")
    _finish_claimed(repo)
    check_invariants(repo, ["one"])


def test_a_submit_killed_after_fetching_is_submitted_again_and_merged_once(project):
    repo = _claim_mode(project)
    task = json.loads(bosun("claim", "--agent", "me", cwd=repo).stdout)
    work = Path(task["worktree"])
    (work / "src").mkdir(exist_ok=True)
    (work / "src" / "one.py").write_text("ONE = 1\n")
    git(work, "add", "-A")
    git(work, "commit", "-qm", "one")
    crash("submit", "one", "--token", str(task["token"]), at="submit.collected", cwd=repo)
    again = bosun("submit", "one", "--token", str(task["token"]), cwd=repo)
    if again.returncode != 0:  # the lease ran out meanwhile: the claim is gone, the work is not
        assert "stale" in again.stderr
        wait_until(lambda: _ready_again(repo), "the unit coming back")
        _finish_claimed(repo)
    else:
        assert bosun("resume", "--headless", cwd=repo).returncode == 0
    check_invariants(repo, ["one"])


def test_a_revoke_killed_before_the_worktree_went_leaves_a_claimable_unit(project):
    repo = _claim_mode(project)
    assert bosun("claim", "--agent", "me", cwd=repo).returncode == 0
    crash("revoke", "one", at="revoke.released", cwd=repo)
    _finish_claimed(repo)
    check_invariants(repo, ["one"])


def test_a_takeover_killed_before_the_claim_changed_hands_can_be_taken_again(project):
    units = [{"id": "left"}, {"id": "right", "agent": "bob"}]
    script = {
        "left": [write_unit("src/shared.py", "VALUE = 'left'\n")],
        "right": [[AWAIT_GO] + write_unit("src/shared.py", "VALUE = 'right'\n")],
    }
    repo = project(units, script, max_agents=2, handback="manual")
    from conftest import BackgroundRun

    run = BackgroundRun(repo, "run", "--headless", "--json")
    run.wait_for("merged", "left")
    (repo / ".bosun" / "worktrees" / "right" / ".go").write_text("")
    run.wait_for("conflicted", "right")
    assert run.finish() == 1
    crash("takeover", "right", at="takeover.prepared", cwd=repo)
    taken = bosun("takeover", "right", cwd=repo)
    assert taken.returncode == 0, taken.stderr
    claim = json.loads(taken.stdout)
    shared = Path(claim["worktree"]) / "src" / "shared.py"
    shared.write_text("VALUE = 'left'\nOTHER = 'right'\n")
    git(shared.parent.parent, "commit", "-qam", "resolved")
    assert bosun("submit", "right", "--token", str(claim["token"]), cwd=repo).returncode == 0
    assert bosun("resume", "--headless", cwd=repo).returncode == 0
    check_invariants(repo, ["left", "right"])


@pytest.mark.parametrize("point", ["reset.stopped", "reset.archived"])
def test_a_reset_killed_midway_finishes_when_run_again(project, point):
    repo = project(UNITS, SCRIPT)
    assert bosun("run", "--headless", cwd=repo).returncode == 0
    crash("reset", "--yes", at=point, cwd=repo)
    done = bosun("reset", "--yes", cwd=repo)
    assert done.returncode == 0, done.stderr
    assert git(repo, "rev-parse", "bosun/integration") == git(repo, "rev-parse", "main")
    assert git(repo, "for-each-ref", "refs/bosun/") == ""
    fresh = bosun("run", "--headless", cwd=repo)
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr
    check_invariants(repo, ["a", "b", "c"])


def test_every_fault_point_is_injected_by_this_suite():
    source = Path(__file__).read_text()
    assert [p for p in POINTS if f'"{p}"' not in source] == []


@pytest.mark.parametrize("point", ["merge.intent", "merge.moved"])
def test_the_supervisor_killed_mid_merge_finishes_that_merge_exactly_once(project, point):
    repo = project(UNITS, SCRIPT)
    crash("run", "--headless", at=point, cwd=repo)
    resumed = bosun("resume", "--headless", cwd=repo)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    check_invariants(repo, ["a", "b", "c"])


@pytest.mark.parametrize("point", ["merge.intent", "merge.moved"])
def test_the_supervisor_killed_mid_batch_landing_lands_the_batch_exactly_once(project, point):
    units = [{"id": f"q{i}"} for i in range(4)]
    script = {u["id"]: [write_unit(f"src/{u['id']}.py", f"{u['id'].upper()} = 1\n")] for u in units}
    repo = project(units, script, max_agents=4, batch=4, gate_parallel=2)
    crash("run", "--headless", at=point, cwd=repo)
    resumed = bosun("resume", "--headless", cwd=repo)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    check_invariants(repo, [u["id"] for u in units])


def test_the_supervisor_killed_while_a_sandboxed_agent_waits_keeps_the_agent_s_commit(project):
    """The agent committed (into its sandbox's own ref) and was ended with its supervisor: on resume
    that commit is taken onto the unit's branch before the attempt restarts, so it is what merges."""
    repo = project([{"id": "a"}], {"a": [write_unit("src/a.py", "A = 1\n") + [AWAIT_GO]]}, sandbox="required")
    run = BackgroundRun(repo, "run", "--headless", "--json")
    log = repo / ".bosun" / "logs" / "a.1.log"
    wait_until(lambda: log.is_file() and "step: commit" in log.read_text(), "the agent's commit")
    committed = (repo / ".bosun" / "sandbox" / "a" / "heads" / "a").read_text().strip()
    run.proc.kill()
    run.proc.wait(timeout=30)
    wait_until(lambda: not processes_in(repo), "the sandboxed agent ending with its supervisor")
    (repo / ".bosun" / "worktrees" / "a" / ".go").write_text("")  # the restarted attempt goes straight on
    resumed = bosun("resume", "--headless", cwd=repo)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    check_invariants(repo, ["a"])
    assert git(repo, "show", "bosun/integration:src/a.py") == "A = 1"
    git(repo, "merge-base", "--is-ancestor", committed, "bosun/integration")  # that very commit, not a redo


def test_an_agent_started_just_before_the_supervisor_died_is_ended_by_the_next_one(project):
    """Killed between starting an agent and writing down its pid (unsandboxed, nothing ties the
    agent's life to the supervisor's; sandboxed, a kill before bubblewrap sets that up): the agent
    lived on, waiting in its worktree, and raced the restarted attempt for the same files. The
    record written before it started names it by the token in its environment."""
    units = [{"id": "a", "scope": ["src/a.py"]}]
    repo = project(units, {"a": [[AWAIT_GO, *write_unit("src/a.py", "A = 1\n")]]}, sandbox="off")
    crash("run", "--headless", at="agent.spawned", cwd=repo)
    wait_until(lambda: processes_in(repo), "the agent started")
    orphans = processes_in(repo)
    resumed = BackgroundRun(repo, "resume", "--headless", "--json")
    try:
        resumed.wait_for("running", "a", timeout=120)
        assert not set(orphans) & set(processes_in(repo)), "the earlier supervisor's agent still runs"
        (repo / ".bosun" / "worktrees" / "a" / ".go").write_text("")
        assert resumed.finish(timeout=120) == 0
    finally:
        resumed.proc.kill()
    check_invariants(repo, ["a"])


def test_a_setup_running_when_the_supervisor_died_is_ended_by_the_next_one(project, tmp_path):
    """The project's setup runs before its agent: killed then, the supervisor left it running in
    the worktree, beside the restarted attempt's own setup. Its environment carries the token."""
    go = tmp_path / "go"
    setup = f"while [ ! -e {go} ]; do sleep 0.05; done"
    units = [{"id": "a", "scope": ["src/a.py"]}]
    repo = project(units, {"a": [write_unit("src/a.py", "A = 1\n")]}, sandbox="off", setup=[setup])
    run = BackgroundRun(repo, "run", "--headless", "--json")
    wait_until(lambda: processes_in(repo / ".bosun" / "worktrees"), "the setup started")
    orphans = processes_in(repo / ".bosun" / "worktrees")
    run.proc.send_signal(signal.SIGKILL)
    run.proc.wait(timeout=10)
    resumed = BackgroundRun(repo, "resume", "--headless", "--json")
    try:
        resumed.wait_for("supervisor_started", timeout=60)
        wait_until(lambda: not set(orphans) & set(processes_in(repo)), "the earlier setup ended")
        go.write_text("")
        assert resumed.finish(timeout=120) == 0
    finally:
        resumed.proc.kill()
    check_invariants(repo, ["a"])


def test_a_unit_cancelled_during_its_setup_leaves_no_record_or_process_behind(project, tmp_path):
    """Cancelled while its setup runs (its worktree removed under it), the unit's agent never
    starts: the record written before setup is given back with its ports, and nothing runs on."""
    go = tmp_path / "go"
    setup = f"while [ ! -e {go} ]; do sleep 0.05; done"
    units = [{"id": "a", "scope": ["src/a.py"]}]
    repo = project(units, {"a": [[AWAIT_GO, *write_unit("src/a.py", "A = 1\n")]]}, sandbox="off", setup=[setup])
    run = BackgroundRun(repo, "run", "--headless", "--json", "--wait")
    try:
        run.wait_for("claimed", "a", timeout=60)
        wait_until(lambda: processes_in(repo / ".bosun" / "worktrees"), "the setup started")
        assert bosun("cancel", "a", cwd=repo).returncode == 0
        run.wait_for("cancelled", "a", timeout=60)
        go.write_text("")  # setup ends in a worktree that is gone
        record = repo / ".bosun" / "running" / "agent.a.json"
        wait_until(lambda: not record.exists(), "the agent's record given back")
        assert not processes_in(repo / ".bosun"), "the agent still runs"
    finally:
        run.proc.kill()


def test_a_supervisor_stopped_during_a_setup_ends_it_and_starts_no_agent(project, tmp_path):
    """SIGTERM while a unit's setup runs: the supervisor waited for the setup to end (the screen
    froze as long), then its agent started with nobody left to stop it."""
    go = tmp_path / "go"
    setup = f"while [ ! -e {go} ]; do sleep 0.05; done"
    units = [{"id": "a", "scope": ["src/a.py"]}]
    repo = project(units, {"a": [[AWAIT_GO, *write_unit("src/a.py", "A = 1\n")]]}, sandbox="off", setup=[setup])
    run = BackgroundRun(repo, "run", "--headless", "--json")
    try:
        wait_until(lambda: processes_in(repo / ".bosun" / "worktrees"), "the setup started")
        run.proc.send_signal(signal.SIGTERM)
        assert run.proc.wait(timeout=20) == 143
    finally:
        run.proc.kill()
    assert not processes_in(repo), "the setup, or an agent started after it, still runs"
    assert "running" not in [e["kind"] for e in run.all_events()]
