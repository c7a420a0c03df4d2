"""The merge queue end to end: real repositories, real scripted agents, real gates.

Every test also checks the invariant on the result: each first-parent commit of
the integration branch is one unit's merge commit whose tree passes the gate."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
from conftest import AWAIT_GO, BackgroundRun, bosun, first_parent_merges, git, release, write_unit
from test_engine import assert_integration_green, events

from bosun.orchestration.gitcmd import GitRepo
from bosun.orchestration.session import open_session
from bosun.orchestration.status import landing_order


@pytest.fixture(autouse=True)
def runs_keep_their_units(monkeypatch) -> None:
    """These tests fix which units a run covers with held gates; a run stopped to take in the units
    stacked behind it (tests/test_queue_take_in.py) would change that with the machine's speed."""
    monkeypatch.setenv("BOSUN_QUEUE_TAKE_IN", "off")


def gates_together(tmp_path: Path) -> tuple[str, Path]:
    """A gate that waits until the test lets it go (a file outside the repository, so
    `sandbox = "off"`): the test sees which runs are in flight at once, without timing them."""
    go = tmp_path / "go"
    return f"while [ ! -e {go} ]; do sleep 0.05; done; python check.py", go


def held_gate(tmp_path: Path) -> tuple[str, Path]:
    """A gate that waits while a file outside the repository exists (so `sandbox = "off"`): the
    test holds the first run until every other unit has submitted, so they queue up together."""
    hold = tmp_path / "hold"
    hold.write_text("")
    return f"while [ -e {hold} ]; do sleep 0.05; done; python check.py", hold


def queue_behind_first(repo: Path, run: BackgroundRun, names: list[str], hold: Path) -> None:
    """`first` is in the gate; every other unit is let go, submits and is stacked behind it."""
    run.wait_for("queue_run_started", "first", timeout=120)
    for n in names:
        run.wait_for("running", n, timeout=120)
    for n in names:
        release(repo, n)
    for n in names:  # stacked on the chain (merge check, scope, candidate, semantic checks) behind it
        run.wait_for("gating", n, timeout=120)
    hold.unlink()


def team(n: int) -> dict[str, dict]:
    return {f"a{i}": {"kind": "scripted", "script": "team.toml"} for i in range(n)}


def units_of(names: list[str], **extra) -> list[dict]:
    return [{"id": n, "scope": [f"src/{n}.py"], **extra.get(n, {})} for n in names]


def status(repo: Path) -> dict:
    result = bosun("status", "--json", cwd=repo)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


class HeadWatch:
    """Every commit the integration branch points at while a run goes on, polled from git."""

    def __init__(self, repo: Path) -> None:
        self.repo, self.seen, self.done = repo, [], threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    def _watch(self) -> None:
        while not self.done.wait(0.01):
            head = subprocess.run(
                ["git", "rev-parse", "-q", "--verify", "bosun/integration"],
                cwd=self.repo,
                capture_output=True,
                text=True,
            ).stdout.strip()
            if head and (not self.seen or self.seen[-1] != head):
                self.seen.append(head)

    def stop(self) -> list[str]:
        self.done.set()
        self.thread.join()
        return self.seen


def assert_only_passed_trees(repo: Path, heads: list[str]) -> None:
    """The invariant at every instant: each head the branch took is the base or a passed run's tree."""
    session = open_session(GitRepo(repo))
    try:
        passed = {r.commit_id for r in session.store.gate_runs() if r.passed}
    finally:
        session.close()
    base = git(repo, "rev-parse", "main")
    assert heads and all(h in passed or h == base for h in heads), heads


def assert_covered(repo: Path) -> dict:
    """Every merged unit names the passed gate run whose tree held its merge."""
    state = status(repo)
    for unit in state["units"]:
        if unit["state"] == "merged":
            covered = unit["gate_run"]
            assert covered is not None and unit["id"] in covered["units"], unit
    return state


