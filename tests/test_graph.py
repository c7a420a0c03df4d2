"""The dependency graph: readiness, layers, critical path and the four renderings."""

from __future__ import annotations

import json
from pathlib import Path

from bosun.orchestration.graph import build_graph, critical_path, layers, ready_units, render
from bosun.orchestration.plan import parse_plan


def plan(edges: dict[str, list[str]]):
    text = '[agents.a]\nkind = "external"\n' + "".join(
        f'[[units]]\nid = "{u}"\nprompt = "p"\ndepends_on = {json.dumps(deps)}\n' for u, deps in edges.items()
    )
    return parse_plan(text, Path("bosun.toml"))


DIAMOND = {"a": [], "b": ["a"], "c": ["a"], "d": ["b", "c"], "e": []}


def test_ready_units_need_every_dependency_merged() -> None:
    graph = build_graph(plan(DIAMOND))
    states = {u: "pending" for u in DIAMOND}
    assert ready_units(graph, states) == ["a", "e"]
    states.update(a="merged", b="merged", c="gating")
    assert ready_units(graph, states) == ["e"]
    states.update(c="merged")
    assert ready_units(graph, states) == ["d", "e"]


def test_layers_and_critical_path() -> None:
    graph = build_graph(plan(DIAMOND))
    assert [sorted(layer) for layer in layers(graph)] == [["a", "e"], ["b", "c"], ["d"]]
    path = critical_path(graph)
    assert path[0] == "a" and path[-1] == "d" and len(path) == 3
    assert critical_path(graph, {"a": "merged", "b": "merged", "c": "merged"}) in (["d"], ["e"])


def test_renderings_carry_states_and_edges() -> None:
    graph = build_graph(plan(DIAMOND))
    states, owners = {"a": "merged", "b": "running"}, {"b": "ada"}
    ascii_text = render(graph, states, owners, "ascii")
    assert "b [running @ada]  <- a" in ascii_text and "layer 2" in ascii_text
    dot = render(graph, states, owners, "dot")
    assert '"a" -> "b";' in dot and "palegreen" in dot
    mermaid = render(graph, states, owners, "mermaid")
    assert mermaid.startswith("flowchart LR") and mermaid.count("-->") == 4
    data = json.loads(render(graph, states, owners, "json"))
    assert {u["id"]: u["state"] for u in data["units"]}["b"] == "running"
    assert {u["id"]: u["depends_on"] for u in data["units"]}["d"] == ["b", "c"]
