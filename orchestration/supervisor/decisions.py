"""Human decisions: the commands the CLI and the screen leave in the store (approve, reject, hand
back, reassign, revoke, cancel, takeover, regate, reload), applied in order on the loop's tick. A command
applies only to a unit in a state it names, by compare-and-swap; otherwise it is refused with the
unit's state, never half-done."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

import networkx as nx

from bosun.orchestration.agents.external import revoke
from bosun.orchestration.errors import BosunError
from bosun.orchestration.integration.regate import regate
from bosun.orchestration.states import CANCELLED, COMMAND_STATES, DONE_STATES, READY
from bosun.orchestration.store import Command, StaleState, UnitRow
from bosun.orchestration.supervisor.moves import hand_back, move
from bosun.orchestration.supervisor.reload import reload_plan
from bosun.orchestration.supervisor.takeover import take_over

if TYPE_CHECKING:
    from bosun.orchestration.supervisor.loop import Orchestrator


class Decisions:
    """Applies the pending commands; a takeover (it stops an agent and runs git) runs off the tick,
    and its command is left alone until it ends."""

    def __init__(self, supervisor: Orchestrator) -> None:
        self.supervisor = supervisor
        self.taking_over: set[int] = set()

    def apply(self) -> None:
        supervisor, store = self.supervisor, self.supervisor.store
        for command in store.pending_commands():
            if command.id in self.taking_over:
                continue
            if command.kind == "reload":
                reload_plan(supervisor, command)
                continue
            row = store.unit(command.unit)
            bad_agent = command.kind == "reassign" and command.args.get("to") not in supervisor.plan.agents
            applies = row is not None and row.state in COMMAND_STATES.get(command.kind, ()) and not bad_agent
            if applies and command.kind == "takeover":  # stops an agent and runs git: off this tick
                self.taking_over.add(command.id)
                supervisor.in_background(asyncio.create_task(self._take_over(row, command)))
                continue
            if applies and HANDLERS[command.kind](supervisor, row, command.args):
                store.finish_command(command.id, "done")
                continue
            # Refused, or its compare-and-swap lost to a change made since the unit was read.
            state = (store.unit(command.unit) or row).state if row else "unknown"
            store.finish_command(command.id, f"refused: unit is {state}")
            store.append_event("command_refused", command.unit, command=command.kind, state=state)

    async def _take_over(self, row: UnitRow, command: Command) -> None:
        try:
            await take_over(self.supervisor, row, command)
        finally:
            self.taking_over.discard(command.id)
            self.supervisor.wake()


def approve(supervisor: Orchestrator, row: UnitRow, args: dict) -> bool:
    supervisor.store.update(row.id, approved=1)
    supervisor.store.append_event("approved", row.id, by="human")
    return True


def reject(supervisor: Orchestrator, row: UnitRow, args: dict) -> bool:
    return hand_back(supervisor.store, row, args.get("note"), kind="rejected", reason="human")


def handback(supervisor: Orchestrator, row: UnitRow, args: dict) -> bool:
    return hand_back(supervisor.store, row, args.get("note"), kind="handed_back")


def reassign(supervisor: Orchestrator, row: UnitRow, args: dict) -> bool:
    agent = args["to"]
    moved = move(
        supervisor.store,
        row.id,
        READY,
        (row.state,),
        kind="reassigned",
        data={"from_agent": row.agent, "to_agent": agent},
        agent=agent,
        pinned=agent,
        handback=None,
        base_commit=None,
        head_commit=None,
        worktree=None,
        approved=0,
        owner=None,
    )
    if moved:  # only now is nobody working in it; the next attempt gets a fresh worktree
        supervisor.clone.remove_worktree(row.id)
    return moved


def revoke_claim(supervisor: Orchestrator, row: UnitRow, args: dict) -> bool:
    """Take a claim away from its holder (a stuck or misbehaving agent); the unit is ready again."""
    try:
        revoke(supervisor.session, row.id, args.get("note"), supervisor.clone)
    except (StaleState, BosunError):
        return False
    supervisor.stop_agent(row.id)
    return True


def cancel(supervisor: Orchestrator, row: UnitRow, args: dict) -> bool:
    """The unit cancelled, and with `with_dependents` every unit that waits on it; without, those
    are named so the human can decide."""
    store, note = supervisor.store, args.get("note")
    if not move(store, row.id, CANCELLED, (row.state,), kind="cancelled", data={"note": note}, owner=None, pid=None):
        return False
    supervisor.stop_agent(row.id)
    supervisor.clone.remove_worktree(row.id)
    waiting = [
        u
        for u in store.units()
        if u.id in nx.descendants(supervisor.session.graph, row.id) and u.state not in DONE_STATES
    ]
    if args.get("with_dependents"):
        for unit in waiting:
            if unit.state in COMMAND_STATES["cancel"]:
                cancel(supervisor, unit, {"note": f"depends on cancelled unit '{row.id}'"})
    elif waiting:
        store.append_event(
            "blocked",
            row.id,
            units=[u.id for u in waiting],
            what="these wait on a cancelled unit: cancel them too (--with-dependents), or reassign it instead",
        )
    return True


HANDLERS: dict[str, Callable[[Orchestrator, UnitRow, dict], bool]] = {
    "approve": approve,
    "reject": reject,
    "handback": handback,
    "reassign": reassign,
    "revoke": revoke_claim,
    "cancel": cancel,
    "regate": lambda supervisor, row, args: regate(supervisor.store, row),  # no attempt spent (integration/regate.py)
}
"""A command's kind -> what it does; True when it applied."""