def test_a_bad_unit_in_a_batch_is_found_by_bisection_and_only_it_is_held(project, tmp_path) -> None:
    good = [f"g{i}" for i in range(5)]
    names = ["first", *good[:2], "bad", *good[2:]]
    script = {n: [[AWAIT_GO, *write_unit(f"src/{n}.py", f"{n.upper()} = 1\n")]] for n in good}
    script["bad"] = [[AWAIT_GO, *write_unit("src/bad.py", "BROKEN = 1\n")]]
    script["first"] = [write_unit("src/first.py", "FIRST = 1\n")]
    gate, hold = held_gate(tmp_path)
    repo = project(
        units_of(names), script, agents=team(7), max_agents=7, gate=gate, batch=8, handback="manual", sandbox="off"
    )
    run = BackgroundRun(repo, "run", "--headless", "--json")
    watch = HeadWatch(repo)
    try:
        queue_behind_first(repo, run, names[1:], hold)
        assert run.finish(timeout=120) == 1  # the culprit waits for a human
    finally:
        run.proc.kill()
        heads = watch.stop()
    assert_only_passed_trees(repo, heads)
    seen = run.all_events()
    assert sorted(first_parent_merges(repo)) == sorted(["first", *good])
    culprits = [e["unit"] for e in seen if e["kind"] == "queue_culprit"]
    assert culprits == ["bad"]
    batches = [e for e in seen if e["kind"] == "queue_run_started" and "bad" in e["testing"] and len(e["testing"]) > 1]
    assert batches, "the bad unit was tested together with others"
    assert any(e["kind"] == "queue_bisect" for e in seen)
    state = assert_covered(repo)
    assert {u["id"]: u["state"] for u in state["units"]}["bad"] == "gate_failed"
    bad = next(u for u in state["units"] if u["id"] == "bad")
    assert "broken files" in bad["detail"]["output_tail"]
    assert len(assert_integration_green(repo)) == 6
    # A run covered several units at once: fewer passed runs than merged units.
    runs = {u["gate_run"]["id"] for u in state["units"] if u["state"] == "merged"}
    assert len(runs) < 6


def test_speculative_parallel_gates_merge_everything_in_order(project, tmp_path) -> None:
    names = [f"u{i}" for i in range(6)]
    script = {n: [write_unit(f"src/{n}.py", f"{n.upper()} = 1\n")] for n in names}
    gate, go = gates_together(tmp_path)
    repo = project(
        units_of(names), script, agents=team(6), max_agents=6, gate=gate, gate_parallel=3, batch=1, sandbox="off"
    )
    watch = HeadWatch(repo)
    run = BackgroundRun(repo, "run", "--headless", "--json")
    try:
        first, second = run.wait_for("queue_run_started"), run.wait_for("queue_run_started")
        assert first["slot"] != second["slot"] and first["testing"] != second["testing"]
        go.write_text("")
        assert run.finish() == 0
    finally:
        run.proc.kill()
    assert_only_passed_trees(repo, watch.stop())
    seen = run.all_events()
    assert sorted(first_parent_merges(repo)) == names
    assert len(assert_integration_green(repo)) == 6
    assert_covered(repo)
    # At some point more than one gate ran at once, in distinct slots.
    running, most = set(), 0
    for event in seen:
        if event["kind"] == "queue_run_started":
            running.add(event["run"])
            most = max(most, len(running))
        elif event["kind"] == "queue_run_finished":
            running.discard(event["run"])
    assert most >= 2
    assert len({e["slot"] for e in seen if e["kind"] == "queue_run_started"}) >= 2


def test_a_flaky_gate_is_retried_once_and_the_unit_merges(project, tmp_path) -> None:
    counter = tmp_path / "runs"
    gate = f"n=$(cat {counter} 2>/dev/null || echo 0); echo $((n+1)) > {counter}; test $n -ge 1 && python check.py"
    repo = project(
        units_of(["a"]), {"a": [write_unit("src/a.py", "A = 1\n")]}, gate=gate, gate_retries=1, sandbox="off"
    )
    result = bosun("run", "--headless", "--json", cwd=repo)
    assert result.returncode == 0, result.stdout + result.stderr
    seen = [json.loads(line) for line in result.stdout.splitlines()]
    assert [e["kind"] for e in seen if e["kind"] in ("queue_retry", "queue_culprit")] == ["queue_retry"]
    assert first_parent_merges(repo) == ["a"]
    # The first run and its retry: the retry takes the one gate slot, and passes; nobody is blamed,
    # so the branch itself is not gated.
    assert counter.read_text().strip() == "2"
    assert "base_gated" not in [e["kind"] for e in seen]
    state = assert_covered(repo)
    assert state["units"][0]["attempts"] == 1, "a retried gate costs the unit no attempt"


def test_a_real_failure_is_retried_then_handed_back_and_fixed(project) -> None:
    fix = [
        {"run": ["sh", "-c", 'grep -q "broken files" "$BOSUN_TASK_FILE"'], "check": True},
        *write_unit("src/calc.py", "VALUE = 2\n", "fix"),
    ]
    repo = project(
        units_of(["calc"]), {"calc": [write_unit("src/calc.py", "BROKEN = 1\n"), fix]}, gate_retries=1, gate_parallel=2
    )
    result = bosun("run", "--headless", "--json", cwd=repo)
    assert result.returncode == 0, result.stdout + result.stderr
    kinds = [json.loads(line)["kind"] for line in result.stdout.splitlines()]
    assert kinds.count("queue_retry") == 1 and kinds.count("queue_culprit") == 1 and "handed_back" in kinds
    assert first_parent_merges(repo) == ["calc"]
    assert_integration_green(repo)


