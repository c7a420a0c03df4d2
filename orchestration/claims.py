"""Claims: at most one owner per unit, taken by one compare-and-swap in the store with a lease
and a fencing token (the unit's epoch). A unit's declared scope is claimed with it.

The same functions serve the supervisor (for the agents it starts) and `bosun claim` (for
external agents), with or without a supervisor running.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bosun.orchestration.scope import scopes_overlap
from bosun.orchestration.states import CLAIMED, PENDING, READY, RUNNING
from bosun.orchestration.store import StaleState, Store

if TYPE_CHECKING:  # networkx and the plan's declaration take ~0.3 s to load: not for a heartbeat
    import networkx as nx

    from bosun.orchestration.plan import Plan

HELD = (CLAIMED, RUNNING)


@dataclass(frozen=True)
class Claim:
    """A won claim: `epoch` is the token every later write must carry."""

    unit: str
    owner: str
    epoch: int
    lease_s: float


@dataclass(frozen=True)
class Lost:
    """Why no claim was won, for the agent and the person watching."""

    reason: str


def scope_holder(db: sqlite3.Connection, plan: Plan, unit_id: str) -> str | None:
    """The held unit whose declared scope overlaps `unit_id`'s, if any (read inside the claim's transaction)."""
    scope = plan.units[unit_id].scope
    if not scope:
        return None
    for (other_id,) in db.execute("SELECT id FROM units WHERE state IN ('claimed', 'running') AND id != ?", (unit_id,)):
        other = plan.units.get(other_id)
        if other is not None and other.scope and scopes_overlap(scope, other.scope):
            return other_id
    return None


def may_take(row_agent: str | None, row_pinned: str | None, has_handback: bool, owner: str) -> bool:
    """A hand-back goes to the agent that had the unit; a pinned unit only to its agent."""
    wanted = row_agent if has_handback else row_pinned
    return wanted is None or wanted == owner


def claim(
    store: Store, plan: Plan, owner: str, lease_s: float, unit_id: str | None = None, now: float | None = None
) -> Claim | Lost:
    """Claim `unit_id`, or the first ready unit `owner` may take, in one compare-and-swap.

    Without scopes or dependencies in the plan, the choice and the swap are one UPDATE
    (Store.claim_first); otherwise the held scopes are read, and the unit with the longest chain
    behind it chosen, inside the claim's transaction. A claim lost without scopes is explained
    afterwards, from a read that takes no lock."""
    scoped, heights = plan_facts(plan)
    if not scoped and (unit_id is not None or not heights):
        won = store.claim_first(owner, lease_s, unit_id, now=now)
        if won is not None:
            return Claim(won[0], owner, won[1], lease_s)
        chooser = Chooser(plan, owner, unit_id)
        if chooser(store.db) is not None:  # ready now, not when the swap ran: another released it since
            chooser.refusals.append("lost the race")
        return chooser.lost()
    chooser = Chooser(plan, owner, unit_id)
    won = store.claim_chosen(owner, lease_s, chooser, now=now)
    return chooser.lost() if won is None else Claim(won[0], owner, won[1], lease_s)


class Chooser:
    """Picks the unit to claim from inside the claim's transaction, noting why each other one is refused."""

    def __init__(self, plan: Plan, owner: str, unit_id: str | None) -> None:
        self.plan, self.owner, self.unit_id = plan, owner, unit_id
        self.refusals: list[str] = []

    def refusal(self, db: sqlite3.Connection, row: tuple) -> str | None:
        candidate, state, agent, pinned, handback, holder = row
        if state != READY:
            return f"unit '{candidate}' is {state}" + (f" (held by {holder})" if holder else "")
        if not may_take(agent, pinned, handback is not None, self.owner):
            return f"unit '{candidate}' is for agent '{agent if handback else pinned}'"
        if (other := scope_holder(db, self.plan, candidate)) is not None:
            return f"unit '{candidate}' waits: its scope overlaps unit '{other}', which is held"
        return None

    def __call__(self, db: sqlite3.Connection) -> str | None:
        sql = "SELECT id, state, agent, pinned, handback, owner FROM units"
        if self.unit_id is not None:
            rows = db.execute(sql + " WHERE id = ?", (self.unit_id,))
        else:  # the longest chain of units waiting behind first, then plan order
            rows = db.execute(sql + " WHERE state = 'ready' ORDER BY position")
            heights = plan_facts(self.plan)[1]
            if heights:
                rows = sorted(rows, key=lambda row: -heights.get(row[0], 1))
        for row in rows:  # lazily: the first unit this agent may take ends the scan
            why = self.refusal(db, row)
            if why is None:
                return row[0]
            self.refusals.append(why)
        if not self.refusals:
            self.refusals.append(f"unknown unit '{self.unit_id}'" if self.unit_id else "no ready unit")
        return None

    def lost(self) -> Lost:
        return Lost(self.refusals[0] if len(self.refusals) == 1 else "; ".join(self.refusals[:3]) or "lost the race")


_FACTS: dict[int, tuple[Plan, bool, dict[str, int]]] = {}


def plan_facts(plan: Plan) -> tuple[bool, dict[str, int]]:
    """Whether any unit of `plan` declares a scope, and for a plan with dependencies each unit's
    chain height (itself and the longest chain of dependents behind it; empty without any).
    Remembered: a claim should not walk 5,000 units."""
    cached = _FACTS.get(id(plan))
    if cached is None or cached[0] is not plan:
        if len(_FACTS) > 8:  # a supervisor reloads its plan now and then; keep the last few
            _FACTS.clear()
        cached = _FACTS[id(plan)] = (plan, any(u.scope for u in plan.units.values()), _heights(plan))
    return cached[1], cached[2]


def _heights(plan: Plan) -> dict[str, int]:
    """What graph.chain_heights computes, from the plan alone (claims do not load networkx)."""
    dependents: dict[str, list[str]] = {}
    for unit in plan.units.values():
        for dependency in unit.depends_on:
            dependents.setdefault(dependency, []).append(unit.id)
    if not dependents:
        return {}
    heights: dict[str, int] = {}
    for start in plan.units:
        stack = [start]
        while stack:  # depth first, without recursion: a chain may be thousands long
            unit = stack[-1]
            waiting = [d for d in dependents.get(unit, ()) if d not in heights]
            if waiting:
                stack.extend(waiting)
                continue
            stack.pop()
            heights[unit] = 1 + max((heights[d] for d in dependents.get(unit, ())), default=0)
    return heights


def promote_ready(store: Store, graph: nx.DiGraph) -> list[str]:
    """Move every pending unit whose dependencies are all merged to `ready`."""
    from bosun.orchestration.graph import ready_units

    promoted = []
    for unit_id in ready_units(graph, {u.id: u.state for u in store.units()}):
        try:
            store.transition(unit_id, READY, (PENDING,))
            promoted.append(unit_id)
        except StaleState:
            pass
    return promoted


def release(store: Store, unit_id: str, epoch: int, kind: str = "released", **data) -> None:
    """Give a held unit back to `ready` (fresh worktree for the next taker); StaleState if not the holder."""
    store.transition(
        unit_id,
        READY,
        HELD,
        kind=kind,
        data=data,
        epoch=epoch,
        owner=None,
        lease_until=None,
        pid=None,
        handback=None,
        base_commit=None,
        head_commit=None,
        worktree=None,
    )
