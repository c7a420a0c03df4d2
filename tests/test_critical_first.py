"""Critical path first (issue 28): a free agent, and a place in the merge queue, go to the ready
unit with the longest chain of units waiting behind it, not to the first one in plan order."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import bosun, first_parent_merges, write_unit

from bosun.orchestration.gitcmd import GitRepo
from bosun.orchestration.graph import build_graph, chain_heights, critical_first
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


def test_chain_heights_count_the_units_waiting_behind() -> None:
    text = '[agents.a]\nkind = "external"\n' + "".join(
        f'[[units]]\nid = "{u["id"]}"\nprompt = "p"\ndepends_on = {json.dumps(u.get("depends_on", []))}\n'
        for u in UNITS
    )
    graph = build_graph(parse_plan(text, Path("bosun.toml")))
    assert chain_heights(graph) == {"x": 1, "y": 1, "a": 3, "b": 2, "c": 1}

    class Row:
        def __init__(self, unit: str) -> None:
            self.id = unit

    order = [r.id for r in critical_first(graph, [Row(u) for u in ("x", "y", "a", "b")])]
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
