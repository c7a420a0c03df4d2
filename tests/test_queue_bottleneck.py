"""When the merge queue is what the session waits on, `bosun status` and the screen say so, with
what `gate_parallel` would give (orchestration/integration/bottleneck.py); when the agents are
what it waits on, they say nothing. Real sessions: real repositories, scripted agents, real gates."""

from __future__ import annotations

from pathlib import Path

from conftest import AWAIT_GO, BackgroundRun, bosun, first_parent_merges, release, write_unit
from test_queue import status, team, units_of

from bosun.orchestration.integration.bottleneck import QueueLoad

LATER = ["b", "c", "d"]


def slow_gate_project(project, tmp_path: Path) -> tuple[Path, Path]:
    """`warm` merges through a quick gate (the queue learns the gate's length); from `first` on,
    the gate waits while `hold` exists, so the units after it queue up behind a busy slot."""
    hold = tmp_path / "hold"
    hold.write_text("")
    gate = f"if [ -e src/first.py ]; then while [ -e {hold} ]; do sleep 0.05; done; fi; python check.py"
    names = ["warm", "first", *LATER]
    script = {n: [[AWAIT_GO, *write_unit(f"src/{n}.py", f"{n.upper()} = 1\n")]] for n in names[1:]}
    script["warm"] = [write_unit("src/warm.py", "WARM = 1\n")]
    repo = project(units_of(names), script, agents=team(6), max_agents=5, gate=gate, batch=1, sandbox="off")
    return repo, hold


def test_status_says_the_queue_is_the_bottleneck_with_what_gate_parallel_would_give(project, tmp_path) -> None:
    repo, hold = slow_gate_project(project, tmp_path)
    run = BackgroundRun(repo, "run", "--headless", "--json")
    try:
        run.wait_for("merged", "warm", timeout=120)
        release(repo, "first")
        run.wait_for("queue_run_started", "first", timeout=120)
        for n in LATER:
            run.wait_for("running", n, timeout=120)
            release(repo, n)
        for n in LATER:
            run.wait_for("submitted", n, timeout=120)
        load = status(repo)["queue"]
        plain = bosun("status", cwd=repo).stdout
        hold.unlink()
        assert run.finish(timeout=120) == 0
    finally:
        run.proc.kill()
    # Three units wait for the one slot, a batch of one each, while the five agents that may work
    # at once (max_agents of a team of six) have nothing to do.
    assert load["bottleneck"] and load["waiting"] == 3 and load["idle_agents"] == 5, load
    assert (load["gate_parallel"], load["batch"], load["in_gate"]) == (1, 1, 1), load
    assert load["gate_s"] is not None and load["gate_s"] > 0, "the warm-up run's length is the estimate's unit"
    assert load["suggest"]["gate_parallel"] == 2
    assert load["suggest"]["wait_s"] < load["wait_s"], load
    assert load["says"].startswith("queue is the bottleneck: 3 units wait for a gate slot (~")
    assert "gate_parallel = 2 would take ~" in load["says"]
    assert load["says"] in plain.splitlines()[1], plain
    assert sorted(first_parent_merges(repo)) == sorted(["warm", "first", *LATER])
    after = status(repo)["queue"]  # every unit merged: nothing waits
    assert not after["bottleneck"] and after["says"] is None and after["waiting"] == 0


def test_status_says_nothing_when_the_agents_are_the_bottleneck(project) -> None:
    names = ["a", "b", "c", "d"]
    script = {n: [[AWAIT_GO, *write_unit(f"src/{n}.py", f"{n.upper()} = 1\n")]] for n in names}
    repo = project(units_of(names), script, agents=team(2), max_agents=2, batch=1, sandbox="off")
    run = BackgroundRun(repo, "run", "--headless", "--json")
    try:
        run.wait_for("running", "a", timeout=120)
        release(repo, "a")
        run.wait_for("merged", "a", timeout=120)
        # a's gate ran; both agents now hold a unit each and a third waits for one of them
        for n in ("b", "c"):
            run.wait_for("running", n, timeout=120)
        load = status(repo)["queue"]
        plain = bosun("status", cwd=repo).stdout
        release(repo, "b")
        release(repo, "c")
        run.wait_for("running", "d", timeout=120)
        release(repo, "d")
        assert run.finish(timeout=120) == 0
    finally:
        run.proc.kill()
    assert load["gate_s"] is not None, "the gate ran: the figures are there, the verdict is still no"
    assert not load["bottleneck"] and load["says"] is None and load["suggest"] is None, load
    assert load["idle_agents"] == 0 and load["waiting"] == 0, load
    assert "bottleneck" not in plain
    assert sorted(first_parent_merges(repo)) == names


def test_the_rule_needs_idle_agents_and_two_rounds_of_waiting_runs() -> None:
    def load(waiting: int, idle: int = 2, parallel: int = 1, batch: int = 1, gate_s: float | None = 60.0) -> QueueLoad:
        return QueueLoad(waiting, 1, idle, parallel, batch, gate_s)

    assert not load(1).bottleneck, "one unit waiting fits in the next run"
    assert not load(5, batch=5).bottleneck and load(6, batch=5).bottleneck, "a batch of five takes five"
    assert not load(6, idle=0).bottleneck, "agents busy: they are what the session waits on"
    six = load(6)
    assert (six.wait_s(1), six.suggest, six.wait_s(2)) == (360.0, 2, 180.0)
    assert six.says() == (
        "queue is the bottleneck: 6 units wait for a gate slot (~6 min at gate_parallel = 1), 2 agents idle; "
        "gate_parallel = 2 would take ~3 min"
    )
    assert six.short() == "bottleneck: 6 wait ~6 min · gate_parallel = 2: ~3 min"
    assert load(30, parallel=4).suggest == 8, "at most twice the slots there are"
    assert load(3, parallel=1, batch=1).suggest == 2 and load(2, parallel=2, batch=1).suggest is None
    assert load(6, gate_s=None).says().endswith("gate_parallel = 2 would take 3 rounds of runs")


async def test_the_screen_says_the_queue_is_the_bottleneck(project, tmp_path) -> None:
    from screen_kit import SIZE, open_app

    from bosun.widgets.merge_queue import MergeQueue

    repo, hold = slow_gate_project(project, tmp_path)
    app = open_app(repo, speed=1)
    async with app.run_test(size=SIZE):
        table = app.query_one(MergeQueue)
        await app.state("warm", "merged")
        release(repo, "first")
        await app.until(lambda: app.unit("first").queue is not None, "first's run")
        await app.until(lambda: all(app.unit(n).state == "running" for n in LATER), "the others run")
        for n in LATER:
            release(repo, n)
        await app.until(lambda: "bottleneck: 3 wait ~" in str(table.border_title), "the bottleneck in the title")
        assert "gate_parallel = 2: ~" in str(table.border_title)
        assert "queue is the bottleneck" in str(table.tooltip)
        hold.unlink()
        await app.until(lambda: all(app.unit(n).state == "merged" for n in LATER), "all merged")
        await app.until(lambda: str(table.border_title) == "Merge queue", "the title back to itself")
