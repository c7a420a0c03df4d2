"""The merge queue's one gate slot takes in what was stacked behind a run that had just started:
the run stops and starts again covering them too (issue 28), once per candidate, and the integration
branch still only ever points at trees that passed.

The supervisor runs in this process (as `benchmarks/merge_queue.py` runs it), so the test can
call every run young (`TAKE_IN_FIRST_S`): it orders what happens with held gates and agents, not
with timing."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

from conftest import AWAIT_GO, first_parent_merges, release, write_unit
from test_engine import assert_integration_green
from test_queue import HeadWatch, assert_only_passed_trees, held_gate, team, units_of

from bosun.orchestration.gitcmd import GitRepo
from bosun.orchestration.integration import scheduling
from bosun.orchestration.report.runs import gate_rows
from bosun.orchestration.session import create_session, open_session
from bosun.orchestration.supervisor.loop import Options, Orchestrator


class Driver(threading.Thread):
    """The test's side, beside the supervisor: waits on events in the store (its own connection)."""

    def __init__(self, repo: Path, hold: Path, steps) -> None:
        super().__init__(daemon=True)
        self.repo, self.hold, self.steps, self.error = repo, hold, steps, None

    def event(self, kind: str, unit: str | None = None, timeout: float = 120, **data) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            session = open_session(GitRepo(self.repo))
            try:
                for e in session.store.events():
                    if e.kind == kind and unit in (None, e.unit) and all(e.data.get(k) == v for k, v in data.items()):
                        return {"unit": e.unit, **e.data}
            finally:
                session.close()
            time.sleep(0.05)  # polling the store for a condition, not waiting for time to pass
        raise AssertionError(f"no {kind} event for {unit} {data}")

    def run(self) -> None:
        try:
            self.steps(self)
        except BaseException as exc:  # the supervisor must not hang on a failed test
            self.error = exc
        finally:
            self.hold.unlink(missing_ok=True)
            for unit in ("b", "c"):
                if (self.repo / ".bosun" / "worktrees" / unit).exists():
                    release(self.repo, unit)


def test_a_run_that_just_started_takes_in_units_stacked_behind_it_once(project, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(scheduling, "TAKE_IN_FIRST_S", 3600.0)  # until a run finishes, every run is young
    monkeypatch.delenv(scheduling.TAKE_IN_OFF, raising=False)
    names = ["first", "b", "c"]
    script = {n: [[AWAIT_GO, *write_unit(f"src/{n}.py", f"{n.upper()} = 1\n")]] for n in names[1:]}
    script["first"] = [write_unit("src/first.py", "FIRST = 1\n")]
    gate, hold = held_gate(tmp_path)
    repo = project(units_of(names), script, agents=team(3), max_agents=3, gate=gate, sandbox="off")

    def steps(d: Driver) -> None:
        first = d.event("queue_run_started", "first")
        d.event("running", "b")
        release(repo, "b")
        taken = d.event("queue_take_in", "first", run=first["run"])
        assert taken["taking"] == ["b"]
        d.event("queue_run_started", "b", units=["first", "b"])  # the next run covers both
        d.event("running", "c")
        release(repo, "c")
        d.event("gating", "c")  # stacked behind the run that took b in; that run is not stopped again
        hold.unlink()

    session = create_session(GitRepo(repo), repo / "bosun.toml")
    driver = Driver(repo, hold, steps)
    watch = HeadWatch(repo)
    driver.start()
    try:
        code = asyncio.run(Orchestrator(session, Options(max_agents=3)).run())
    finally:
        driver.join(timeout=60)
        heads = watch.stop()
        seen = session.store.events()
        rows = {r.label: r for r in gate_rows(seen, session.store.gate_runs(), time.time(), live=True)}
        session.close()
    if driver.error is not None:
        raise driver.error
    assert code == 0
    assert_only_passed_trees(repo, heads)
    assert sorted(first_parent_merges(repo)) == sorted(names)
    assert len(assert_integration_green(repo)) == 3
    started = {e.data["run"]: e.data for e in seen if e.kind == "queue_run_started"}
    finished = {e.data["run"]: e.data for e in seen if e.kind == "queue_run_finished"}
    taken = [e.data for e in seen if e.kind == "queue_take_in"]
    assert len(taken) == 1, taken  # once per unit: the run that took b in ran to its verdict
    assert taken[0]["run"] not in finished  # the stopped run gave no verdict
    both = next(label for label, run in started.items() if run["units"] == ["first", "b"])
    assert finished[both]["passed"]
    merged = {e.unit: e.data.get("gate_run") for e in seen if e.kind == "merged"}
    assert merged["first"] == merged["b"] == finished[both]["gate_run"]  # landed together on that run
    # The report (read live, as `bosun report` does mid-session) shows the stopped run ended, not running.
    assert rows[taken[0]["run"]].verdict == "cancelled" and rows[both].verdict == "passed"
