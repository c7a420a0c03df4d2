"""The unit dependency graph (networkx): what is ready, the layers, the critical path, renderings."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import NamedTuple

import networkx as nx

from bosun.orchestration.plan import Plan
from bosun.orchestration.states import DONE_STATES, MERGED, PENDING, READY


def build_graph(plan: Plan) -> nx.DiGraph:
    """Edges point from a dependency to the unit that needs it."""
    graph = nx.DiGraph()
    for unit in plan.units.values():
        graph.add_node(unit.id, title=unit.title, agent=unit.agent)
    for unit in plan.units.values():
        graph.add_edges_from((dep, unit.id) for dep in unit.depends_on)
    return graph


def dependencies_merged(graph: nx.DiGraph, unit: str, states: Mapping[str, str]) -> bool:
    return all(states.get(dep) == MERGED for dep in graph.predecessors(unit))


def ready_units(graph: nx.DiGraph, states: Mapping[str, str]) -> list[str]:
    """Pending units whose every dependency is merged, in plan order."""
    return [u for u in graph if states.get(u) == "pending" and dependencies_merged(graph, u, states)]


def layers(graph: nx.DiGraph) -> list[list[str]]:
    """Topological generations: a unit sits one layer right of its deepest dependency."""
    return [list(layer) for layer in nx.topological_generations(graph)]


def critical_path(graph: nx.DiGraph, states: Mapping[str, str] | None = None) -> list[str]:
    """The longest chain of units still to merge (all units when no states are given)."""
    states = states or {}
    open_units = graph.subgraph([u for u in graph if states.get(u) not in DONE_STATES])
    return nx.dag_longest_path(open_units) if open_units else []


def chain_heights(graph: nx.DiGraph) -> dict[str, int]:
    """For each unit, how many units the longest chain from it down through its dependents holds
    (itself included): the units left to wait behind it. Remembered per graph."""
    cached = graph.graph.get("chain_heights")
    if cached is not None:
        return cached
    heights: dict[str, int] = {}
    for unit in reversed(list(nx.topological_sort(graph))):
        heights[unit] = 1 + max((heights[d] for d in graph.successors(unit)), default=0)
    graph.graph["chain_heights"] = heights
    return heights


def critical_first(graph: nx.DiGraph, rows: list) -> list:
    """`rows` (units, in plan order) with the longest chains left first, then plan order: the unit
    the most work waits behind gets the free agent, and its place in the queue, first."""
    heights = chain_heights(graph)
    return sorted(rows, key=lambda row: -heights.get(row.id, 1))


class Kept(NamedTuple):
    """Agents held back for the longest chains: `agents` of them, for units `height` units deep or more."""

    agents: int
    height: int
    longest: int


def kept_free_for(graph: nx.DiGraph, rows: list, agents: int) -> Kept | None:
    """The agents kept free for the longest chains, or None when every agent may take anything.
    Agents are kept only while the work left is deeper than it is wide: its longest chain, times
    the agents not kept, covers every unit left (counting each unit as the same work). Then the
    agents waiting cost the plan nothing, and the next units of the longest chains start the
    moment their dependencies merge instead of when an agent frees. As many are kept as there are
    units not yet handed out at the top of the longest chains or right behind it (units of equal
    height are as critical as each other: one held agent served only the first of them)."""
    left = [row for row in rows if row.state not in DONE_STATES]
    if agents < 2 or not left:
        return None
    heights = chain_heights(graph)
    longest = max(heights.get(row.id, 1) for row in left)
    height = max(1, longest - 1)
    waiting = sum(1 for row in left if row.state in (PENDING, READY) and heights.get(row.id, 1) >= height)
    kept = min(waiting, agents - math.ceil(len(left) / longest))
    return Kept(kept, height, longest) if kept >= 1 else None


def render(graph: nx.DiGraph, states: Mapping[str, str], owners: Mapping[str, str | None], fmt: str) -> str:
    return {"ascii": _ascii, "dot": _dot, "mermaid": _mermaid, "json": _json}[fmt](graph, states, owners)


def _label(unit: str, states: Mapping[str, str], owners: Mapping[str, str | None]) -> str:
    owner = owners.get(unit)
    return f"{unit} [{states.get(unit, 'pending')}{' @' + owner if owner else ''}]"


def _ascii(graph, states, owners) -> str:
    lines: list[str] = []
    critical = set(critical_path(graph, states))
    for number, layer in enumerate(layers(graph)):
        lines.append(f"layer {number}")
        for unit in layer:
            deps = sorted(graph.predecessors(unit))
            mark = "*" if unit in critical else " "
            after = f"  <- {', '.join(deps)}" if deps else ""
            lines.append(f" {mark} {_label(unit, states, owners)}{after}")
    lines.append("(* critical path)")
    return "\n".join(lines)


def _dot(graph, states, owners) -> str:
    colours = {
        "merged": "palegreen",
        "pending": "white",
        "ready": "lightblue",
        "running": "gold",
        "conflicted": "salmon",
        "semantic_conflict": "salmon",
        "gate_failed": "salmon",
        "failed": "salmon",
        "out_of_scope": "salmon",
        "awaiting_approval": "orange",
        "cancelled": "grey",
    }
    lines = ["digraph bosun {", "  rankdir=LR;", "  node [shape=box, style=filled];"]
    for unit in graph:
        state = states.get(unit, "pending")
        lines.append(
            f"  {json.dumps(unit)} [label={json.dumps(_label(unit, states, owners))}, "
            f"fillcolor={json.dumps(colours.get(state, 'lightyellow'))}];"
        )
    lines += [f"  {json.dumps(a)} -> {json.dumps(b)};" for a, b in graph.edges]
    lines.append("}")
    return "\n".join(lines)


def _mermaid(graph, states, owners) -> str:
    ids = {unit: f"u{i}" for i, unit in enumerate(graph)}
    lines = ["flowchart LR"]
    for unit in graph:
        label = _label(unit, states, owners).replace('"', "'")
        lines.append(f'  {ids[unit]}["{label}"]:::{states.get(unit, "pending")}')
    lines += [f"  {ids[a]} --> {ids[b]}" for a, b in graph.edges]
    return "\n".join(lines)


def _json(graph, states, owners) -> str:
    return json.dumps(
        {
            "units": [
                {
                    "id": u,
                    "state": states.get(u, "pending"),
                    "owner": owners.get(u),
                    "depends_on": sorted(graph.predecessors(u)),
                }
                for u in graph
            ],
            "layers": layers(graph),
            "critical_path": critical_path(graph, states),
        },
        indent=2,
    )
