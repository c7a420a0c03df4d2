"""Critical path first (issue 28): a free agent, and a place in the merge queue, go to the ready
unit with the longest chain of units waiting behind it, not to the first one in plan order."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import bosun, first_parent_merges, write_unit

from bosun.orchestration.gitcmd import GitRepo
from bosun.orchestration.graph import Kept, build_graph, chain_heights, critical_first, kept_free_for
from bosun.orchestration.plan import parse_plan
from bosun.orchestration.session import open_session

# Plan order puts two loose units first; the chain a -> b -> c comes after them.
UNITS = [
    {"id": "x", "scope": ["src/x.py"]},
    {"id": "y", "scope": ["src/y.py"]},
    {"id": "a", "scope": ["src/a.py"]},
    {"id": "b", "depends_on": ["a"], "scope": ["src/b.py"]},
    {"id": "c", "depends_on": ["b"], "scope": ["src/c.py"]},
]


def _graph(units: list[dict]):
    text = '[agents.a]\nkind = "external"\n' + "".join(
        f'[[units]]\nid = "{u["id"]}"\nprompt = "p"\ndepends_on = {json.dumps(u.get("depends_on", []))}\n'
        for u in units
    )
    return build_graph(parse_plan(text, Path("bosun.toml")))


class _Row:
    def __init__(self, unit: str, state: str = "ready") -> None:
        self.id, self.state = unit, state


def test_chain_heights_count_the_units_waiting_behind() -> None:
    graph = _graph(UNITS)
    assert chain_heights(graph) == {"x": 1, "y": 1, "a": 3, "b": 2, "c": 1}
    order = [r.id for r in critical_first(graph, [_Row(u) for u in ("x", "y", "a", "b")])]
    assert order == ["a", "b", "x", "y"]  # longest chain first, then plan order (a stable sort)


def test_one_agent_takes_the_head_of_the_long_chain_first(project) -> None:
    script = {u["id"]: [write_unit(f"src/{u['id']}.py", f"{u['id'].upper()} = 1\n")] for u in UNITS}
    repo = project(
        UNITS, script, agents={"ada": {"kind": "scripted", "script": "team.toml"}}, max_agents=1, sandbox="off"
    )
    result = bosun("run", "--headless", cwd=repo)
    assert result.returncode == 0, result.stdout + result.stderr
    session = open_session(GitRepo(repo))
    try:
        started = [e.unit for e in session.store.events() if e.kind == "running"]
    finally:
        session.close()
    assert started[0] == "a", started  # not x, first in plan order
    # (While a's gate runs the agent takes x: b is not ready until a merges.)
    assert sorted(first_parent_merges(repo)) == sorted(u["id"] for u in UNITS)


def test_agents_are_kept_for_the_longest_chains_only_while_the_work_left_is_deeper_than_wide() -> None:
    deep = [*UNITS, {"id": "d", "depends_on": ["c"], "scope": ["src/d.py"]}]  # a..d: 4 deep, 6 units
    graph = _graph(deep)
    rows = [_Row(u["id"]) for u in deep]
    # a and b (the top of the chain and the unit behind it) wait for agents; 4 levels x 2 agents
    # cover the 6 units, so one of three agents can be kept for units 3 or more deep.
    assert kept_free_for(graph, rows, 3) == Kept(agents=1, height=3, longest=4)
    assert kept_free_for(graph, rows, 2) is None  # 4 x 1 does not: every agent is needed for width
    assert kept_free_for(graph, rows, 1) is None
    # Once a..c are merged, the longest chain left is d alone and x, y, d are as wide as it is long.
    done = [_Row(u, "merged" if u in "abc" else "ready") for u in ("x", "y", "a", "b", "c", "d")]
    assert kept_free_for(graph, done, 3) is None
    assert kept_free_for(graph, [_Row(u, "merged") for u in ("x", "a")], 3) is None  # nothing left


def test_as_many_agents_are_kept_as_units_of_the_longest_chains_wait() -> None:
    """Two chains of equal length: both of their next units are as critical, so one kept agent
    would start one of them at once and the other only when some agent frees."""
    units = [{"id": f"{c}{i}", "depends_on": [f"{c}{i - 1}"] if i > 1 else []} for c in "pq" for i in (1, 2, 3)]
    units += [{"id": "l1"}, {"id": "l2"}]
    graph = _graph(units)
    rows = [_Row(u["id"], "ready" if u["id"] in ("p1", "q1", "l1", "l2") else "pending") for u in units]
    # 8 left, 3 deep: 3 agents do the width; of 6, up to 3 may wait, and p1, q1, p2, q2 want them.
    assert kept_free_for(graph, rows, 6) == Kept(agents=3, height=2, longest=3)
    started = [_Row(r.id, "running") if r.id in ("p1", "q1") else r for r in rows]
    assert kept_free_for(graph, started, 6) == Kept(agents=2, height=2, longest=3)  # p2 and q2 next
    assert kept_free_for(graph, rows, 4) == Kept(agents=1, height=2, longest=3)  # 4 - 3 for the width


def _run(project, units: list[dict], names: tuple[str, ...]) -> tuple[Path, list]:
    """`bosun run --headless` with one scripted agent per name (all at work at once): every event."""
    script = {u["id"]: [write_unit(f"src/{u['id']}.py", f"{u['id'].upper()} = 1\n")] for u in units}
    agents = {name: {"kind": "scripted", "script": "team.toml"} for name in names}
    repo = project(units, script, agents=agents, max_agents=len(names), sandbox="off")
    result = bosun("run", "--headless", cwd=repo)
    assert result.returncode == 0, result.stdout + result.stderr
    session = open_session(GitRepo(repo))
    try:
        return repo, session.store.events()
    finally:
        session.close()


@pytest.mark.parametrize("pinned", [False, True])
def test_the_last_free_agent_waits_for_the_next_unit_of_the_longest_chain(project, pinned: bool) -> None:
    units = [*UNITS, {"id": "d", "depends_on": ["c"], "scope": ["src/d.py"]}]
    if pinned:  # a unit pinned to its agent is never held: it wants that agent, not just any
        units = [{**u, "agent": "cy"} if u["id"] == "y" else u for u in units]
    repo, events = _run(project, units, ("ada", "bob", "cy"))
    started = [e.unit for e in events if e.kind == "claimed"]  # in hand-out order (agents start concurrently)
    assert started[:2] == ["a", "x"], started  # the chain's head, then one loose unit
    first = {(e.unit, e.kind): i for i, e in reversed(list(enumerate(events)))}
    if pinned:
        assert started[:3] == ["a", "x", "y"], started
        assert not [e for e in events if e.kind == "waiting"]
        return
    # y (a chain of one) did not take the third agent while a and x held two: it waited for one of
    # them to finish, and the session said why.
    assert first[("y", "claimed")] > min(first[("a", "submitted")], first[("x", "submitted")])
    kept = [e for e in events if e.kind == "waiting" and "longest chain" in e.data.get("reason", "")]
    assert kept and kept[0].data["reason"] == "one agent kept free for the longest chain (4 units)"
    assert sorted(first_parent_merges(repo)) == sorted(u["id"] for u in units)


def test_two_equal_chains_each_keep_an_agent(project) -> None:
    """p1..p3 and q1..q3 are as long as each other: two agents are kept, not one, so neither
    chain's next unit waits for an agent to free while the loose units run."""
    units = [
        {"id": f"{c}{i}", "scope": [f"src/{c}{i}.py"], "depends_on": [f"{c}{i - 1}"] if i > 1 else []}
        for c in "pq"
        for i in (1, 2, 3)
    ]
    units += [{"id": n, "scope": [f"src/{n}.py"]} for n in ("l1", "l2")]
    repo, events = _run(project, units, tuple(f"a{i}" for i in range(5)))
    claimed = [e.unit for e in events if e.kind == "claimed"]
    assert claimed[:3] == ["p1", "q1", "l1"], claimed  # 8 units, 3 deep: three agents do the width
    first = {(e.unit, e.kind): i for i, e in reversed(list(enumerate(events)))}
    assert first[("l2", "claimed")] > min(first[(u, "submitted")] for u in ("p1", "q1", "l1"))
    kept = [e.data["reason"] for e in events if e.kind == "waiting" and "longest chain" in e.data.get("reason", "")]
    assert kept and kept[0] == "2 agents kept free for the longest chain (3 units)", kept
    assert sorted(first_parent_merges(repo)) == sorted(u["id"] for u in units)