def test_dependencies_land_in_order_through_the_queue(project) -> None:
    units = [
        {"id": "a", "scope": ["src/a.py"]},
        {"id": "b", "scope": ["src/b.py"]},
        {"id": "c", "depends_on": ["a"], "scope": ["src/c.py"]},
        {"id": "d", "depends_on": ["a", "b"], "scope": ["src/d.py"]},
        {"id": "e", "depends_on": ["c"], "scope": ["src/e.py"]},
    ]
    script = {u["id"]: [write_unit(f"src/{u['id']}.py", f"{u['id'].upper()} = 1\n")] for u in units}
    repo = project(units, script, agents=team(3), max_agents=3, gate_parallel=2, batch=2)
    result = bosun("run", "--headless", cwd=repo)
    assert result.returncode == 0, result.stdout + result.stderr
    merged = first_parent_merges(repo)
    for unit in units:
        for dep in unit.get("depends_on", []):
            assert merged.index(dep) < merged.index(unit["id"])
    assert len(assert_integration_green(repo)) == 5
    assert_covered(repo)


def test_manual_approval_gates_ahead_and_lands_only_what_was_approved(project) -> None:
    names = ["a", "b", "c"]
    script = {n: [write_unit(f"src/{n}.py", f"{n.upper()} = 1\n")] for n in names}
    repo = project(units_of(names), script, agents=team(3), max_agents=3, merge="manual", gate_parallel=3, batch=4)
    run = BackgroundRun(repo, "run", "--headless", "--json", "--wait")
    try:
        for n in names:  # every gate ran before anybody approved anything
            run.wait_for("awaiting_approval", n)
        assert first_parent_merges(repo) == []
        session = open_session(GitRepo(repo))
        rows = {u.id: u for u in session.store.units()}
        session.close()
        # Each waits on its own tested candidate, stacked on the one ahead of it.
        parents = {rows[n].candidate_parent for n in names}
        assert len({rows[n].candidate for n in names}) == 3 and len(parents) == 3
        first, second, third = sorted(names, key=lambda n: _depth(rows, n))
        # Approving the second lands nothing: the first is not approved yet.
        assert bosun("approve", second, cwd=repo).returncode == 0
        run.wait_for("approved", second)
        # Nothing can land: the supervisor waits idle (it used to start and end the queue's task
        # in a loop, a whole core, for as long as the first waited for its human).
        spent = _cpu_s(run.proc.pid)
        time.sleep(1.5)  # a window to measure the CPU over, not a wait for anything
        spent = _cpu_s(run.proc.pid) - spent
        assert spent < 0.6, f"the supervisor spun while the approval waited: {spent:.2f} s of CPU in 1.5 s"
        assert bosun("reject", first, cwd=repo).returncode == 0
        run.wait_for("rejected", first)
        # The second's candidate sat on the rejected one: it is judged again (first in the chain now,
        # being approved) and lands.
        merged = run.wait_for("merged", second)
        assert first_parent_merges(repo) == [second]
        assert merged["commit"] != rows[second].candidate
        run.wait_for("awaiting_approval", third)  # tested again on its new base, waits again
        assert bosun("approve", third, cwd=repo).returncode == 0
        run.wait_for("merged", third)
        assert first_parent_merges(repo) == [second, third]
    finally:
        run.proc.kill()
    assert_integration_green(repo)
    assert_covered(repo)


def test_manual_merge_with_one_gate_slot_gates_each_unit_once(project) -> None:
    """The defaults (one gate slot, `merge = "manual"`): units stack on the ones waiting for their
    human, so approving them in order lands each on the candidate its one gate run tested; no
    approval sends the others back to the gate."""
    names = ["a", "b", "c"]
    script = {n: [write_unit(f"src/{n}.py", f"{n.upper()} = 1\n")] for n in names}
    repo = project(units_of(names), script, agents=team(3), max_agents=3, merge="manual")
    run = BackgroundRun(repo, "run", "--headless", "--json", "--wait")
    try:
        waiting = [run.wait_for("awaiting_approval", n) for n in names]
        session = open_session(GitRepo(repo))
        rows = {u.id: u for u in session.store.units()}
        session.close()
        order = sorted(names, key=lambda n: _depth(rows, n))
        assert [_depth(rows, n) for n in order] == [0, 1, 2]  # each on the candidate ahead of it
        # What waits for the human is listed in the order it can land (the screen, the queue pane).
        every = list(rows.values())
        assert [u.id for u in landing_order(every, sorted(every, key=lambda u: u.id, reverse=True))] == order
        # Approved out of order, the top one waits for the two below it (and says so in status).
        assert bosun("approve", order[2], cwd=repo).returncode == 0
        run.wait_for("approved", order[2])
        top = next(u for u in status(repo)["units"] if u["id"] == order[2])
        assert top["state"] == "awaiting_approval" and top["approved"] is True, top
        for n in order:
            if n != order[2]:
                assert bosun("approve", n, cwd=repo).returncode == 0
            assert run.wait_for("merged", n)["commit"] == rows[n].candidate
        assert run.finish() == 0
    finally:
        run.proc.kill()
    events = run.all_events()
    runs = [e for e in events if e["kind"] == "queue_run_started"]
    assert len(runs) == 3 and not [e for e in events if e["kind"] == "requeued"], runs
    assert max(w["seq"] for w in waiting) < min(e["seq"] for e in events if e["kind"] == "merged")
    assert first_parent_merges(repo) == order
    assert_integration_green(repo)


