"""Claim mode: at most one winner per unit, leases and fencing tokens, scope claims, and the
external-agent protocol through the real CLI."""

from __future__ import annotations

import json
import multiprocessing
import signal
import time
from pathlib import Path

import pytest
from conftest import BackgroundRun, bosun, first_parent_merges, git, toml_plan, write_unit

from bosun.orchestration.claims import Claim, Lost, claim, promote_ready
from bosun.orchestration.gitcmd import GitRepo
from bosun.orchestration.graph import build_graph
from bosun.orchestration.plan import parse_plan
from bosun.orchestration.session import open_session
from bosun.orchestration.store import Store

EXTERNAL = {"ext": {"kind": "external"}, "other": {"kind": "external"}}


def plan_of(units: list[dict], agents: dict | None = None, **project):
    return parse_plan(toml_plan(units, agents or EXTERNAL, mode="claim", **project), Path("bosun.toml"))


def fresh_store(path: Path, plan) -> Store:
    store = Store(path)
    store.add_units([(u.id, u.agent) for u in plan.units.values()])
    return store


def _race(db_path: str, plan_text: str, owner: str, start, out: multiprocessing.Queue) -> None:
    plan = parse_plan(plan_text, Path("bosun.toml"))
    store = Store(Path(db_path))
    won = []
    start.wait()  # a barrier: every process is ready before anyone claims
    while isinstance(outcome := claim(store, plan, owner, 60), Claim):
        won.append((outcome.unit, outcome.epoch))
    out.put(won)
    store.close()


@pytest.mark.slow
def test_sixteen_processes_racing_over_a_thousand_units_claim_each_exactly_once(tmp_path: Path) -> None:
    units = [{"id": f"u{i:04d}"} for i in range(1000)]
    text = toml_plan(units, {f"a{i}": {"kind": "external"} for i in range(16)}, mode="claim")
    plan = parse_plan(text, Path("bosun.toml"))
    store = fresh_store(tmp_path / "state.db", plan)
    promote_ready(store, build_graph(plan))
    ctx = multiprocessing.get_context("spawn")
    start, out = ctx.Barrier(16), ctx.Queue()
    procs = [ctx.Process(target=_race, args=(str(tmp_path / "state.db"), text, f"a{i}", start, out)) for i in range(16)]
    for proc in procs:
        proc.start()
    results = [out.get(timeout=120) for _ in procs]
    for proc in procs:
        proc.join(timeout=30)
    claimed = [unit for won in results for unit, _ in won]
    assert len(claimed) == 1000 and set(claimed) == {u["id"] for u in units}
    assert sum(1 for won in results if won) > 1, "the race had a single participant"
    owners = {row.id: row.owner for row in store.units()}
    events = [e for e in store.events() if e.kind == "claimed"]
    assert len(events) == 1000 and all(owners[e.unit] == e.data["owner"] for e in events)


def test_a_claim_carries_a_lease_and_a_fencing_epoch(tmp_path: Path) -> None:
    plan = plan_of([{"id": "a"}])
    store = fresh_store(tmp_path / "state.db", plan)
    promote_ready(store, build_graph(plan))
    first = claim(store, plan, "ext", 10, now=1000.0)
    assert isinstance(first, Claim) and first.epoch == 1
    assert isinstance(claim(store, plan, "other", 10, "a", now=1001.0), Lost)
    assert store.renew_lease("a", first.epoch, 10, now=1005.0)
    assert store.expire_leases(now=1014.0) == []  # renewed until 1015
    expired = store.expire_leases(now=1016.0)
    assert [e.unit for e in expired] == ["a"] and store.unit("a").state == "ready"
    second = claim(store, plan, "other", 10, now=1017.0)
    assert isinstance(second, Claim) and second.epoch == 2
    assert not store.renew_lease("a", first.epoch, 10, now=1018.0)  # the stale holder is fenced off


