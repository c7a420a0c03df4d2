"""Moving a unit from the supervisor: a compare-and-swap that may lose to a change made since the
row was read (then False, not an exception: the next tick sees the change), and the hand-back that
sends a unit to work again with what went wrong."""

from __future__ import annotations

from bosun.orchestration.agents.attempt import handback_for
from bosun.orchestration.states import HUMAN, READY
from bosun.orchestration.store import StaleState, Store, UnitRow


def move(store: Store, unit_id: str, to: str, expect: tuple[str, ...], **kwargs) -> bool:
    """`store.transition`, False when the unit is no longer in `expect` (or its epoch moved on)."""
    try:
        store.transition(unit_id, to, expect, **kwargs)
        return True
    except StaleState:
        return False


def hand_back(store: Store, row: UnitRow, note: str | None, kind: str, reason: str | None = None) -> bool:
    """The unit ready again, with the hand-back its next attempt reads (the same agent takes it;
    one a person took over goes to the agent the unit is pinned to, else to the team: no agent is
    called `human`, in either mode)."""
    handback = handback_for(row, note, reason)
    team = {"agent": row.pinned} if row.agent == HUMAN else {}
    return move(
        store,
        row.id,
        READY,
        (row.state,),
        kind=kind,
        data={"reason": handback["reason"], "note": note},
        handback=handback,
        approved=0,
        owner=None,
        **team,
    )