def _cpu_s(pid: int) -> float:
    """CPU seconds a process has used (user and system), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _depth(rows, unit: str) -> int:
    """How many candidates sit below this one's in the chain."""
    candidates = {r.candidate: r for r in rows.values() if r.candidate}
    depth, parent = 0, rows[unit].candidate_parent
    while parent in candidates:
        depth, parent = depth + 1, candidates[parent].candidate_parent
    return depth


@pytest.mark.parametrize("step", ["queue_run_started", "queue_bisect", "queue_culprit", "merge_intent"])
def test_kill_9_at_each_step_of_the_queue_then_resume(project, tmp_path, step) -> None:
    good = [f"g{i}" for i in range(4)]
    names = ["first", good[0], "bad", *good[1:]]
    script = {n: [[AWAIT_GO, *write_unit(f"src/{n}.py", f"{n.upper()} = 1\n")]] for n in good}
    script["bad"] = [[AWAIT_GO, *write_unit("src/bad.py", "BROKEN = 1\n")]]
    script["first"] = [write_unit("src/first.py", "FIRST = 1\n")]
    gate, hold = held_gate(tmp_path)
    repo = project(  # a batch takes all five queued behind first, whatever order they submitted in
        units_of(names), script, agents=team(6), max_agents=6, gate=gate, batch=8, handback="manual", sandbox="off"
    )
    run = BackgroundRun(repo, "run", "--headless", "--json")
    try:
        queue_behind_first(repo, run, names[1:], hold)
        run.wait_for(step, timeout=120)
        run.proc.send_signal(signal.SIGKILL)
        run.proc.wait(timeout=10)
    finally:
        run.proc.kill()
    before = first_parent_merges(repo)
    result = bosun("resume", "--headless", "--json", cwd=repo, timeout=180)
    assert result.returncode == 1, result.stdout + result.stderr  # the culprit waits for a human
    merged = first_parent_merges(repo)
    assert merged[: len(before)] == before
    assert sorted(merged) == sorted(["first", *good]), "no unit merged twice or lost"
    assert_integration_green(repo)
    state = assert_covered(repo)
    assert {u["id"]: u["state"] for u in state["units"]}["bad"] == "gate_failed"
    assert {u["attempts"] for u in state["units"]} == {1}, "the gates lost with the supervisor cost no attempt"
    # No gate left running, none recorded as running.
    assert not list((repo / ".bosun" / "running").glob("gate*.json"))
    kinds = [e["kind"] for e in events(repo)]
    assert kinds.count("queue_culprit") >= 1