def test_a_held_scope_makes_an_overlapping_unit_wait_and_say_why(tmp_path: Path) -> None:
    plan = plan_of([{"id": "a", "scope": ["src/a.py"]}, {"id": "b", "scope": ["src/b.py"]}])
    store = fresh_store(tmp_path / "state.db", plan)
    promote_ready(store, build_graph(plan))
    # Plans cannot declare unordered overlapping scopes, so widen one in the store's view of the plan.
    wide = plan.units["b"].__class__(**{**plan.units["b"].__dict__, "scope": ("src",)})
    plan.units["b"] = wide
    assert isinstance(claim(store, plan, "ext", 60, "a"), Claim)
    lost = claim(store, plan, "other", 60, "b")
    assert isinstance(lost, Lost) and "waits" in lost.reason and "'a'" in lost.reason


def test_a_pinned_unit_and_a_handed_back_unit_go_only_to_their_agent(tmp_path: Path) -> None:
    plan = plan_of([{"id": "a", "agent": "ext"}])
    store = fresh_store(tmp_path / "state.db", plan)
    promote_ready(store, build_graph(plan))
    lost = claim(store, plan, "other", 60)
    assert isinstance(lost, Lost) and "for agent 'ext'" in lost.reason
    assert isinstance(claim(store, plan, "ext", 60), Claim)


def test_a_lease_run_out_is_renewed_only_by_the_supervisor_for_its_own_agents(tmp_path: Path) -> None:
    """A heartbeat past the lease comes too late; the supervisor's renewal of an agent it runs does
    not (a machine asleep longer than the lease would otherwise stop every agent at once)."""
    plan = plan_of([{"id": "a"}])
    store = fresh_store(tmp_path / "state.db", plan)
    promote_ready(store, build_graph(plan))
    held = claim(store, plan, "ext", 10, now=1000.0)
    assert not store.renew_lease("a", held.epoch, 10, now=1011.0), "a heartbeat after the lease ran out"
    assert store.renew_lease("a", held.epoch, 10, now=1011.0, revive=True), "the supervisor's own agent"
    assert store.expire_leases(now=1020.0) == []


def test_a_unit_a_person_took_over_and_handed_back_is_claimed_by_the_team(tmp_path: Path) -> None:
    """Claim mode: no agent is called `human`, so the unit must not wait for one."""
    from bosun.orchestration.states import HUMAN
    from bosun.orchestration.supervisor.moves import hand_back

    plan = plan_of([{"id": "a"}])
    store = fresh_store(tmp_path / "state.db", plan)
    promote_ready(store, build_graph(plan))
    held = claim(store, plan, "ext", 60)
    store.transition("a", "gate_failed", ("claimed",), epoch=held.epoch, owner=None, agent=HUMAN)
    assert hand_back(store, store.unit("a"), "over to you", kind="handed_back")
    assert isinstance(claim(store, plan, "other", 60), Claim)

    pinned = plan_of([{"id": "p", "agent": "ext"}])  # pinned in the plan: back to that agent only
    store = fresh_store(tmp_path / "pinned.db", pinned)
    promote_ready(store, build_graph(pinned))
    held = claim(store, pinned, "ext", 60)
    store.transition("p", "gate_failed", ("claimed",), epoch=held.epoch, owner=None, agent=HUMAN)
    assert hand_back(store, store.unit("p"), None, kind="handed_back")
    assert isinstance(claim(store, pinned, "other", 60), Lost) and isinstance(claim(store, pinned, "ext", 60), Claim)


@pytest.fixture
def claim_repo(project):
    def make(units, **keys):
        return project(units, {}, agents=EXTERNAL, mode="claim", **keys)

    return make


def commit_in(worktree: Path, name: str, text: str, message: str) -> None:
    """An agent's work: `src/NAME` written and committed in its worktree."""
    (worktree / "src" / name).write_text(text)
    git(worktree, "add", "-A")
    git(worktree, "commit", "-q", "-m", message)


