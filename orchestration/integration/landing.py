"""Moving the integration branch, crash-safe: an intent is recorded in the store, then the ref
moves by compare-and-swap `update-ref` from the head Bosun recorded, then the units are marked
merged. A crash anywhere in between is settled exactly once by `recover_intents`; a branch that
someone else moved stops the session (`IntegrationTampered`) rather than being overwritten."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bosun.orchestration.errors import BosunError
from bosun.orchestration.faults import fault_point
from bosun.orchestration.session import Session
from bosun.orchestration.store import StaleState


class IntegrationTampered(BosunError):
    """The integration branch is not where Bosun left it: someone else moved it."""


def verified_head(session: Session, expected: str) -> str:
    """`expected`, the head Bosun recorded, after checking nobody but Bosun moved the branch
    (runs in a worker thread, so it is handed what the store says rather than reading it)."""
    actual = session.repo.rev_parse(session.integration_ref)
    if actual != expected:
        raise IntegrationTampered(
            f"branch '{session.plan.project.integration}' is at {actual or 'nothing'}, but Bosun left it at "
            f"{expected}: only Bosun moves it (restore it with git update-ref {session.integration_ref} {expected})"
        )
    return expected


async def move_branch(
    session: Session,
    in_thread: Callable[..., Awaitable],
    head: str,
    units: list[tuple[str, str]],
    gate_run: int | None,
    details: dict[str, dict],
) -> None:
    """Land `units` ((unit, its merge commit), oldest first) in one step: the branch goes from
    `head` to the last one's merge commit, which `gate_run` passed. `details` become the units'
    detail (their gate verdicts) in the transaction that marks them merged."""
    store, ref = session.store, session.integration_ref
    new = units[-1][1]
    names = ", ".join(u for u, _ in units)
    intent = store.add_batch_intent(ref, head, new, units, gate_run)
    fault_point("merge.intent")
    moved = await in_thread(session.repo.update_ref, ref, new, head, f"bosun: merge {names}")
    fault_point("merge.moved")
    if not moved:
        store.close_intent(intent, "failed")
        await in_thread(verified_head, session, head)
        raise IntegrationTampered(f"the integration branch moved during the merge of {names}")
    store.finish_batch(intent, units, gate_run, details)


def recover_intents(session: Session) -> list[str]:
    """Settle merges a crash interrupted: finished if the ref moved, redone if it did not."""
    store, repo = session.store, session.repo
    settled = []
    for intent_id, unit_id, ref, old, new in store.open_intents():
        batch, gate_run = store.intent_batch(intent_id)
        actual = repo.rev_parse(ref)
        if actual == old and repo.update_ref(ref, new, old, f"bosun: merge unit {unit_id} (recovered)"):
            actual = new
        if actual == new:
            try:
                if batch:
                    store.finish_batch(intent_id, batch, gate_run)
                else:  # an intent an older Bosun recorded for one unit
                    store.finish_merge(intent_id, unit_id, new)
            except StaleState:
                pass
            settled += [u for u, _ in batch] if batch else [unit_id]
        else:
            store.close_intent(intent_id, "abandoned")
    return settled
