"""Critical path first (issue 28): a free agent, and a place in the merge queue, go to the ready
unit with the longest chain of units waiting behind it, not to the first one in plan order."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import bosun, first_parent_merges, write_unit

from bosun.orchestration.gitcmd import GitRepo
from bosun.orchestration.graph import build_graph, chain_heights, critical_first, kept_free_for
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


def test_an_agent_is_kept_for_the_longest_chain_only_while_the_work_left_is_deeper_than_wide() -> None:
    deep = [*UNITS, {"id": "d", "depends_on": ["c"], "scope": ["src/d.py"]}]  # a..d: 4 deep, 6 units
    graph = _graph(deep)
    rows = [_Row(u["id"]) for u in deep]
    assert kept_free_for(graph, rows, 3) == 4  # 4 levels x 2 agents covers the 6 units
    assert kept_free_for(graph, rows, 2) is None  # 4 x 1 does not: every agent is needed for width
    assert kept_free_for(graph, rows, 1) is None
    # Once a..c are merged, the longest chain left is d alone and x, y, d are as wide as it is long.
    done = [_Row(u, "merged" if u in "abc" else "ready") for u in ("x", "y", "a", "b", "c", "d")]
    assert kept_free_for(graph, done, 3) is None
    assert kept_free_for(graph, [_Row(u, "merged") for u in ("x", "a")], 3) is None  # nothing left


@pytest.mark.parametrize("pinned", [False, True])
def test_the_last_free_agent_waits_for_the_next_unit_of_the_longest_chain(project, pinned: bool) -> None:
    units = [*UNITS, {"id": "d", "depends_on": ["c"], "scope": ["src/d.py"]}]
    if pinned:  # a unit pinned to its agent is never held: it wants that agent, not just any
        units = [{**u, "agent": "cy"} if u["id"] == "y" else u for u in units]
    script = {u["id"]: [write_unit(f"src/{u['id']}.py", f"{u['id'].upper()} = 1\n")] for u in units}
    agents = {name: {"kind": "scripted", "script": "team.toml"} for name in ("ada", "bob", "cy")}
    repo = project(units, script, agents=agents, max_agents=3, sandbox="off")
    result = bosun("run", "--headless", cwd=repo)
    assert result.returncode == 0, result.stdout + result.stderr
    session = open_session(GitRepo(repo))
    try:
        events = session.store.events()
    finally:
        session.close()
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