def cli_json(result) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_an_external_agent_claims_commits_and_submits_through_the_cli(claim_repo) -> None:
    repo = claim_repo([{"id": "one", "scope": ["src/one.py"]}, {"id": "two", "depends_on": ["one"]}])
    board = cli_json(bosun("board", "--json", cwd=repo))
    assert [u["unit"] for u in board["ready"]] == ["one"] and board["claims"] == []
    task = cli_json(bosun("claim", "--agent", "ext", cwd=repo))
    assert task["unit"] == "one" and task["token"] == 1 and Path(task["worktree"]).is_dir()
    assert bosun("claim", "--agent", "other", cwd=repo).returncode == 1  # nothing else is ready
    worktree = Path(task["worktree"])
    commit_in(worktree, "one.py", "ONE = 1\n", "one")
    assert bosun("heartbeat", "one", "--token", "1", cwd=repo).returncode == 0
    submitted = bosun("submit", "one", "--token", "1", cwd=repo)
    assert submitted.returncode == 0 and "no supervisor" in submitted.stdout
    # A supervisor started later catches up from the store and gates it.
    resumed = bosun("resume", "--headless", cwd=repo)
    assert resumed.returncode == 1  # 'two' is ready for external agents only
    assert first_parent_merges(repo) == ["one"]
    board = cli_json(bosun("board", "--json", cwd=repo))
    assert [u["unit"] for u in board["ready"]] == ["two"] and board["integrated"][0]["unit"] == "one"


def test_an_external_agent_may_hand_back_a_rejected_commit_unchanged(claim_repo) -> None:
    """After a human turned down work whose gate passed, `submit` takes the same commit again (the
    task names it as `passed_gate`); a new commit is still asked for anywhere else."""
    repo = claim_repo([{"id": "one", "scope": ["src/one.py"]}], merge="manual")
    task = cli_json(bosun("claim", "--agent", "ext", cwd=repo))
    worktree = Path(task["worktree"])
    commit_in(worktree, "one.py", "ONE = 1\n", "one")
    commit = git(worktree, "rev-parse", "HEAD")
    assert bosun("submit", "one", "--token", "1", cwd=repo).returncode == 0
    assert bosun("resume", "--headless", cwd=repo).returncode == 1  # gated, waits for approval
    assert bosun("reject", "one", "--note", "is ONE right?", cwd=repo).returncode == 0
    assert bosun("resume", "--headless", cwd=repo).returncode == 1  # the rejection applied
    task = cli_json(bosun("claim", "--agent", "ext", cwd=repo))
    assert task["handback"]["passed_gate"] == commit and task["handback"]["note"] == "is ONE right?"
    (worktree / "src" / "one.py").write_text("ONE = 2\n")  # an edit left uncommitted is not "unchanged"
    refused = bosun("submit", "one", "--token", str(task["token"]), cwd=repo)
    assert refused.returncode == 2 and "no new commit" in refused.stderr, refused.stderr
    git(worktree, "checkout", "--", "src/one.py")
    submitted = bosun("submit", "one", "--token", str(task["token"]), cwd=repo)
    assert submitted.returncode == 0, submitted.stderr
    assert bosun("resume", "--headless", cwd=repo).returncode == 1
    assert bosun("approve", "one", cwd=repo).returncode == 0
    assert bosun("resume", "--headless", cwd=repo).returncode == 0
    assert first_parent_merges(repo) == ["one"]
    assert git(repo, "rev-parse", "bosun/integration^2") == commit


def test_a_holder_paused_past_its_lease_is_refused_and_nothing_is_lost(claim_repo) -> None:
    repo = claim_repo([{"id": "one"}], lease="1s")
    task = cli_json(bosun("claim", "--agent", "ext", cwd=repo))
    worktree = Path(task["worktree"])
    commit_in(worktree, "one.py", "SLOW = 1\n", "slow work")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # wait for the lease to run out, as the board sees it
        board = cli_json(bosun("board", "--json", cwd=repo))
        if board["ready"]:
            break
    assert [u["unit"] for u in board["ready"]] == ["one"] and board["claims"] == []
    late = bosun("submit", "one", "--token", str(task["token"]), cwd=repo)
    assert late.returncode == 1 and "stale" in late.stderr
    retaken = cli_json(bosun("claim", "one", "--agent", "other", cwd=repo))
    assert retaken["token"] == task["token"] + 1
    worktree = Path(retaken["worktree"])
    commit_in(worktree, "one.py", "ONE = 1\n", "one, again")
    assert bosun("submit", "one", "--token", str(retaken["token"]), cwd=repo).returncode == 0
    assert bosun("resume", "--headless", cwd=repo).returncode == 0
    assert first_parent_merges(repo) == ["one"]
    assert git(repo, "show", "bosun/integration:src/one.py") == "ONE = 1"
    kinds = [json.loads(line)["kind"] for line in bosun("resume", "--headless", "--json", cwd=repo).stdout.splitlines()]
    assert "merged" not in kinds  # merged exactly once