async def test_the_screen_shows_what_is_tested_together(project, tmp_path) -> None:
    from screen_kit import SIZE, open_app

    from bosun.widgets.merge_queue import MergeQueue

    names = ["a", "b", "c"]
    script = {
        "a": [write_unit("src/a.py", "A = 1\n")],
        **{n: [[AWAIT_GO, *write_unit(f"src/{n}.py", f"{n.upper()} = 1\n")]] for n in names[1:]},
    }
    gate, hold = held_gate(tmp_path)  # a's run waits until b and c queue up behind it
    second = tmp_path / "hold-second"  # and b and c's run until the screen has been read
    second.write_text("")
    gate = f"while [ -e src/b.py ] && [ -e {second} ]; do sleep 0.05; done; {gate}"
    repo = project(units_of(names), script, agents=team(3), max_agents=3, gate=gate, batch=4, sandbox="off")
    app = open_app(repo, speed=1)
    async with app.run_test(size=SIZE):
        table = app.query_one(MergeQueue)
        await app.until(lambda: app.unit("a").queue is not None, "a's run")
        await app.until(lambda: app.unit("b").state == "running" and app.unit("c").state == "running", "b, c run")
        release(repo, "b")
        release(repo, "c")
        await app.until(lambda: app.unit("b").state == "gating" and app.unit("c").state == "gating", "b, c queue")
        # a's run holds the one slot (it started long before they came: nothing takes them in)
        waiting = {"b": "gate slot", "c": "gate slot"}
        await app.until(lambda: {n: str(table._shown.get(n, ("", ""))[1]) for n in "bc"} == waiting, "a slot")
        assert app.unit("b").queue is None and app.unit("c").queue is None
        hold.unlink()
        await app.until(lambda: "c" in ((app.unit("b").queue or {}).get("with") or []), "b and c tested together")
        await app.until(
            lambda: "Run" in table._column_names and "b" in table._shown and str(table._shown["b"][3]).startswith("R"),
            "the Run column",
        )
        together = len(app.unit("b").queue["with"])
        assert table._column_names == ["Unit", "Waits for", "State", "Run"]
        assert table._shown["b"][3] == f"{app.unit('b').queue['run']} +{together}"
        assert str(table._shown["b"][1]) == "tests"
        # The Run column comes last: at this size what each unit waits for still shows whole.
        shown = sum(column.get_render_width(table) for column in list(table.columns.values())[:3])
        assert shown <= table.scrollable_content_region.width, (shown, table.scrollable_content_region.width)
        second.unlink()
        await app.state("c", "merged")
    assert sorted(first_parent_merges(repo)) == names


def test_the_queue_keys_are_validated_with_their_place(tmp_path) -> None:
    from bosun.orchestration.errors import PlanError
    from bosun.orchestration.plan import load_plan

    unit = '[[units]]\nid = "a"\nprompt = "do a"\n'
    path = tmp_path / "bosun.toml"
    path.write_text(
        '[project]\ngate_parallel = 4\nbatch = 8\ngate_retries = 1\n[agents.ada]\nkind = "external"\n' + unit
    )
    project = load_plan(path).project
    assert (project.gate_parallel, project.batch, project.gate_retries) == (4, 8, 1)
    path.write_text(
        '[project]\nbase = "main"\ngate_parallel = 0\nbatch = "4"\ngate_retries = 9\n'
        '[agents.ada]\nkind = "external"\n' + unit
    )
    with pytest.raises(PlanError) as caught:
        load_plan(path)
    assert caught.value.problems == [
        "bosun.toml:3: project.gate_parallel: must be a whole number from 1 to 32, not 0",
        "bosun.toml:4: project.batch: must be a whole number from 1 to 64, not '4'",
        "bosun.toml:5: project.gate_retries: must be a whole number from 0 to 3, not 9",
    ]


def test_batching_is_on_by_default_and_every_merged_unit_shows_its_covering_run(project, tmp_path) -> None:
    names = ["first", "b", "c", "d"]
    script = {n: [[AWAIT_GO, *write_unit(f"src/{n}.py", f"{n.upper()} = 1\n")]] for n in names[1:]}
    script["first"] = [write_unit("src/first.py", "FIRST = 1\n")]
    gate, hold = held_gate(tmp_path)
    repo = project(units_of(names), script, agents=team(4), max_agents=4, gate=gate, sandbox="off")  # no `batch`
    run = BackgroundRun(repo, "run", "--headless", "--json")
    try:
        queue_behind_first(repo, run, names[1:], hold)
        assert run.finish(timeout=120) == 0
    finally:
        run.proc.kill()
    seen = run.all_events()
    assert any(e["kind"] == "queue_run_started" and len(e["testing"]) > 1 for e in seen), "no run covered a batch"
    assert sorted(first_parent_merges(repo)) == sorted(names)
    state = assert_covered(repo)
    for unit in state["units"]:  # the gate shown is the run that covered the unit, even inside a batch
        assert unit["gate"] is not None and unit["gate"]["passed"], unit
        assert unit["gate"]["run"] == unit["gate_run"]["run"]
    plain = bosun("status", cwd=repo).stdout
    assert all(line.split()[4] == "passed" for line in plain.splitlines()[2:6]), plain


def test_batch_in_the_plan_pins_the_batch_size(project, tmp_path) -> None:
    names = ["first", "b", "c"]
    script = {n: [[AWAIT_GO, *write_unit(f"src/{n}.py", f"{n.upper()} = 1\n")]] for n in names[1:]}
    script["first"] = [write_unit("src/first.py", "FIRST = 1\n")]
    gate, hold = held_gate(tmp_path)
    repo = project(units_of(names), script, agents=team(3), max_agents=3, gate=gate, sandbox="off", batch=1)
    run = BackgroundRun(repo, "run", "--headless", "--json")
    try:
        run.wait_for("queue_run_started", "first", timeout=120)
        for n in names[1:]:
            run.wait_for("running", n, timeout=120)
            release(repo, n)
        for n in names[1:]:  # both wait behind first's run (a batch size of 1 stacks only one ahead)
            run.wait_for("submitted", n, timeout=120)
        hold.unlink()
        assert run.finish(timeout=120) == 0
    finally:
        run.proc.kill()
    seen = run.all_events()
    assert all(len(e["testing"]) == 1 for e in seen if e["kind"] == "queue_run_started")
    assert not any(e["kind"] == "queue_batch_size" for e in seen)


