"""The dependency graph laid out in layers, left to right: a unit sits one layer right of its
deepest dependency, and each layer is ordered by where its dependencies sit (two barycentre
sweeps) so edges cross less. Plain arithmetic, no graph library: a few hundred units lay out at once."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Placed:
    unit: str
    layer: int
    row: int


def layers(depends_on: dict[str, list[str]], order: list[str]) -> dict[str, int]:
    """Each unit's layer: 0 without dependencies, else one more than its deepest dependency
    (dependencies outside `order` count as none; units on a cycle, which a plan refuses, go last)."""
    known = set(order)
    deps = {u: [d for d in dict.fromkeys(depends_on.get(u, [])) if d in known] for u in order}
    waiting = {u: len(deps[u]) for u in order}
    dependents: dict[str, list[str]] = {}
    for unit in order:
        for dep in deps[unit]:
            dependents.setdefault(dep, []).append(unit)
    depth: dict[str, int] = {}
    ready = [u for u in order if not waiting[u]]
    while ready:
        unit = ready.pop()
        depth[unit] = 1 + max((depth[d] for d in deps[unit]), default=-1)
        for after in dependents.get(unit, []):
            waiting[after] -= 1
            if not waiting[after]:
                ready.append(after)
    last = 1 + max(depth.values(), default=-1)
    return {u: depth.get(u, last) for u in order}


def place(depends_on: dict[str, list[str]], order: list[str]) -> list[Placed]:
    depth = layers(depends_on, order)
    columns: dict[int, list[str]] = {}
    for unit in order:
        columns.setdefault(depth[unit], []).append(unit)
    row = {u: i for column in columns.values() for i, u in enumerate(column)}
    dependents: dict[str, list[str]] = {}
    for unit in order:
        for dep in depends_on.get(unit, []):
            dependents.setdefault(dep, []).append(unit)
    for sweep in range(2):  # forward by dependencies, then back by dependents
        for layer in sorted(columns, reverse=sweep == 1):
            neighbours = depends_on if sweep == 0 else dependents
            keyed = []
            for unit in columns[layer]:
                near = [row[n] for n in neighbours.get(unit, []) if n in row]
                keyed.append((sum(near) / len(near) if near else row[unit], row[unit], unit))
            columns[layer] = [u for _, _, u in sorted(keyed)]
            row.update((u, i) for i, u in enumerate(columns[layer]))
    return [Placed(u, depth[u], row[u]) for u in order]