def test_release_and_revoke_return_the_unit(claim_repo) -> None:
    repo = claim_repo([{"id": "one"}])
    task = cli_json(bosun("claim", "--agent", "ext", cwd=repo))
    assert bosun("release", "one", "--token", str(task["token"]), cwd=repo).returncode == 0
    assert bosun("release", "one", "--token", str(task["token"]), cwd=repo).returncode == 1
    task = cli_json(bosun("claim", "--agent", "other", cwd=repo))
    assert bosun("revoke", "one", cwd=repo).returncode == 0
    refused = bosun("heartbeat", "one", "--token", str(task["token"]), cwd=repo)
    assert refused.returncode == 1 and "stale" in refused.stderr
    assert not Path(task["worktree"]).exists()


def test_claim_mode_with_agents_bosun_starts_runs_to_all_merged(project) -> None:
    units = [{"id": f"u{i}", "scope": [f"src/u{i}.py"]} for i in range(4)]
    script = {u["id"]: [write_unit(f"src/{u['id']}.py", f"V = {i}\n")] for i, u in enumerate(units)}
    repo = project(units, script, mode="claim")
    result = bosun("run", "--headless", "--json", cwd=repo)
    failed = [e for e in map(json.loads, result.stdout.splitlines()) if e["kind"] == "failed"]
    assert result.returncode == 0, (result.stderr, failed)
    claims = [e for e in map(json.loads, result.stdout.splitlines()) if e["kind"] == "claimed"]
    assert sorted(c["unit"] for c in claims) == [u["id"] for u in units]
    assert {c["owner"] for c in claims} <= {"ada", "bob"} and all(c["lease_s"] == 60 for c in claims)
    assert sorted(first_parent_merges(repo)) == [u["id"] for u in units]


def test_external_agents_refuse_agents_bosun_starts(project) -> None:
    repo = project([{"id": "a"}], {"a": [write_unit("src/a.py", "A = 1\n")]}, mode="claim")
    result = bosun("claim", "--agent", "ada", cwd=repo)
    assert result.returncode == 2 and "external" in result.stderr


def test_only_claims_and_heartbeats_skip_their_own_fsync(tmp_path: Path) -> None:
    plan = plan_of([{"id": "a"}, {"id": "b"}])
    store = fresh_store(tmp_path / "state.db", plan)
    promote_ready(store, build_graph(plan))
    toggles = []
    store.db.set_trace_callback(lambda sql: toggles.append(sql) if "synchronous =" in sql else None)

    def synchronous() -> int:
        """The setting the last transaction ran under (it changes only as the next one begins): 1 NORMAL, 2 FULL."""
        return store.db.execute("PRAGMA synchronous").fetchone()[0]

    won = claim(store, plan, "ext", 60)
    assert isinstance(won, Claim) and synchronous() == 1
    assert store.renew_lease("a", won.epoch, 60) and synchronous() == 1
    assert isinstance(claim(store, plan, "ext", 60), Claim) and synchronous() == 1
    assert len(toggles) == 1, "one PRAGMA for a run of claims and heartbeats, not two each"
    store.transition("a", "running", ("claimed",))
    assert synchronous() == 2
    store.transition("b", "running", ("claimed",))
    assert synchronous() == 2 and len(toggles) == 2
    assert store.renew_lease("a", won.epoch, 60) and store.renew_lease("a", won.epoch, 60)
    assert synchronous() == 1 and len(toggles) == 3
    reopened = Store(tmp_path / "state.db")  # what was committed without fsync is committed
    assert reopened.unit("a").owner == "ext" and reopened.unit("a").epoch == won.epoch


