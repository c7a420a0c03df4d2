"""The human decisions, each a key on the selected unit: the dialog that asks names the unit and
the decision is queued for exactly that unit, whatever is selected by the time it is answered.

Decisions are written to the store's command table, exactly like `bosun approve` from another
terminal, so the supervisor (in this process or another) applies them with its own checks.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time

import networkx as nx
from textual import work
from textual.app import SuspendNotSupported
from textual.widgets import TabbedContent
from textual.worker import WorkerState

from bosun.app.tui.dialogs import ApproveDialog, ConfirmDialog, ConflictDialog, NoteDialog, ReassignDialog
from bosun.app.tui.story import StoryDialog, unit_story
from bosun.orchestration.agents.attempt import collect
from bosun.orchestration.agents.external import submit_collected
from bosun.orchestration.errors import BosunError
from bosun.orchestration.integration.regate import why_not_regate
from bosun.orchestration.review import approval, conflict_sides
from bosun.orchestration.session import Session
from bosun.orchestration.states import COMMAND_STATES, DONE_STATES, FAILED, HUMAN, waits_for_human
from bosun.orchestration.status import agent_rows
from bosun.orchestration.store import UnitRow
from bosun.widgets.diff_view import DiffView


def _gate_cause(row: UnitRow) -> str:
    return ((row.detail or {}).get("gate") or {}).get("cause") or "it could not run"


class Decisions:
    """The decision actions of the supervisor screen (a mixin: it needs the screen's `session`,
    `selected_unit`, `select`, `waiting_target` and `store_changed`)."""

    session: Session
    selected_unit: str | None

    def selected_row(self, decision: str | None = None) -> UnitRow | None:
        """The selected unit, if `decision` applies to its state; else the unit the waiting notice
        offers it for (selected now: the panes show what the dialog asks about); otherwise say why not."""
        target = self.waiting_target(decision) if decision else None
        if target is not None:
            self.select(target)
        unit = self.selected_unit
        row = self.session.store.unit(unit) if unit else None
        if row is None:
            self.notify("Select a unit first (arrow keys or h/j/k/l).", severity="warning")
            return None
        if decision is not None and row.state not in COMMAND_STATES[decision]:
            allowed = ", ".join(s.replace("_", " ") for s in COMMAND_STATES[decision])
            self.notify(
                f"'{row.id}' is {row.state.replace('_', ' ')}: {decision} applies to {allowed}.", severity="warning"
            )
            return None
        return row

    def decide(self, kind: str, unit: str, **args) -> None:
        """Queue a decision for the supervisor, as `bosun approve` would, and wake it."""
        self.session.store.add_command(kind, unit, **{k: v for k, v in args.items() if v is not None})
        if not self.app.wake_supervisor() and self.session.running_supervisor() is None:
            self.notify(f"{kind} of '{unit}' is queued; no supervisor runs this session: `bosun resume` applies it.")
        self.store_changed()

    # -- decisions ----------------------------------------------------------------------------------
    @work(group="decision", exclusive=True, exit_on_error=False)
    async def action_approve(self) -> None:
        row = self.selected_row("approve")
        if row is None:
            return
        if row.approved:
            self.notify(f"'{row.id}' is approved already and merges next.")
            return
        scope = self.session.plan.units[row.id].scope
        width = ApproveDialog.stat_width(self.app.size.width)
        facts = await asyncio.to_thread(approval, self.session.repo, scope, row, width)
        if await self.app.push_screen_wait(ApproveDialog(facts)):
            self.decide("approve", row.id)

    @work(group="decision", exclusive=True, exit_on_error=False)
    async def action_reject(self) -> None:
        row = self.selected_row("reject")
        if row is None:
            return
        note = await self.app.push_screen_wait(
            NoteDialog(
                f"Reject '{row.id}'?",
                f"It goes back to {'the team' if row.agent == HUMAN else 'its agent'} with your note; the gated "
                "merge is dropped.",
                "Reject",
            )
        )
        if note is not None:
            self.decide("reject", row.id, note=note or None)

    @work(group="decision", exclusive=True, exit_on_error=False)
    async def action_handback(self) -> None:
        row = self.selected_row("handback")
        if row is None:
            return
        note = await self.app.push_screen_wait(
            NoteDialog(
                f"Hand '{row.id}' back to {row.agent}?",
                f"It is {row.state.replace('_', ' ')}; the agent gets the reason and details in its task.",
                "Hand back",
            )
        )
        if note is not None:
            self.decide("handback", row.id, note=note or None)

    @work(group="decision", exclusive=True, exit_on_error=False)
    async def action_reassign(self) -> None:
        row = self.selected_row("reassign")
        if row is None:
            return
        activity = {
            r["name"]: r["activity"] + (f" on {r['unit']}" if r["unit"] else "") for r in agent_rows(self.session)
        }
        agents = [
            (name, f"{spec.kind}, {activity.get(name, 'idle')}") for name, spec in self.session.plan.agents.items()
        ]
        choice = await self.app.push_screen_wait(ReassignDialog(row.id, agents, row.agent))
        if choice:
            self.decide("reassign", row.id, to=choice)

    @work(group="decision", exclusive=True, exit_on_error=False)
    async def action_cancel_unit(self) -> None:
        row = self.selected_row("cancel")
        if row is None:
            return
        waiting = sorted(
            u
            for u in nx.descendants(self.session.graph, row.id)
            if (self.session.store.unit(u) or row).state not in DONE_STATES
        )
        body = "Its agent is stopped and its worktree removed."
        if waiting:
            body += f" {len(waiting)} unit(s) depend on it and will wait: {', '.join(waiting)}."
        if await self.app.push_screen_wait(ConfirmDialog(f"Cancel unit '{row.id}'?", body, yes="Cancel unit")):
            self.decide("cancel", row.id)

    @work(group="decision", exclusive=True, exit_on_error=False)
    async def action_revoke(self) -> None:
        row = self.selected_row("revoke")
        if row is None:
            return
        body = (
            f"{row.owner} loses the claim (epoch {row.epoch}); anything it hands in later is refused. "
            "The unit is ready again for any agent."
        )
        if await self.app.push_screen_wait(
            ConfirmDialog(f"Revoke {row.owner}'s claim on '{row.id}'?", body, yes="Revoke claim")
        ):
            self.decide("revoke", row.id)

    @work(group="decision", exclusive=True, exit_on_error=False)
    async def action_regate(self) -> None:
        row = self.selected_row("regate")
        if row is None:
            return
        if (why := why_not_regate(row)) is not None:
            self.notify(why, severity="warning")
            return
        if row.state == FAILED:  # handed its failed gate back, the agent found nothing to change
            why = "Its agent, handed its failed gate back, made no new commit: if the tests are flaky, run them again"
        elif (row.detail or {}).get("base_failing"):
            why = "The gate fails on the integration branch itself too: once you have fixed the gate or its environment"
            why += ", the units waiting on the branch go back to the queue with it"
        elif (row.detail or {}).get("not_the_code"):
            why = f"Its gate failed for a reason that is not its code ({_gate_cause(row)})"
        else:  # the human's call: a flaky test, a runner's own timeout on a loaded machine
            why = f"Its tests failed ({_gate_cause(row)}): if they are flaky, run them again unchanged"
        body = f"{why}; the same commit goes back to the queue and no attempt is spent."
        if await self.app.push_screen_wait(ConfirmDialog(f"Run the gate again on '{row.id}'?", body, yes="Gate again")):
            self.decide("regate", row.id)

    @work(group="decision", exclusive=True, exit_on_error=False)
    async def action_take_over(self) -> None:
        """Become the unit's owner (as `bosun takeover`), work in a shell in its worktree with the
        screen suspended, and hand in what was committed there when the shell ends."""
        row = self.selected_row("takeover")
        if row is None:
            return
        body = (
            "Its agent is stopped and you own the unit. You get a shell in its worktree"
            + (" with the conflict markers left in place" if row.state == "conflicted" else "")
            + ": commit there and leave the shell; your commit goes to the gate."
        )
        if not await self.app.push_screen_wait(ConfirmDialog(f"Take over '{row.id}'?", body, yes="Take over")):
            return
        store = self.session.store
        if not self.app.supervisor_running and self.session.running_supervisor() is None:
            self.notify(
                f"No supervisor runs this session to hand '{row.id}' over: `bosun takeover {row.id}` in a "
                "terminal does it without one.",
                severity="warning",
                timeout=20,
            )
            return
        command_id = store.add_command("takeover", row.id)
        self.app.wake_supervisor()
        deadline = time.monotonic() + 60
        while (result := store.command_result(command_id)) is None:
            if time.monotonic() > deadline:
                self.notify(
                    f"The supervisor has not handed '{row.id}' over yet; the takeover stays queued.", severity="warning"
                )
                return
            await asyncio.sleep(0.05)  # the supervisor first waits for the agent to stop
        if result != "done":
            self.notify(f"takeover of '{row.id}' {result}", severity="warning")
            return
        taken = store.unit(row.id)
        clone = self.session.clone()
        before = await asyncio.to_thread(clone.branch_head, row.id)
        await self._shell_in(taken.worktree)
        collected = await asyncio.to_thread(collect, clone, row.id, False, taken.base_commit, taken.handback)
        try:
            submit_collected(self.session, row.id, taken.epoch, collected)
        except BosunError as exc:
            self.notify(
                f"{exc} — it stays yours: `bosun submit {row.id} --token {taken.epoch}` hands it in.",
                title="Nothing submitted",
                severity="warning",
                timeout=30,
            )
            return
        head = collected.head or ""
        yours = "your commit" if head != before else "you committed nothing: the branch as the agent left it"
        self.notify(f"'{row.id}' submitted at {head[:10]}: {yours} goes through the gate.")
        self.app.wake_supervisor()

    async def _shell_in(self, worktree: str) -> None:
        """The user's shell in `worktree`, the screen suspended while it runs."""
        argv = [os.environ.get("SHELL") or "/bin/sh"]
        try:
            with self.app.suspend():
                print(f"bosun: your shell in {worktree}: commit your work, then exit to submit it", flush=True)
                subprocess.run(argv, cwd=worktree)  # the terminal is the shell's until it exits
        except SuspendNotSupported:  # no terminal to hand over (tests, a browser): run it without one
            await asyncio.to_thread(subprocess.run, argv, cwd=worktree, stdin=subprocess.DEVNULL, capture_output=True)

    @work(group="decision", exclusive=True, exit_on_error=False)
    async def action_open_unit(self) -> None:
        row = self.selected_row()
        if row is None:
            return
        if row.state == "awaiting_approval" and row.approved:  # `a` would go to another unit
            self.notify(f"'{row.id}' is approved already and merges next.")
        elif row.state == "awaiting_approval":
            self.action_approve()
        elif row.state in ("conflicted", "semantic_conflict"):
            head = self.session.integration_head()
            findings = (row.detail or {}).get("findings") or []
            sides = [] if findings else await asyncio.to_thread(conflict_sides, self.session.repo, row, head)
            self._then(await self.app.push_screen_wait(ConflictDialog(row.id, sides, findings)))
        elif waits_for_human(row.state, row.approved):  # failed, gate failed, out of scope: why, and what next
            story = unit_story(self.session, row)  # the store is this thread's; the log read is 64 KB at most
            self._then(await self.app.push_screen_wait(StoryDialog(story)))
        else:
            self.query_one(TabbedContent).active = "diff"
            self.query_one(DiffView).focus()

    def _then(self, choice: str | None) -> None:
        """The decision a conflict or a story dialog picked, asked for in its own dialog."""
        actions = {
            "handback": self.action_handback,
            "reassign": self.action_reassign,
            "cancel": self.action_cancel_unit,
            "takeover": self.action_take_over,
            "regate": self.action_regate,
        }
        if choice in actions:
            actions[choice]()

    def on_worker_state_changed(self, event) -> None:
        if event.worker.group == "decision" and event.state == WorkerState.ERROR:
            self.notify(f"{event.worker.error}", title="That decision could not be prepared", severity="error")