def test_the_batch_size_follows_the_failure_rate() -> None:
    from bosun.orchestration.integration.batch_size import BatchSizer

    fresh = BatchSizer()
    assert fresh.size() == 5, "no history: a prior of 2 % failures, the top of the 3-5 band"
    one_early = BatchSizer()
    one_early.merged(5)
    one_early.failed()
    assert one_early.size() == 5, "one early failure in a small session does not halve its batches"
    clean = BatchSizer()
    clean.merged(200)
    assert clean.failure_rate < 0.02 and clean.size() == 10
    flaky = BatchSizer()
    for _ in range(10):
        flaky.merged(9)
        flaky.failed()
    assert flaky.failure_rate > 0.05 and flaky.size() == 3
    middling = BatchSizer()
    middling.merged(97)
    middling.failed()
    middling.failed()
    assert 0.02 <= middling.failure_rate < 0.05 and middling.size() == 5


def test_a_gate_that_timed_out_is_run_again_on_the_same_commit_by_regate(project, tmp_path) -> None:
    counter = tmp_path / "runs"
    first_run_hangs = f"n=$(cat {counter} 2>/dev/null || echo 0); echo $((n+1)) > {counter}; [ $n -ge 1 ] || sleep 30"
    gate = f"{first_run_hangs}; python check.py"
    units = [{"id": "slow", "scope": ["src/slow.py"]}, {"id": "broken", "scope": ["src/broken.py"]}]
    script = {"slow": [write_unit("src/slow.py", "S = 1\n")], "broken": [write_unit("src/broken.py", "BROKEN = 1\n")]}
    # One unit per run: the hanging first run tests `slow` alone (a batch could take `broken` in).
    repo = project(units, script, gate=gate, gate_timeout="2s", handback="manual", sandbox="off", max_agents=1, batch=1)
    assert bosun("run", "--headless", cwd=repo).returncode == 1
    state = {u["id"]: u for u in status(repo)["units"]}
    assert state["slow"]["state"] == "gate_failed" and "timed out" in state["slow"]["gate"]["cause"]
    assert bosun("regate", "slow", cwd=repo).returncode == 0  # queued for the next supervisor
    # Its tests failed: yours to judge flaky, and they run again on the same commit (here they fail again).
    assert bosun("regate", "broken", cwd=repo).returncode == 0
    resumed = bosun("resume", "--headless", "--json", cwd=repo)
    assert resumed.returncode == 1, resumed.stdout + resumed.stderr  # 'broken' still waits for a human
    events = [json.loads(line) for line in resumed.stdout.splitlines()]
    regated = [e["unit"] for e in events if e["kind"] == "regated"]
    assert sorted(regated) == ["broken", "slow"] and "claimed" not in [e["kind"] for e in events], "no agent ran"
    state = {u["id"]: u for u in status(repo)["units"]}
    assert state["slow"]["state"] == "merged" and state["slow"]["attempts"] == 1
    assert state["broken"]["state"] == "gate_failed" and state["broken"]["attempts"] == 1
    assert first_parent_merges(repo) == ["slow"]
    # Once its commit changed, the old verdict cannot be run again: the new commit is what is judged.
    work = repo / ".bosun" / "worktrees" / "broken"
    git(work, "commit", "-q", "--allow-empty", "-m", "another commit")
    session = open_session(GitRepo(repo))
    session.store.update("broken", head_commit=git(work, "rev-parse", "HEAD"))
    session.close()
    refused = bosun("regate", "broken", cwd=repo)
    assert refused.returncode == 2 and "has a new commit since its gate failed" in refused.stderr