def test_a_supervisor_started_later_leaves_external_claims_alone(claim_repo) -> None:
    repo = claim_repo([{"id": "one"}])
    task = cli_json(bosun("claim", "--agent", "ext", cwd=repo))
    run = BackgroundRun(repo, "resume", "--headless", "--json")
    try:
        run.wait_for("supervisor_started")
        assert bosun("heartbeat", "one", "--token", str(task["token"]), cwd=repo).returncode == 0
        worktree = Path(task["worktree"])
        commit_in(worktree, "one.py", "ONE = 1\n", "one")
        assert bosun("submit", "one", "--token", str(task["token"]), cwd=repo).returncode == 0
        run.wait_for("merged", "one")
        assert run.finish() == 0
    finally:
        run.proc.kill()
    assert "recovered" not in [e["kind"] for e in run.seen]


def test_a_claim_logs_one_event_with_its_owner_epoch_and_lease_heard_or_not(tmp_path: Path) -> None:
    plan = plan_of([{"id": "a"}, {"id": "b"}, {"id": "c"}])
    store = fresh_store(tmp_path / "state.db", plan)
    promote_ready(store, build_graph(plan))
    first = claim(store, plan, "ext", 60)  # nobody listening
    heard = []
    store.listeners.append(heard.append)
    second = claim(store, plan, "other", 30)
    third = claim(store, plan, "ext", 45.5, "c")
    assert isinstance(first, Claim) and isinstance(second, Claim) and isinstance(third, Claim)
    claims = [e for e in store.events() if e.kind == "claimed"]
    assert [(e.unit, e.data) for e in claims] == [
        ("a", {"from": "ready", "to": "claimed", "owner": "ext", "epoch": 1, "lease_s": 60}),
        ("b", {"from": "ready", "to": "claimed", "owner": "other", "epoch": 1, "lease_s": 30}),
        ("c", {"from": "ready", "to": "claimed", "owner": "ext", "epoch": 1, "lease_s": 45.5}),
    ]
    assert heard == claims[1:], "a listener hears each claim once, as logged"
    assert isinstance(claim(store, plan, "other", 60), Lost) and len(heard) == 2


def test_a_claim_takes_the_ready_unit_with_the_longest_chain_behind_it_first(tmp_path: Path) -> None:
    """Critical path first in claim mode too: `alone` comes first in the plan, but three units wait
    behind `head` and one behind `short`; a unit asked for by name is taken as named."""
    units = [
        {"id": "alone"},
        {"id": "head"},
        {"id": "middle", "depends_on": ["head"]},
        {"id": "tail", "depends_on": ["middle"]},
        {"id": "short"},
        {"id": "after_short", "depends_on": ["short"]},
    ]
    plan = plan_of(units)
    store = fresh_store(tmp_path / "state.db", plan)
    promote_ready(store, build_graph(plan))
    taken = [claim(store, plan, "ext", 60) for _ in range(3)]
    assert [c.unit for c in taken if isinstance(c, Claim)] == ["head", "short", "alone"], taken
    assert isinstance(claim(store, plan, "other", 60), Lost)  # nothing else is ready yet

    named = plan_of([{"id": "first"}, {"id": "deep"}, {"id": "then", "depends_on": ["deep"]}])
    store = fresh_store(tmp_path / "named.db", named)
    promote_ready(store, build_graph(named))
    assert claim(store, named, "ext", 60, unit_id="first").unit == "first"


