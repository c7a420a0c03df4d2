"""Claims: at most one owner per unit, taken by one compare-and-swap in the store with a lease
and a fencing token (the unit's epoch). A unit's declared scope is claimed with it.

The same functions serve the supervisor (for the agents it starts) and `bosun claim` (for
external agents), with or without a supervisor running.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

import networkx as nx

from bosun.orchestration.graph import ready_units
from bosun.orchestration.plan import Plan
from bosun.orchestration.scope import scopes_overlap
from bosun.orchestration.states import CLAIMED, PENDING, READY, RUNNING
from bosun.orchestration.store import StaleState, Store

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
    for (other_id,) in db.execute("SELECT id FROM units WHERE state IN ('claimed', 'running') AND id != ?",
                                  (unit_id,)):
        other = plan.units.get(other_id)
        if other is not None and other.scope and scopes_overlap(scope, other.scope):
            return other_id
    return None


def may_take(row_agent: str | None, row_pinned: str | None, has_handback: bool, owner: str) -> bool:
    """A hand-back goes to the agent that had the unit; a pinned unit only to its agent."""
    wanted = row_agent if has_handback else row_pinned
    return wanted is None or wanted == owner


def claim(store: Store, plan: Plan, owner: str, lease_s: float, unit_id: str | None = None,
          now: float | None = None) -> Claim | Lost:
    """Claim `unit_id`, or the first ready unit `owner` may take, in one compare-and-swap."""
    refusals: list[str] = []

    def refusal(db: sqlite3.Connection, row: tuple) -> str | None:
        candidate, state, agent, pinned, handback, holder = row
        if state != READY:
            return f"unit '{candidate}' is {state}" + (f" (held by {holder})" if holder else "")
        if not may_take(agent, pinned, handback is not None, owner):
            return f"unit '{candidate}' is for agent '{agent if handback else pinned}'"
        if (other := scope_holder(db, plan, candidate)) is not None:
            return f"unit '{candidate}' waits: its scope overlaps unit '{other}', which is held"
        return None

    def choose(db: sqlite3.Connection) -> str | None:
        sql = "SELECT id, state, agent, pinned, handback, owner FROM units"
        rows = (db.execute(sql + " WHERE id = ?", (unit_id,)) if unit_id is not None
                else db.execute(sql + " WHERE state = 'ready' ORDER BY position"))
        for row in rows:  # lazily: the first unit this agent may take ends the scan
            why = refusal(db, row)
            if why is None:
                return row[0]
            refusals.append(why)
        if not refusals:
            refusals.append(f"unknown unit '{unit_id}'" if unit_id else "no ready unit")
        return None

    won = store.claim_chosen(owner, lease_s, choose, now=now)
    if won is None:
        return Lost(refusals[0] if len(refusals) == 1 else "; ".join(refusals[:3]) or "lost the race")
    return Claim(won[0], owner, won[1], lease_s)


def promote_ready(store: Store, graph: nx.DiGraph) -> list[str]:
    """Move every pending unit whose dependencies are all merged to `ready`."""
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
    store.transition(unit_id, READY, HELD, kind=kind, data=data, epoch=epoch, owner=None, lease_until=None,
                     pid=None, handback=None, base_commit=None, head_commit=None, worktree=None)

