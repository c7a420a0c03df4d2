"""Running a unit's gate again on the same commit (`bosun regate UNIT`): the unit goes back to the
queue as submitted, and no agent attempt is spent. For a gate that failed for a reason that is not
the code (it timed out, or could not run), and for one whose tests failed when the person at the
terminal judges them flaky (a test runner's own timeout on a loaded machine reads as a failed
test): an agent cannot hand in the same commit again, so without this the way on was an empty
commit."""

from __future__ import annotations

from bosun.orchestration.integration.base_said import off_base
from bosun.orchestration.states import FAILED, GATE_FAILED, SUBMITTED
from bosun.orchestration.store import StaleState, Store


def _judged(row) -> str | None:
    """The commit whose failed gate would run again: a gate_failed unit's, or that of a failed
    unit whose agent, handed that failure back, made no new commit (it found nothing to fix).
    Where its branch moved on, the commit it ends at: not the one the gate judged."""
    detail = row.detail or {}
    if row.state == GATE_FAILED:
        return detail.get("head")
    failed_gate = (detail.get("handback") or {}).get("failed_gate")
    return detail.get("branch_head") if failed_gate else None


def why_not_regate(row) -> str | None:
    """Why `row`'s gate cannot simply run again, or None when it can."""
    if row.state not in (GATE_FAILED, FAILED):
        return f"unit '{row.id}' is {row.state}; regate applies to a unit whose gate failed"
    judged = _judged(row)
    if row.state == FAILED and judged is None:
        return f"unit '{row.id}' failed in its agent, not in its gate; hand it back or reassign it"
    if judged != row.head_commit:
        return f"unit '{row.id}' has a new commit since its gate failed; it is judged when it is submitted"
    return None


def regate(store: Store, row) -> bool:
    """Put the unit back in the queue on the same commit; False when it does not apply (any more)."""
    if why_not_regate(row) is not None:
        return False
    try:
        store.transition(
            row.id,
            SUBMITTED,
            (GATE_FAILED, FAILED),
            kind="regated",
            data={"commit": row.head_commit},
            detail=off_base(row.detail) if (row.detail or {}).get("base_failing") else row.detail,
        )
    except StaleState:
        return False
    return True