def test_a_unit_a_batch_covered_from_above_is_judged_alone_before_it_lands_alone(claim_repo) -> None:
    """b and c pass their gate together (the run on c's candidate, b's under it) while b's run alone
    is still going; the supervisor stops, a person approves b only. b alone was never judged, and
    fails alone: it must be judged again, never landed on the strength of the run that had c on
    top of it (it was, after a restart: the integration branch held a tree that fails)."""
    gate = "test -e src/companion.txt || { sleep 3; test ! -e src/needs.txt; }"  # needs.txt wants its companion
    units = [{"id": "b", "scope": ["src/needs.txt"]}, {"id": "c", "scope": ["src/companion.txt"]}]
    repo = claim_repo(units, gate=gate, merge="manual", batch=2, gate_parallel=2, semantic="off")
    for agent, unit, name in (("ext", "b", "needs.txt"), ("other", "c", "companion.txt")):
        task = cli_json(bosun("claim", "--agent", agent, unit, cwd=repo))
        work = Path(task["worktree"])
        commit_in(work, name, "x\n", name)
        assert bosun("submit", unit, "--token", str(task["token"]), cwd=repo).returncode == 0
    run = BackgroundRun(repo, "resume", "--headless", "--json")
    run.wait_for("awaiting_approval", "b")  # by the run on c's candidate; b's own still runs
    run.proc.send_signal(signal.SIGTERM)
    run.finish()
    session = open_session(GitRepo(repo))
    b = session.store.unit("b")
    judged = {r.id: r.commit_id for r in session.store.gate_runs()}[b.gate_run]
    session.close()
    assert b.state == "awaiting_approval" and judged != b.candidate, "b was covered from above only"
    assert bosun("approve", "b", cwd=repo).returncode == 0
    bosun("resume", "--headless", cwd=repo)
    for commit in git(repo, "rev-list", "--first-parent", "bosun/integration").split():
        files = git(repo, "ls-tree", "-r", "--name-only", commit, "src").split()
        assert "src/needs.txt" not in files or "src/companion.txt" in files, f"{commit} fails the gate"


def test_a_claim_past_its_lease_is_stale_with_no_supervisor_and_its_work_goes_with_it(claim_repo) -> None:
    """No supervisor runs to sweep leases: a heartbeat or submit after the lease ran out is refused
    all the same; the next taker gets a fresh worktree, not the commits the lost holder made (they
    were merged under its claim: the fencing token held in the store and not in git)."""
    repo = claim_repo([{"id": "u", "scope": ["src/u.py"]}], lease="1s")
    first = cli_json(bosun("claim", "--agent", "ext", cwd=repo))
    work = Path(first["worktree"])
    commit_in(work, "u.py", "BY = 'the lost holder'\n", "made under the claim that ran out")
    time.sleep(1.5)  # the one-second lease runs out: the passing of time is what is tested
    late = bosun("heartbeat", "u", "--token", str(first["token"]), cwd=repo)
    assert late.returncode == 1 and "stale" in late.stderr, late.stdout + late.stderr
    assert bosun("submit", "u", "--token", str(first["token"]), cwd=repo).returncode == 1
    second = cli_json(bosun("claim", "--agent", "other", cwd=repo))
    assert second["token"] > first["token"]
    assert "made under the claim that ran out" not in git(Path(second["worktree"]), "log", "--format=%s")
    refused = bosun("submit", "u", "--token", str(second["token"]), cwd=repo)  # nothing of its own
    assert refused.returncode != 0, refused.stdout


def test_a_branch_moved_behind_its_base_is_no_work_and_is_never_merged(claim_repo) -> None:
    """`git reset --hard HEAD~1` past the base moves the branch, but nothing of the unit's own is
    on it: the submit is refused (it was merged as an empty merge and the unit called done)."""
    repo = claim_repo([{"id": "u", "scope": ["src/u.py"]}])
    (repo / "README").write_text("a second commit on main, so the base has a parent\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "second")
    task = cli_json(bosun("claim", "--agent", "ext", cwd=repo))
    work = Path(task["worktree"])
    git(work, "reset", "-q", "--hard", "HEAD~1")
    refused = bosun("submit", "u", "--token", str(task["token"]), cwd=repo)
    assert refused.returncode != 0 and "no new commit" in refused.stderr, refused.stdout + refused.stderr
    git(work, "reset", "-q", "--hard", task["base_commit"])  # real work on top of the base is taken as ever
    commit_in(work, "u.py", "U = 1\n", "u")
    assert bosun("submit", "u", "--token", str(task["token"]), cwd=repo).returncode == 0