def test_a_flaky_failure_the_agent_found_nothing_to_fix_in_can_be_gated_again(project, tmp_path) -> None:
    """The default hand-back gives the failed gate to the agent; it finds nothing to change (the
    test was flaky) and exits without a new commit: failed. `regate` runs the gate again on the
    commit it failed on, with no attempt spent, and it merges."""
    counter = tmp_path / "runs"
    flaky = f"n=$(cat {counter} 2>/dev/null || echo 0); echo $((n+1)) > {counter}; [ $n -ge 1 ] && python check.py"
    script = {"a": [write_unit("src/a.py", "A = 1\n"), [{"run": ["true"]}]]}
    repo = project([{"id": "a", "scope": ["src/a.py"]}], script, gate=flaky, sandbox="off")
    assert bosun("run", "--headless", cwd=repo).returncode == 1
    unit = status(repo)["units"][0]
    assert unit["state"] == "failed" and unit["attempts"] == 2, unit
    assert "without a new commit" in unit["detail"]["error"], unit["detail"]
    assert bosun("regate", "a", cwd=repo).returncode == 0
    assert bosun("resume", "--headless", cwd=repo).returncode == 0
    unit = status(repo)["units"][0]
    assert unit["state"] == "merged" and unit["attempts"] == 2
    assert first_parent_merges(repo) == ["a"]


def test_no_regate_of_a_failed_unit_whose_agent_committed_after_its_gate_failed(project) -> None:
    """Handed its failed gate back, the agent committed again and then timed out: the branch ends
    past the commit the gate judged, so running that gate again is refused."""
    again = [*write_unit("src/a.py", "A = 2\n"), {"run": ["sleep", "30"]}]
    script = {"a": [write_unit("src/a.py", "BROKEN = 1\n"), again]}
    repo = project([{"id": "a", "scope": ["src/a.py"], "timeout": "3s"}], script, sandbox="off")
    assert bosun("run", "--headless", cwd=repo).returncode == 1
    unit = status(repo)["units"][0]
    assert unit["state"] == "failed" and unit["detail"]["handback"]["failed_gate"], unit["detail"]
    refused = bosun("regate", "a", cwd=repo)
    assert refused.returncode == 2 and "has a new commit since its gate failed" in refused.stderr


def test_a_lost_gate_costs_no_attempt_and_waits_for_a_regate(project) -> None:
    repo = project([{"id": "a", "scope": ["src/a.py"]}], {"a": [write_unit("src/a.py", "A = 1\n")]})
    (repo / ".bosun").mkdir()
    (repo / ".bosun" / "gates").write_text("")  # the gates' folders cannot be made: no gate can run
    result = bosun("run", "--headless", "--json", cwd=repo)
    assert result.returncode == 1, result.stdout + result.stderr
    kinds = [json.loads(line)["kind"] for line in result.stdout.splitlines()]
    assert kinds.count("queue_gate_lost") == 2 and "handed_back" not in kinds  # handback = "auto" by default
    unit = status(repo)["units"][0]
    assert unit["state"] == "gate_failed" and unit["attempts"] == 1
    assert unit["detail"]["lost"] and "could not run" in unit["gate"]["cause"]
    (repo / ".bosun" / "gates").unlink()
    assert bosun("regate", "a", cwd=repo).returncode == 0
    assert bosun("resume", "--headless", cwd=repo).returncode == 0
    unit = status(repo)["units"][0]
    assert unit["state"] == "merged" and unit["attempts"] == 1


async def test_an_approved_unit_says_which_unit_ahead_it_waits_for(project) -> None:
    """Under manual merge an approved unit whose candidate sits on another one still waiting for
    approval lands only after it: the queue says so by name, not `merging`."""
    import asyncio

    from screen_kit import SIZE, open_app

    from bosun.app.tui.story import unit_story
    from bosun.widgets.merge_queue import MergeQueue

    names = ["a", "b"]
    script = {n: [write_unit(f"src/{n}.py", f"{n.upper()} = 1\n")] for n in names}
    repo = project(units_of(names), script, agents=team(2), max_agents=2, merge="manual", gate_parallel=2, batch=4)
    app = open_app(repo, speed=1)
    async with app.run_test(size=SIZE):
        table = app.query_one(MergeQueue)
        for n in names:
            await app.state(n, "awaiting_approval")
        rows = {n: app.unit(n) for n in names}
        first, second = sorted(names, key=lambda n: _depth(rows, n))
        result = await asyncio.to_thread(bosun, "approve", second, cwd=repo)
        assert result.returncode == 0, result.stderr
        waits = table._column_names.index("Waits for")
        await app.until(lambda: str(table._shown[second][waits]) == first, f"{second} waiting for {first}")
        assert str(table._shown[first][waits]) == "you: a / x"
        # approved, it no longer reads as waiting for its human: in the queue, the graph and its story
        state = table._column_names.index("State")
        assert (table._shown[first][state], table._shown[second][state]) == ("to approve", "approved")
        await app.until(lambda: "◍ approved" in app.text() and "◆ to approve" in app.text(), "the graph's boxes")
        assert unit_story(app.session, app.unit(second)).headline.startswith(f"'{second}' is approved")
        lines = (await asyncio.to_thread(bosun, "status", cwd=repo)).stdout.splitlines()
        said = {line.split()[0]: line for line in lines if line.split() and line.split()[0] in names}
        assert "passed" in said[second] and ", approved" in said[second] and "approved" not in said[first]
        assert first_parent_merges(repo) == []  # the approval landed nothing yet
        result = await asyncio.to_thread(bosun, "approve", first, cwd=repo)
        assert result.returncode == 0, result.stderr
        await app.state(second, "merged")
    assert first_parent_merges(repo) == [first, second]


