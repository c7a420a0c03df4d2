"""`bosun report`: the figures of real sessions (real repositories, scripted agents, real gates,
real SQLite), checked against what the store recorded on its own (the units' attempts and usage,
the gate runs), the CLI's outputs and its refusals, and a synthetic 250-unit session."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import BackgroundRun, bosun, release, write_unit
from test_queue import held_gate, queue_behind_first, team, units_of

from bosun.orchestration.gitcmd import GitRepo
from bosun.orchestration.report import SESSION_KEYS, figures, read_session, session_figures
from bosun.orchestration.report.layout import layers
from bosun.orchestration.report.spans import PHASES, unit_stories
from bosun.orchestration.session import open_session
from bosun.orchestration.store import Event


def spend(unit: str, tokens_in: int, tokens_out: int, cost: float) -> dict:
    """A scripted step printing the result line Claude Code ends with (its usage and cost)."""
    line = {"type": "result", "usage": {"input_tokens": tokens_in, "output_tokens": tokens_out}, "total_cost_usd": cost}
    return {"run": ["echo", json.dumps(line)]}


def report_of(repo: Path) -> dict:
    session = open_session(GitRepo(repo))
    try:
        return figures(read_session(session))
    finally:
        session.close()


def store_rows(repo: Path):
    session = open_session(GitRepo(repo))
    try:
        return {u.id: u for u in session.store.units()}, session.store.gate_runs(), session.store.events()
    finally:
        session.close()


@pytest.fixture
def lane_session(project):
    """A diamond-ish plan through the one-gate lane: `c` fails the gate once and is fixed; each
    attempt reports its tokens and cost."""
    units = [
        {"id": "a", "scope": ["src/a.py"]},
        {"id": "b", "depends_on": ["a"], "scope": ["src/b.py"]},
        {"id": "c", "scope": ["src/c.py"]},
    ]
    script = {
        "a": [[spend("a", 1000, 200, 0.5), *write_unit("src/a.py", "A = 1\n")]],
        "b": [[spend("b", 3000, 400, 1.25), *write_unit("src/b.py", "B = 1\n")]],
        "c": [
            [spend("c", 500, 100, 0.25), *write_unit("src/c.py", "BROKEN = 1\n")],
            [spend("c", 700, 150, 0.75), *write_unit("src/c.py", "C = 2\n", "fix")],
        ],
    }
    repo = project(units, script, batch=1)  # one unit at a time: every run covers one unit, in slot 0
    result = bosun("run", "--headless", cwd=repo)
    assert result.returncode == 0, result.stdout + result.stderr
    return repo


def test_the_figures_of_a_real_session_agree_with_the_store(lane_session) -> None:
    repo = lane_session
    report = report_of(repo)
    rows, runs, events = store_rows(repo)
    units = {u["id"]: u for u in report["units"]}
    started = next(e.time for e in events if e.kind == "supervisor_started")  # units' time counts from here
    for unit_id, row in rows.items():
        unit = units[unit_id]
        assert unit["state"] == row.state == "merged"
        assert unit["attempts"] == row.attempts, unit_id  # the report counts claims; the store its own counter
        assert unit["cost_usd"] == pytest.approx(row.usage["cost_usd"])  # summed per attempt vs. the unit's total
        assert unit["prompt_tokens"] == row.usage["prompt_tokens"]
        # The phases tile the unit's life: from the session's start to its merge, nothing lost or counted twice.
        assert sum(unit[f"{p}_s"] for p in PHASES) == pytest.approx(unit["merged_at"] - started, abs=0.01)
    assert units["c"]["attempts"] == 2 and [t["outcome"] for t in units["c"]["tries"]] == ["submitted"] * 2
    merged_a = next(e.time for e in events if e.kind == "merged" and e.unit == "a")
    ready_b = next(e.time for e in events if e.kind == "ready" and e.unit == "b")
    assert units["b"]["deps_s"] == pytest.approx(ready_b - started, abs=0.001), "b waited for a until a merged"
    assert units["b"]["deps_s"] >= merged_a - started
    ready_a = next(e.time for e in events if e.kind == "ready" and e.unit == "a")
    assert units["a"]["deps_s"] == pytest.approx(ready_a - started, abs=0.001) and units["a"]["deps_s"] < 0.5

    session = report["session"]
    assert set(session) == set(SESSION_KEYS)
    assert session["merged"] == 3 and session["attempts"] == 4 and session["attempts_per_unit"] == round(4 / 3, 2)
    assert session["cost_usd"] == pytest.approx(2.75)
    assert session["cost_per_merged_unit_usd"] == pytest.approx(2.75 / 3)
    assert session["prompt_tokens"] == 5200 and session["completion_tokens"] == 850
    assert sum(a["cost_usd"] or 0 for a in report["agents"]) == pytest.approx(2.75)
    assert sum(a["attempts"] for a in report["agents"]) == 4
    assert report["cost_over_time"][-1][1] == pytest.approx(2.75)
    assert 0 < session["gate_busy_pct"] <= 100
    assert session["live"] is False and session["as_of"] == events[-1].time

    assert [(r["gate_run"], r["verdict"] == "passed") for r in report["runs"]] == [(r.id, r.passed) for r in runs]
    assert all(r["why"] == "single" and r["slot"] == 0 for r in report["runs"])
    failed = [f for f in report["findings"] if f["check"] == "tests"]
    assert [f["unit"] for f in failed] == ["c"] and "tests failed" in failed[0]["message"]
    # Each agent's busy time is its attempts' time, each attempt starting at its claim.
    claims = sorted(e.time for e in events if e.kind == "claimed")
    assert sorted(t["start"] for u in report["units"] for t in u["tries"]) == claims
    for agent in report["agents"]:
        mine = [t for u in report["units"] for t in u["tries"] if t["agent"] == agent["name"]]
        assert agent["busy_s"] == pytest.approx(sum(t["seconds"] for t in mine), abs=0.01)


def test_session_figures_come_from_the_store_alone(lane_session) -> None:
    session = open_session(GitRepo(lane_session))
    try:
        alone = session_figures(session.store)
        whole = figures(read_session(session))["session"]
    finally:
        session.close()
    assert list(alone) == list(SESSION_KEYS)
    assert alone == whole


def test_the_cli_prints_a_summary_json_and_writes_the_page(lane_session, tmp_path) -> None:
    repo = lane_session
    text = bosun("report", cwd=repo)
    assert text.returncode == 0, text.stderr
    assert "3/3 units merged" in text.stdout and "$2.75" in text.stdout
    data = json.loads(bosun("report", "--json", cwd=repo).stdout)
    assert data["session"]["merged"] == 3 and {u["id"] for u in data["units"]} == {"a", "b", "c"}
    page = tmp_path / "out" / "report.html"
    page.parent.mkdir()
    page.write_text("an older report")
    written = bosun("report", "--html", str(page), cwd=repo)
    assert written.returncode == 0, written.stderr
    html = page.read_text()
    assert (
        html.startswith("<!DOCTYPE html>")
        and "<svg" in html
        and "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    )
    assert [p.name for p in page.parent.iterdir()] == ["report.html"], "no temporary file left behind"


def test_bad_input_is_one_line_and_exit_2(project, tmp_path) -> None:
    repo = project([{"id": "a"}], {"a": [write_unit("src/a.py", "A = 1\n")]})
    for args, says in (
        (("report",), "no Bosun session here"),
        (("report", "--html", str(tmp_path / "missing" / "r.html")), "no Bosun session here"),
    ):
        result = bosun(*args, cwd=repo)
        assert result.returncode == 2 and says in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert bosun("run", "--headless", cwd=repo).returncode == 0
    missing = bosun("report", "--html", str(tmp_path / "missing" / "r.html"), cwd=repo)
    assert missing.returncode == 2 and "no such directory" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "missing").exists()
    folder = bosun("report", "--html", str(tmp_path), cwd=repo)
    assert folder.returncode == 2 and "is a directory" in folder.stderr


def test_a_report_during_a_session_reads_it_live(project) -> None:
    script = {"slow": [[{"await": ".go"}, *write_unit("src/slow.py", "S = 1\n")]]}
    repo = project([{"id": "slow", "scope": ["src/slow.py"]}], script)
    run = BackgroundRun(repo, "run", "--headless", "--json")
    try:
        run.wait_for("running", "slow")
        during = bosun("report", "--json", cwd=repo)
        assert during.returncode == 0, during.stderr
        data = json.loads(during.stdout)
        slow = data["units"][0]
        assert data["session"]["live"] is True and slow["state"] == "running"
        assert [t["outcome"] for t in slow["tries"]] == ["working"] and slow["work_s"] > 0
        release(repo, "slow")
        assert run.finish() == 0
    finally:
        run.proc.kill()
    after = json.loads(bosun("report", "--json", cwd=repo).stdout)
    assert after["session"]["live"] is False and after["units"][0]["state"] == "merged"


def test_a_batch_bisected_in_the_queue_names_its_runs_and_culprit(project, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("BOSUN_QUEUE_TAKE_IN", "off")  # `bad` is batched with the others behind `first`
    names = ["first", "g0", "bad", "g1"]
    script = {n: [[{"await": ".go"}, *write_unit(f"src/{n}.py", f"{n.upper()} = 1\n")]] for n in ("g0", "g1")}
    script["bad"] = [[{"await": ".go"}, *write_unit("src/bad.py", "BROKEN = 1\n")]]
    script["first"] = [write_unit("src/first.py", "FIRST = 1\n")]
    gate, hold = held_gate(tmp_path)
    repo = project(
        units_of(names), script, agents=team(4), max_agents=4, gate=gate, batch=4, handback="manual", sandbox="off"
    )
    run = BackgroundRun(repo, "run", "--headless", "--json")
    try:
        queue_behind_first(repo, run, names[1:], hold)
        assert run.finish(timeout=120) == 1  # the culprit waits for a human
    finally:
        run.proc.kill()
    report = report_of(repo)
    runs = report["runs"]
    _, gate_runs, events = store_rows(repo)
    assert [r["run"] for r in runs if r["verdict"] != "cancelled"] == [g.label for g in gate_runs]
    assert any(r["why"] == "batch" and "bad" in r["testing"] for r in runs)
    assert any(r["why"] == "bisect" for r in runs)
    assert [r["culprit"] for r in runs if r["culprit"]] == ["bad"]
    started = {e.data["run"]: e.time for e in events if e.kind == "queue_run_started"}
    for r in runs:
        assert r["start"] == started[r["run"]] and r["end"] >= r["start"]
    units = {u["id"]: u for u in report["units"]}
    assert units["bad"]["state"] == "gate_failed" and units["bad"]["human_s"] > 0 and units["bad"]["human_waits"] == 1
    assert report["session"]["merged"] == 3 and report["session"]["human_waits"] == 1
    failures = [f for f in report["findings"] if f["check"] == "tests"]
    assert failures and {f["unit"] for f in failures} == {"bad"}, "each failed run is put on the culprit"


def story_of(*steps: tuple[float, str, dict]):
    """One unit's story from hand-written events (time, kind, data), after a supervisor start at 0."""
    events = [Event(1, 0.0, "supervisor_started", None, {})]
    events += [Event(i + 2, t, kind, "u", data) for i, (t, kind, data) in enumerate(steps)]
    return unit_stories(events, ["u"], as_of=steps[-1][0])["u"]


