"""The supervisor screen: graph, merge queue, agents and claims, diff, gate and event log, kept
live from the session's store, and the human decisions, each a key on the selected unit.

Decisions are written to the store's command table, exactly like `bosun approve` from another
terminal, so the supervisor (in this process or another) applies them with its own checks.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time

import networkx as nx
from textual import on, work
from textual.app import ComposeResult, SuspendNotSupported
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, TabbedContent, TabPane
from textual.worker import WorkerState

from bosun.app.tui.dialogs import ApproveDialog, ConfirmDialog, ConflictDialog, NoteDialog, ReassignDialog
from bosun.orchestration.agents.attempt import collect
from bosun.orchestration.agents.external import submit_collected
from bosun.orchestration.errors import BosunError
from bosun.orchestration.event_lines import format_event
from bosun.orchestration.review import approval, commits_made, conflict_sides, unit_diff
from bosun.orchestration.session import Session
from bosun.orchestration.states import AGENT_STATES, COMMAND_STATES, DONE_STATES, waits_for_human
from bosun.orchestration.status import agent_rows
from bosun.orchestration.store import Event, UnitRow
from bosun.widgets.agents_table import AgentsTable
from bosun.widgets.diff_view import DiffView
from bosun.widgets.event_log import MAX_LINES as EVENT_LOG_LINES
from bosun.widgets.event_log import EventLog
from bosun.widgets.gate_pane import GatePane
from bosun.widgets.graph_view import GraphView, UnitLook
from bosun.widgets.keyed_table import KeyedTable
from bosun.widgets.merge_queue import MergeQueue
from bosun.widgets.output_view import OutputView

MIN_REFRESH_S = 0.015
"""Events closer together than this are shown in one repaint."""

TABLES_EVERY_S = 0.5
"""Each of the merge queue, agents and gate tables repaints at most this often under a flood."""

COMMITS_EVERY_S = 3.0

DECISIONS = {
    "approve": "approve",
    "reject": "reject",
    "handback": "handback",
    "reassign": "reassign",
    "cancel_unit": "cancel",
    "revoke": "revoke",
    "take_over": "takeover",
}
"""Each action that is a human decision, and the decision (COMMAND_STATES) that says when it applies."""


class SupervisorScreen(Screen):
    """One session, live."""

    # Every action is a binding: its id names the palette's category ("unit.approve" -> "unit: ..."),
    # its tooltip says what it does; the footer, the help screen and the palette are made from these.
    BINDINGS = [
        Binding("a", "approve", "Approve", id="unit.approve", tooltip="approve the merge"),
        Binding("x", "reject", "Reject", id="unit.reject", tooltip="reject: back to its agent with a note"),
        Binding("b", "handback", "Hand back", id="unit.handback", tooltip="hand back to the same agent"),
        Binding("r", "reassign", "Reassign", id="unit.reassign", tooltip="reassign to another agent"),
        Binding("c", "cancel_unit", "Cancel", id="unit.cancel", tooltip="cancel the unit"),
        Binding("v", "revoke", "Revoke claim", id="claim.revoke", tooltip="revoke the claim"),
        Binding(
            "t",
            "take_over",
            "Take over",
            id="unit.takeover",
            show=False,
            tooltip="take over: a shell in its worktree, your commit to the gate",
        ),
        Binding(
            "enter", "open_unit", "Open", id="unit.open", show=False, tooltip="open what the unit needs, from any pane"
        ),
        Binding("slash", "filter", "Filter", id="view.filter", tooltip="filter units by id, title, state or agent"),
        Binding(
            "escape", "clear_filter", "Clear filter", id="view.clear-filter", show=False, tooltip="clear the filter"
        ),
        Binding("d", "show_tab('diff')", "Diff", id="view.diff", show=False, tooltip="the selected unit's diff"),
        Binding("g", "show_tab('gate')", "Gate", id="view.gate", show=False, tooltip="every gate run"),
        Binding(
            "o",
            "show_tab('output')",
            "Output",
            id="view.output",
            show=False,
            tooltip="the selected unit's agent at work, live",
        ),
        Binding(
            "z",
            "overview",
            "Overview",
            id="view.overview",
            show=False,
            tooltip="the whole graph at once, a line per unit (z again: boxes)",
        ),
        Binding(
            "shift+left,H",
            "pan(-1, 0)",
            "Pan left",
            id="view.pan-left",
            show=False,
            key_display="⇧← H",
            tooltip="pan the graph left (the selection stays where it is)",
        ),
        Binding(
            "shift+right,L",
            "pan(1, 0)",
            "Pan right",
            id="view.pan-right",
            show=False,
            key_display="⇧→ L",
            tooltip="pan the graph right",
        ),
        Binding(
            "shift+up,K",
            "pan(0, -1)",
            "Pan up",
            id="view.pan-up",
            show=False,
            key_display="⇧↑ K",
            tooltip="pan the graph up",
        ),
        Binding(
            "shift+down,J",
            "pan(0, 1)",
            "Pan down",
            id="view.pan-down",
            show=False,
            key_display="⇧↓ J",
            tooltip="pan the graph down",
        ),
        Binding(
            "e",
            "event_line",
            "Event",
            id="view.event-line",
            show=False,
            tooltip="an event in full: the newest, or the log's cursor line",
        ),
    ]

    class EventsShown(Message):
        """The screen has painted everything up to event `seq` (benchmarks and tests wait on it)."""

        def __init__(self, seq: int) -> None:
            super().__init__()
            self.seq = seq

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.last_seq = 0
        self.commits: dict[str, int] = {}
        self._refresh_pending = False
        self._last_refresh = 0.0
        self._tables_pending = False
        self._last_tables = 0.0
        self._table_turn = 0
        self._gate_changed = True
        self._diff_of: tuple | None = None
        self._selected: tuple[str, str, bool] | None = None
        """The selected unit's (id, state, approved), which decides which actions are offered."""

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="top"):
            yield GraphView(id="graph")
            yield MergeQueue(id="queue")
        yield AgentsTable(nodes=self.session.plan.project.backend != "local", id="agents")
        with Horizontal(id="bottom"):
            with TabbedContent(id="tabs"):
                with TabPane("Diff", id="diff"):
                    yield DiffView(id="diff-view")
                with TabPane("Gate", id="gate"):
                    yield GatePane(id="gate-pane")
                with TabPane("Output", id="output"):
                    yield OutputView(id="output-view")
            yield EventLog(format_event, id="events")
        yield Input(id="filter", placeholder="filter units by id, title, state or agent · enter keeps it · esc clears")
        yield Footer()

    def on_mount(self) -> None:
        titles = {"queue": "Merge queue", "agents": "Agents and claims", "events": "Events"}
        for widget_id, title in titles.items():
            self.query_one(f"#{widget_id}").border_title = title
        plan = self.session.plan
        graph = self.query_one(GraphView)
        graph.set_graph(self.session.graph, list(plan.units), {u.id: u.title for u in plan.units.values()})
        graph.focus()
        self.refresh_from_store()
        self.set_interval(1.0, self.store_changed)  # lease ages, and writes by other processes
        self.set_interval(COMMITS_EVERY_S, self.count_commits)

    # -- keeping up with the store ------------------------------------------------------------------
    def store_changed(self, event: Event | None = None) -> None:
        """Schedule one repaint for however many changes arrive before it runs."""
        if self._refresh_pending:
            return
        self._refresh_pending = True
        wait = self._last_refresh + MIN_REFRESH_S - time.monotonic()
        if wait > 0:
            self.set_timer(wait, self.refresh_from_store)
        else:
            self.call_later(self.refresh_from_store)

    def refresh_from_store(self) -> None:
        """Graph, event log and counts every repaint; the tables at most TABLES_EVERY_S apart (a
        flood of events would otherwise spend the loop re-rendering rows nobody can read that fast)."""
        self._refresh_pending = False
        self._last_refresh = time.monotonic()
        store = self.session.store
        backlog = not self.last_seq
        if backlog:  # a resumed session can have a long past: the log keeps the latest
            self.last_seq = max(0, store.last_seq() - EVENT_LOG_LINES)
        events = store.events(after=self.last_seq)
        units = store.units()
        self.query_one(GraphView).update_units({u.id: UnitLook(u.state, u.owner or u.agent) for u in units})
        if events:
            self.last_seq = events[-1].seq
            self.query_one(EventLog).add_events(events)
            if not backlog:  # old news is in the log, not in pop-ups
                self._tell(events)
            self._gate_changed |= any("gate" in e.data or "gate_run" in e.data for e in events)  # a verdict, a run
        self._show_counts(units)
        since = self._last_refresh - self._last_tables
        if since >= TABLES_EVERY_S:  # quiet: every table at once
            self.refresh_tables(units)
        elif not self._tables_pending:  # a flood: one table a turn, each at most every TABLES_EVERY_S
            self._tables_pending = True
            turn = TABLES_EVERY_S / len(self.TABLES) - since
            if turn > 0:
                self.set_timer(turn, self._refresh_next_table)
            else:  # (Textual's timer divides by its delay: never 0)
                self.call_later(self._refresh_next_table)
        selected = self.query_one(GraphView).selected
        row = next((u for u in units if u.id == selected), None)
        if row is not None:
            self._follow(row)
        self._note_selected(row)
        seq = self.last_seq
        self.call_after_refresh(lambda: self.post_message(self.EventsShown(seq)))

    TABLES = ("queue", "agents", "gate")

    def _refresh_next_table(self) -> None:
        self.refresh_tables(self.session.store.units(), self._next_table())

    def _next_table(self) -> str:
        """The tables take turns, so no single repaint carries all three."""
        self._table_turn += 1
        return self.TABLES[self._table_turn % len(self.TABLES)]

    def refresh_tables(self, units: list[UnitRow], only: str | None = None) -> None:
        """Bring the merge queue, agents and gate tables up to date (all of them, or `only` one)."""
        self._tables_pending = False
        self._last_tables = time.monotonic()
        if only in (None, "queue"):
            self.query_one(MergeQueue).show_queue(units)
        if only in (None, "agents"):
            self.query_one(AgentsTable).show_agents(
                agent_rows(self.session, self.session.store.clock()), self.commits, self.session.plan.project.lease
            )
        if only in (None, "gate") and self._gate_changed:
            self._gate_changed = False
            self.query_one(GatePane).show_runs(self.session.store.gate_runs())

    def _tell(self, events: list[Event]) -> None:
        """Pop up what needs the human's eye: refused decisions and the end of the session."""
        for event in events:
            if event.kind == "command_refused":
                self.notify(
                    f"{event.data.get('command')} of '{event.unit}' refused: it is {event.data.get('state')}",
                    severity="warning",
                )
            elif event.kind == "waiting_for_human":
                self._call_the_human(event)
            elif event.kind == "session_finished":
                self.notify(
                    "Every unit is merged or cancelled. `bosun land` moves your branch; q quits.",
                    title="Session finished",
                    timeout=30,
                )

    def _call_the_human(self, event: Event) -> None:
        """A unit has started to wait for a decision: a toast, the terminal's bell, and a desktop
        notification for terminals that show one (OSC 9, and OSC 777 for others)."""
        text = f"'{event.unit}' waits for you: {event.data.get('why') or event.data.get('state')}"
        self.notify(text, title="Your turn", severity="warning", timeout=20)
        self.app.bell()
        driver = self.app._driver  # Textual has no public call for raw escapes; the bell writes here too
        if driver is not None and not self.app.is_headless:
            clean = text.replace("\x07", "").replace("\x1b", "")
            driver.write(f"\x1b]9;Bosun: {clean}\x07\x1b]777;notify;Bosun;{clean}\x07")

    def _show_counts(self, units: list[UnitRow]) -> None:
        merged = sum(u.state == "merged" for u in units)
        working = sum(u.state in AGENT_STATES for u in units)
        waiting = sum(waits_for_human(u.state, u.approved) for u in units)
        # In the graph's border, not the header: a changed header title makes Textual lay out the screen.
        self.query_one(
            GraphView
        ).border_title = f"Graph · {merged}/{len(units)} merged · {working} at work · {waiting} wait for you"
        self.sub_title = f"{self.session.plan.project.integration} {self.session.integration_head()[:10]}"

    def _follow(self, row: UnitRow) -> None:
        """Follow the selected unit's latest attempt in the Output tab; reload the diff when its work
        changed (new commits, a new attempt, merged): a state change alone (checking, gating) leaves
        the diff as it is."""
        log = self.session.dir / "logs" / f"{row.id}.{row.attempts}.log" if row.attempts else None
        self.query_one(OutputView).show_log(row.id, row.attempts, log)
        key = (row.id, row.head_commit, row.attempts, row.merged_commit, row.worktree, self.commits.get(row.id))
        if key != self._diff_of:
            if self._diff_of is None or self._diff_of[0] != row.id:
                self.query_one(DiffView).show_diff(row.id, None)
            self._diff_of = key
            self.load_diff(row)

    @work(exclusive=True, group="diff")
    async def load_diff(self, row: UnitRow) -> None:
        session = self.session
        diff = await asyncio.to_thread(unit_diff, session.repo, session.clone(), row, session.integration_head())
        self.query_one(DiffView).show_diff(row.id, diff)

    @work(exclusive=True, group="commits")
    async def count_commits(self) -> None:
        held = [u for u in self.session.store.units() if u.state in AGENT_STATES + ("submitted",)]
        if held:
            self.commits.update(await asyncio.to_thread(commits_made, self.session.clone().path, held))
            self.store_changed()

    # -- selection ----------------------------------------------------------------------------------
    @on(GraphView.UnitSelected)
    def _selected(self, message: GraphView.UnitSelected) -> None:
        row = self.session.store.unit(message.unit)
        if row is not None:
            self._follow(row)
            self.query_one(GatePane).focus_unit(row.id)
        self._note_selected(row)

    @on(KeyedTable.UnitSelected)
    def _picked_elsewhere(self, message: KeyedTable.UnitSelected) -> None:
        self.query_one(GraphView).selected = message.unit

    @on(KeyedTable.UnitOpened)
    def _opened_elsewhere(self, message: KeyedTable.UnitOpened) -> None:
        """enter on a row of the merge queue, agents or gate table: the same as enter in the graph."""
        graph = self.query_one(GraphView)
        graph.selected = message.unit
        self._note_selected(self.session.store.unit(message.unit))
        self.action_open_unit()

    def _note_selected(self, row: UnitRow | None) -> None:
        """Offer only the decisions that apply to the selected unit now (footer and palette)."""
        selected = None if row is None else (row.id, row.state, bool(row.approved))
        if selected != self._selected:
            self._selected = selected
            self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        decision = DECISIONS.get(action)
        if decision is None:
            return True
        if self._selected is None:
            return False
        _, state, approved = self._selected
        if decision == "approve" and approved:
            return False
        return state in COMMAND_STATES[decision]

    def offered_bindings(self) -> list[Binding]:
        """This screen's bindings that apply now, for the palette and help."""
        return [b for b in self.BINDINGS if isinstance(b, Binding) and self.check_action(b.action.split("(")[0], ())]

    def selected_row(self, decision: str | None = None) -> UnitRow | None:
        """The selected unit, if `decision` applies to its state; otherwise say why not."""
        unit = self.query_one(GraphView).selected
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
        facts = await asyncio.to_thread(approval, self.session.repo, self.session.plan.units[row.id].scope, row)
        if await self.app.push_screen_wait(ApproveDialog(facts)):
            self.decide("approve", row.id)

    @work(group="decision", exclusive=True, exit_on_error=False)
    async def action_reject(self) -> None:
        row = self.selected_row("reject")
        if row is None:
            return
        note = await self.app.push_screen_wait(
            NoteDialog(
                f"Reject '{row.id}'?", "It goes back to its agent with your note; the gated merge is dropped.", "Reject"
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
        await self._shell_in(taken.worktree)
        clone = self.session.clone()
        collected = await asyncio.to_thread(collect, clone, row.id, False, taken.base_commit)
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
        self.notify(f"'{row.id}' submitted: your commit goes through the gate.")
        self.app.wake_supervisor()

    async def _shell_in(self, worktree: str) -> None:
        """The user's shell in `worktree`, the screen suspended while it runs."""
        argv = [os.environ.get("SHELL") or "/bin/sh"]
        try:
            with self.app.suspend():
                subprocess.run(argv, cwd=worktree)  # the terminal is the shell's until it exits
        except SuspendNotSupported:  # no terminal to hand over (tests, a browser): run it without one
            await asyncio.to_thread(subprocess.run, argv, cwd=worktree, stdin=subprocess.DEVNULL, capture_output=True)

    @work(group="decision", exclusive=True, exit_on_error=False)
    async def action_open_unit(self) -> None:
        row = self.selected_row()
        if row is None:
            return
        if row.state == "awaiting_approval":
            self.action_approve()
        elif row.state in ("conflicted", "semantic_conflict"):
            head = self.session.integration_head()
            findings = (row.detail or {}).get("findings") or []
            sides = [] if findings else await asyncio.to_thread(conflict_sides, self.session.repo, row, head)
            choice = await self.app.push_screen_wait(ConflictDialog(row.id, sides, findings))
            actions = {
                "handback": self.action_handback,
                "reassign": self.action_reassign,
                "cancel": self.action_cancel_unit,
            }
            if choice in actions:
                actions[choice]()
        else:
            self.action_show_tab("diff")
            self.query_one(DiffView).focus()

    def on_worker_state_changed(self, event) -> None:
        if event.worker.group == "decision" and event.state == WorkerState.ERROR:
            self.notify(f"{event.worker.error}", title="That decision could not be prepared", severity="error")

    # -- views --------------------------------------------------------------------------------------
    def action_show_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab

    def action_overview(self) -> None:
        graph = self.query_one(GraphView)
        graph.overview = not graph.overview
        graph.focus()

    def action_pan(self, dx: int, dy: int) -> None:
        self.query_one(GraphView).action_pan(dx, dy)

    def action_event_line(self) -> None:
        self.query_one(EventLog).action_show_line()

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.add_class("shown")
        box.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.query_one(GraphView).filter_text = event.value.strip()

    @on(Input.Submitted, "#filter")
    def _filter_kept(self, event: Input.Submitted) -> None:
        if not event.value.strip():
            event.input.remove_class("shown")
        self.query_one(GraphView).focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        if box.has_focus or box.has_class("shown"):
            box.value = ""
            box.remove_class("shown")
            self.query_one(GraphView).focus()