async def test_a_unit_that_clashes_only_with_one_ahead_waits_for_the_units_ahead(project) -> None:
    """Two units add the same file, each cleanly onto the integration branch but not onto each
    other: the one behind is held until the one ahead lands (it waits for your approval), and the
    queue says it waits for the units ahead, not for a merge check that is not running. Once the
    one ahead lands it is a conflict with the integration branch."""
    import asyncio

    from screen_kit import SIZE, open_app

    from bosun.widgets.merge_queue import MergeQueue

    names = ["a", "b"]
    script = {n: [write_unit("src/shared.py", f"WHO = {n!r}\n")] for n in names}
    units = [{"id": n} for n in names]  # no scope: nothing in the plan keeps them apart
    repo = project(units, script, agents=team(2), max_agents=2, merge="manual")
    app = open_app(repo, speed=1)
    async with app.run_test(size=SIZE):
        table = app.query_one(MergeQueue)
        store = app.session.store
        await app.until(
            lambda: (
                {app.unit(n).state for n in names} == {"awaiting_approval", "submitted"}
                and any(store.last_move(n) == "held" for n in names)
            ),
            "one unit awaiting approval, the other held behind it",
        )
        ahead, behind = sorted(names, key=lambda n: app.unit(n).state != "awaiting_approval")
        waits = table._column_names.index("Waits for")
        await app.until(lambda: str(table._shown[behind][waits]) == "units ahead", f"{behind} waiting for those ahead")
        assert str(table._shown[ahead][waits]) == "you: a / x"
        # an event about it that is not a move (an agent's late heartbeat with its old token)
        store.append_event("stale_token", behind, action="heartbeat", token=0, now=None)
        await app.caught_up()  # painted, the tables too
        assert str(table._shown[behind][waits]) == "units ahead"
        said = {u["id"]: u["held"] for u in (await asyncio.to_thread(status, repo))["units"]}
        assert said == {ahead: False, behind: True}
        text = (await asyncio.to_thread(bosun, "status", cwd=repo)).stdout
        assert [line.split()[0] for line in text.splitlines() if "held for units ahead" in line] == [behind]
        result = await asyncio.to_thread(bosun, "approve", ahead, cwd=repo)
        assert result.returncode == 0, result.stderr
        await app.state(ahead, "merged")
        # against the integration branch now: a real conflict, handed back to its agent (the default)
        await app.until(lambda: any(e.unit == behind and e.kind == "conflicted" for e in store.events()), "a conflict")
        await app.until(lambda: str(table._shown.get(behind, ("", ""))[waits]) != "units ahead", "no longer held")
    assert first_parent_merges(repo) == [ahead]


@pytest.mark.parametrize(
    "gate, says",
    [("nosuchtool -q", "`nosuchtool` was not found"), ("python3 -m nosuchmodule -q", "has no module `nosuchmodule`")],
)
def test_a_gate_whose_program_cannot_start_costs_no_attempt_and_waits_for_a_regate(project, gate, says) -> None:
    """A gate whose own program is missing judged nothing: the unit is not handed back to its agent
    (who would burn its attempts on tests that can never run) but waits, saying why; once the
    plan's gate is fixed, `regate` merges it on the same commit."""
    repo = project([{"id": "a", "scope": ["src/a.py"]}], {"a": [write_unit("src/a.py", "A = 1\n")]}, gate=gate)
    result = bosun("run", "--headless", "--json", cwd=repo)
    assert result.returncode == 1, result.stdout + result.stderr
    kinds = [json.loads(line)["kind"] for line in result.stdout.splitlines()]
    assert "handed_back" not in kinds, kinds  # handback = "auto" by default
    unit = status(repo)["units"][0]
    assert unit["state"] == "gate_failed" and unit["attempts"] == 1
    assert unit["detail"]["unstartable"] and "the gate could not start: " in unit["gate"]["cause"]
    assert says in unit["gate"]["cause"]
    assert "bosun regate a" in bosun("status", "a", cwd=repo).stdout
    plan = repo / "bosun.toml"
    plan.write_text(plan.read_text().replace(gate, "python check.py"))
    assert bosun("regate", "a", cwd=repo).returncode == 0
    resumed = bosun("resume", "--headless", cwd=repo)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    unit = status(repo)["units"][0]
    assert unit["state"] == "merged" and unit["attempts"] == 1