def move(frm: str, to: str, **data) -> dict:
    return {"from": frm, "to": to, **data}


def test_an_approval_ends_the_human_wait_and_a_takeover_is_the_humans_attempt() -> None:
    story = story_of(
        (2.0, "ready", move("pending", "ready")),
        (3.0, "claimed", move("ready", "claimed", owner="ada")),
        (3.5, "running", move("claimed", "running", agent="ada", attempt=1)),
        (10.0, "submitted", move("running", "submitted", usage={"cost_usd": 0.5})),
        (10.5, "checking", move("submitted", "checking")),
        (11.0, "gating", move("checking", "gating")),
        (14.0, "awaiting_approval", move("gating", "awaiting_approval")),
        (14.0, "waiting_for_human", {"state": "awaiting_approval"}),
        (20.0, "approved", {"by": "human"}),
        (20.5, "merging", move("awaiting_approval", "gating")),
        (21.0, "merged", move("gating", "merged")),
    )
    assert [(s.phase, s.start, s.end) for s in story.spans] == [
        ("deps", 0.0, 2.0),
        ("agent", 2.0, 3.0),
        ("work", 3.0, 10.0),
        ("queue", 10.0, 14.0),
        ("human", 14.0, 20.0),
        ("queue", 20.0, 21.0),
    ]
    assert [(a.agent, a.start, a.end, a.outcome, a.usage) for a in story.attempts] == [
        ("ada", 3.0, 10.0, "submitted", {"cost_usd": 0.5})
    ]
    taken = story_of(
        (1.0, "ready", move("pending", "ready")),
        (2.0, "claimed", move("ready", "claimed", owner="bob")),
        (5.0, "failed", move("claimed", "failed")),
        (9.0, "taken_over", move("failed", "running", owner_was="bob")),
        (15.0, "submitted", move("running", "submitted")),
    )
    assert [(a.agent, a.number, a.outcome) for a in taken.attempts] == [("bob", 1, "failed"), ("human", 2, "submitted")]
    assert [s.phase for s in taken.spans] == ["deps", "agent", "work", "human", "work"]


def test_layers_put_a_unit_right_of_its_deepest_dependency() -> None:
    graph = {"b": ["a"], "c": ["a", "b"], "d": ["missing"], "x": ["y"], "y": ["x"]}
    assert layers(graph, ["a", "b", "c", "d", "x", "y"]) == {"a": 0, "b": 1, "c": 2, "d": 0, "x": 3, "y": 3}


@pytest.mark.slow
def test_the_report_of_a_kept_demo(tmp_path) -> None:
    kept = tmp_path / "demo"
    demo = bosun("demo", "--headless", "--keep", str(kept), "--speed", "4", cwd=tmp_path, timeout=300)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    page = tmp_path / "demo.html"
    written = bosun("report", "--html", str(page), cwd=kept)
    assert written.returncode == 0, written.stderr
    html = page.read_text()
    assert html.count('class="unit st-merged"') == 9 and "evaluate" in html
    data = json.loads(bosun("report", "--json", cwd=kept).stdout)
    assert data["session"]["merged"] == 9 and data["session"]["human_waits"] > 0
    assert any(f["kind"] == "conflict" for f in data["findings"]), "the demo's conflict is among the findings"
