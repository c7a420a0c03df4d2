"""`bosun takeover UNIT`: the person at the terminal becomes the unit's owner. Any agent on it is
stopped first, its worktree is kept (for a conflict with the integration head merged in and the
markers left, as a hand-back does), and the claim is the human's: a new epoch, so whatever the
old agent still tries to hand in is refused. The human commits and runs `bosun submit UNIT
--token T`, and that commit goes through the gate like any agent's.

Preparing the worktree is git work (a worker thread, plain data); recording the claim is one
compare-and-swap in the store (the caller's thread). With a supervisor running, the supervisor
does it all (take_over); without one, the command does (take_over_now)."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from bosun.orchestration.agents.attempt import Handout, handback_for, integrated_units, prepare
from bosun.orchestration.errors import BosunError, GitError
from bosun.orchestration.faults import fault_point
from bosun.orchestration.plan import UnitSpec
from bosun.orchestration.session import Session
from bosun.orchestration.states import COMMAND_STATES, HUMAN, RUNNING
from bosun.orchestration.store import Command, StaleState, Store, UnitRow
from bosun.orchestration.worktrees import AgentClone

if TYPE_CHECKING:
    from bosun.orchestration.supervisor.loop import Orchestrator


def takeover_handback(row: UnitRow, note: str | None) -> dict:
    """The task's hand-back for the human: the side state's details, or, for a hand-back its agent
    gave up on, what that one was about (still the point)."""
    handback = handback_for(row, note)
    earlier = (row.detail or {}).get("handback") or {}
    if earlier:
        handback["output_tail"] = handback["output_tail"] or earlier.get("output_tail")
        handback["earlier"] = earlier.get("reason")
    pending = row.handback or {}  # handed back (with a note) and taken over before an agent read it
    if pending and handback["reason"] == "human":
        handback["reason"] = pending.get("reason") or "human"
        handback["files"] = handback["files"] or pending.get("files", [])
    handback["note"] = note or pending.get("note") or earlier.get("note")
    return handback


def prepare_takeover(
    clone: AgentClone, unit: UnitSpec, tasks_dir, row: UnitRow, head: str, integrated: list[dict], note: str | None
) -> Handout:
    """The worktree and task file for the human (worker thread: no store, no session)."""
    clone.ensure()
    return prepare(clone, unit, tasks_dir, row._replace(handback=takeover_handback(row, note)), head, integrated)


def record_takeover(store: Store, row: UnitRow, handout: Handout, note: str | None) -> int:
    """The human's claim, by compare-and-swap on the state and epoch read: returns the token."""
    epoch = (row.epoch or 0) + 1
    store.transition(
        row.id,
        RUNNING,
        (row.state,),
        kind="taken_over",
        epoch=row.epoch,
        data={
            "owner_was": row.owner or row.agent,
            "note": note,
            "epoch": epoch,
            "files": handout.task["handback"]["files"] if handout.task.get("handback") else [],
        },
        owner=HUMAN,
        agent=HUMAN,
        lease_until=None,
        pid=None,
        pid_start=None,
        approved=0,
        started_at=time.time(),
        handback=handout.task.get("handback"),
        new_epoch=True,
        **handout.running_fields(),
    )
    return epoch


def claim_json(row: UnitRow, handout: Handout, token: int) -> dict:
    return {
        **handout.task,
        "worktree": str(handout.worktree),
        "token": token,
        "owner": HUMAN,
        "task_file": str(handout.task_file),
        "report_file": str(handout.report_file),
        "submit": f"bosun submit {row.id} --token {token}",
    }


def take_over_now(session: Session, unit_id: str, note: str | None) -> dict:
    """Without a running supervisor: the whole takeover in this process (no agent of Bosun's runs)."""
    row = session.store.unit(unit_id)
    if row is None:
        raise BosunError(f"unknown unit '{unit_id}' (units: {', '.join(session.plan.units)})")
    if row.state not in COMMAND_STATES["takeover"]:
        raise BosunError(
            f"unit '{unit_id}' is {row.state}; takeover applies to a unit that is "
            + " or ".join(COMMAND_STATES["takeover"])
        )
    handout = prepare_takeover(
        session.clone(),
        session.plan.units[unit_id],
        session.tasks_dir,
        row,
        session.integration_head(),
        integrated_units(session.store.units()),
        note,
    )
    fault_point("takeover.prepared")
    try:
        token = record_takeover(session.store, row, handout, note)
    except StaleState as exc:
        raise BosunError(f"'{unit_id}' changed while it was taken over; try again ({exc})") from exc
    return claim_json(row, handout, token)


async def take_over(supervisor: Orchestrator, row: UnitRow, command: Command) -> None:
    """The human becomes the owner: the agent (if any) stopped and gone first, then the worktree
    prepared off the loop, then the claim's compare-and-swap; the command says how it went."""
    store = supervisor.store
    note = command.args.get("note")
    try:
        running = supervisor.running.get(row.id)
        if running is not None:
            running.cancelled = True
            if running.child is not None:
                await asyncio.to_thread(running.child.kill)
            if running.task is not None:
                await asyncio.gather(running.task, return_exceptions=True)
        row = store.unit(row.id)
        if row.state not in COMMAND_STATES["takeover"]:
            raise BosunError(f"unit is {row.state}")
        handout = await asyncio.to_thread(
            prepare_takeover,
            supervisor.clone,
            supervisor.plan.units[row.id],
            supervisor.session.tasks_dir,
            row,
            supervisor.session.integration_head(),
            integrated_units(store.units()),
            note,
        )
        record_takeover(store, row, handout, note)
        store.finish_command(command.id, "done")
    except (StaleState, BosunError, GitError, OSError) as exc:
        store.finish_command(command.id, f"refused: {exc}")
        store.append_event("command_refused", row.id, command="takeover", state=row.state, error=str(exc))
