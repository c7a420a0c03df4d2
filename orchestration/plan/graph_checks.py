"""The checks across units: dependencies on units that exist, no cycle (printed), and no two
units whose scopes overlap without a dependency ordering them (the message names both).

Plain dicts, not networkx: commands that only load a plan (status, heartbeat) start faster.
"""

from __future__ import annotations

from bosun.orchestration.plan.keys import UnitSpec
from bosun.orchestration.plan.places import Problems
from bosun.orchestration.scope import scopes_overlap


def graph_checks(problems: Problems, units: dict[str, UnitSpec]) -> None:
    dependents: dict[str, list[str]] = {u: [] for u in units}
    for unit in units.values():
        line = problems.depends_line.get(unit.id)
        for dep in unit.depends_on:
            if dep not in units:
                problems.add(f"unit '{unit.id}', depends_on", f"unknown unit '{dep}'", line)
            elif dep == unit.id:
                problems.add(f"unit '{unit.id}', depends_on", "a unit cannot depend on itself", line)
            else:
                dependents[dep].append(unit.id)
    cycle = _first_cycle(dependents)
    if cycle:
        path = " -> ".join(cycle + [cycle[0]])
        first = cycle[1]
        problems.add(f"unit '{first}', depends_on", f"dependency cycle: {path}", problems.depends_line.get(first))
        return
    ancestors = _ancestors(units)
    scoped = [u for u in units.values() if u.scope]
    for i, a in enumerate(scoped):
        for b in scoped[i + 1 :]:
            if a.id in ancestors[b.id] or b.id in ancestors[a.id]:
                continue
            if (pair := scopes_overlap(a.scope, b.scope)) is not None:
                problems.add(
                    f"units '{a.id}' and '{b.id}', scope",
                    f"'{pair[0]}' and '{pair[1]}' overlap and no dependency orders the two units "
                    "(they would collide: add depends_on or narrow a scope)",
                )


def _first_cycle(dependents: dict[str, list[str]]) -> list[str] | None:
    """The first cycle a depth-first walk in plan order meets, from the unit it entered it by."""
    done: set[str] = set()
    for start in dependents:
        if start in done:
            continue
        path, on_path, stack = [start], {start}, [iter(dependents[start])]
        while stack:
            step = next(stack[-1], None)
            if step is None:
                on_path.discard(path[-1])
                done.add(path.pop())
                stack.pop()
            elif step in on_path:
                return path[path.index(step) :]
            elif step not in done:
                path.append(step)
                on_path.add(step)
                stack.append(iter(dependents[step]))
    return None


def _ancestors(units: dict[str, UnitSpec]) -> dict[str, set[str]]:
    """Every unit's transitive dependencies (the plan has no cycle by now), without recursion."""
    found: dict[str, set[str]] = {}
    for start in units:
        stack = [start]
        while stack:
            unit_id = stack[-1]
            deps = [d for d in units[unit_id].depends_on if d in units and d != unit_id]
            missing = [d for d in deps if d not in found]
            if missing:
                stack.extend(missing)
                continue
            stack.pop()
            found[unit_id] = set(deps).union(*(found[d] for d in deps))
    return found
