"""Running a unit's gate again on the same commit (`bosun regate UNIT`): the unit goes back to the
queue as submitted, and no agent attempt is spent. For a gate that failed for a reason that is not
the code (it timed out, or could not run), and for one whose tests failed when the person at the
terminal judges them flaky (a test runner's own timeout on a loaded machine reads as a failed
test): an agent cannot hand in the same commit again, so without this the way on was an empty
commit."""

from __future__ import annotations

from bosun.orchestration.states import GATE_FAILED, SUBMITTED
from bosun.orchestration.store import StaleState, Store


def why_not_regate(row) -> str | None:
    """Why `row`'s gate cannot simply run again, or None when it can."""
    if row.state != GATE_FAILED:
        return f"unit '{row.id}' is {row.state}; regate applies to a unit that is {GATE_FAILED}"
    detail = row.detail or {}
    if detail.get("head") != row.head_commit:
        return f"unit '{row.id}' has a new commit since its gate failed; it is judged when it is submitted"
    return None


def regate(store: Store, row) -> bool:
    """Put the unit back in the queue on the same commit; False when it does not apply (any more)."""
    if why_not_regate(row) is not None:
        return False
    try:
        store.transition(row.id, SUBMITTED, (GATE_FAILED,), kind="regated", data={"commit": row.head_commit})
    except StaleState:
        return False
    return True
