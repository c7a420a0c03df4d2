"""The supervisor screen: graph, merge queue, agents and claims, diff, gate and event log, kept
live from the session's store. The one selection (selection.py) and the human decisions on it
(decisions.py) are its two halves; its keys are in keys.py.
"""

from __future__ import annotations

import asyncio
import time

from textual import events, on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, TabbedContent, TabPane

from bosun.app.tui.decisions import Decisions
from bosun.app.tui.keys import SCREEN_BINDINGS, SCREEN_BINDINGS_BY_ID
from bosun.app.tui.selection import Selection
from bosun.app.tui.timeline_feed import TimelineFeed
from bosun.app.tui.unit_rows import UnitRows
from bosun.orchestration.event_lines import format_event
from bosun.orchestration.integration.bottleneck import queue_load
from bosun.orchestration.review import commits_made
from bosun.orchestration.session import Session
from bosun.orchestration.states import AGENT_STATES, waits_for_human
from bosun.orchestration.status import agent_rows, held, landing_order
from bosun.orchestration.store import Event, UnitRow
from bosun.widgets.agents_table import AgentsTable
from bosun.widgets.diff_view import DiffView
from bosun.widgets.event_log import MAX_LINES as EVENT_LOG_LINES
from bosun.widgets.event_log import EventLog
from bosun.widgets.gate_pane import GatePane
from bosun.widgets.graph_view import GraphView, UnitLook
from bosun.widgets.machine_banner import MachineBanner
from bosun.widgets.merge_queue import MergeQueue
from bosun.widgets.output_view import OutputView
from bosun.widgets.textual_adapter import set_border_title, write_to_terminal
from bosun.widgets.timeline import TimelineView
from bosun.widgets.waiting_notice import WaitingNotice

MIN_REFRESH_S = 0.008
"""Events closer together than this are shown in one repaint (half a frame: a read takes 2-3 ms,
and 15 ms between reads put the flood's p95 at 70-100 ms against 36-63 ms at 8)."""

READS_SHARE = 3
MAX_REFRESH_S = 0.05
"""On a busy machine a read of the store takes longer: the next waits READS_SHARE times as long as
the last took (at most MAX_REFRESH_S), so each repaint carries more events instead of the reads
taking all the time the machine gives the screen."""

TABLES_EVERY_S = 1.0
"""Each of the merge queue, agents and gate tables repaints at most this often under a flood: a table's
rows are built from the store (agents with their claims and spend, the queue's load, the gate runs),
and with every read that doubled the flood's p95 (16.5 -> 34-42 ms, 200 events a second)."""

COMMITS_EVERY_S = 3.0


FOOTER_ROOM = 120
"""The width at which every key of the footer fits as Textual lays it out."""


class SupervisorScreen(Selection, Decisions, Screen):
    """One session, live."""

    BINDINGS = SCREEN_BINDINGS

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
        self._refresh_took = 0.0
        self._tables_pending = False
        self._last_tables = 0.0
        self._table_turn = 0
        self._tables_behind: set[str] = set()
        """Tables that have not shown the latest rows read."""
        self.unit_rows = UnitRows(session.store)
        self._moves: dict[str, str | None] = {}
        """Each unit's latest state change (its event's kind), followed from the events read."""
        self._gate_changed = True
        self.init_selection()
        self.timeline_feed = TimelineFeed(session, self.set_timer)

    def key_of(self, binding_id: str) -> str:
        """A key of this screen as the user has it (their keymap too; the first where they gave
        several), for the panes that name keys."""
        return self.app.key_shown(SCREEN_BINDINGS_BY_ID[binding_id], first=True)

    def compose(self) -> ComposeResult:
        yield Header()
        yield MachineBanner(id="machine")
        with Horizontal(id="top"):
            yield GraphView(id="graph")
            yield MergeQueue(self.key_of, id="queue")
        yield AgentsTable(nodes=self.session.plan.project.backend != "local", id="agents")
        with Horizontal(id="bottom"):
            with TabbedContent(id="tabs"):
                with TabPane("Diff", id="diff"):
                    yield DiffView(id="diff-view")
                with TabPane("Gate", id="gate"):
                    yield GatePane(id="gate-pane")
                with TabPane("Output", id="output"):
                    yield OutputView(id="output-view")
                with TabPane("Timeline", id="timeline"):
                    yield TimelineView(id="timeline-view")
            yield EventLog(format_event, id="events")
        yield WaitingNotice(self.key_of, id="waiting")
        yield Input(id="filter", placeholder="filter units by id, title, state or agent · enter keeps it · esc clears")
        yield Footer()

    def on_resize(self, event: events.Resize) -> None:
        """Under FOOTER_ROOM columns the footer packs its keys and leaves out the palette's (`:` and
        ctrl+p still open it; help lists it), so `?` and `q` stay in view at 100 columns."""
        footer = self.query_one(Footer)
        narrow = event.size.width < FOOTER_ROOM
        if footer.compact != narrow:
            footer.compact, footer.show_command_palette = narrow, not narrow
            footer.refresh(recompose=True)

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
        self.check_machine()

    @work(thread=True, exit_on_error=False, group="doctor")
    def check_machine(self) -> None:
        """What `bosun doctor` would say is missing for this plan (it runs the agents' CLIs and asks
        endpoints: a thread), and the sandbox when the plan asks for one and it cannot start."""
        from bosun.orchestration.doctor import problems

        found = problems(self.session.plan, self.session.repo.path)
        wanted = self.session.plan.project.sandbox != "off"
        lines = [c.line() for c in found if c.needed or (c.name == "sandbox" and wanted) or c.name == "submodules"]
        self.app.call_from_thread(self.query_one(MachineBanner).show_problems, lines)

    # -- keeping up with the store ------------------------------------------------------------------
    def store_changed(self, event: Event | None = None) -> None:
        """Schedule one repaint for however many changes arrive before it runs."""
        if self._refresh_pending:
            return
        self._refresh_pending = True
        spacing = min(max(MIN_REFRESH_S, READS_SHARE * self._refresh_took), MAX_REFRESH_S)
        wait = self._last_refresh + spacing - time.monotonic()
        if wait > 0:
            self.set_timer(wait, self.refresh_from_store)
        else:
            self.call_later(self.refresh_from_store)

    def refresh_from_store(self) -> None:
        """Graph, event log and counts every repaint; the tables at most TABLES_EVERY_S apart (a
        flood of events would otherwise spend the loop re-rendering rows nobody can read that fast)."""
        self._refresh_pending = False
        self._last_refresh = time.monotonic()
        try:
            self._read_store()
        finally:
            self._refresh_took = time.monotonic() - self._last_refresh

    def _read_store(self) -> None:
        """The changes since the last read, into every widget that shows them."""
        store = self.session.store
        backlog = not self.last_seq
        if backlog:  # a resumed session can have a long past: the log keeps the latest
            self.last_seq = max(0, store.last_seq() - EVENT_LOG_LINES)
        events = store.events(after=self.last_seq)
        changed = self.unit_rows.read()
        units = self.unit_rows.rows
        rows = (self.unit_rows.get(unit) for unit in changed)
        looks = {u.id: UnitLook(u.state, u.owner or u.agent, u.approved) for u in rows if u}
        self.query_one(GraphView).update_units(looks)
        if events:
            self.last_seq = events[-1].seq
            self._moves.update((e.unit, e.kind) for e in events if e.unit and "to" in e.data)
            self.query_one(EventLog).add_events(events)
            if not backlog:  # old news is in the log, not in pop-ups
                self._tell(events)
            self._gate_changed |= any("gate" in e.data or "gate_run" in e.data for e in events)  # a verdict, a run
        self._show_counts(units)
        self._tables_behind = set(self.TABLES)
        if self._last_refresh - self._last_tables >= TABLES_EVERY_S:  # quiet: every table at once
            self.refresh_tables(units)
        else:  # a flood: one table a turn, each at most every TABLES_EVERY_S
            self._next_table_turn()
        row = self.unit_rows.get(self.selected_unit)
        if row is not None:
            self.follow_row(row)
        self.note_selected(row)
        self.timeline_due()
        seq = self.last_seq
        self.call_after_refresh(lambda: self.post_message(self.EventsShown(seq)))

    TABLES = ("queue", "agents", "gate")

    @property
    def tables_behind(self) -> bool:
        """A table has yet to show the rows last read (its turn comes within TABLES_EVERY_S)."""
        return bool(self._tables_behind)

    def _next_table_turn(self) -> None:
        """The tables take turns, so no single repaint carries all three; turns go on until every
        table shows the latest rows read (the last events of a flood reach every table)."""
        if self._tables_pending or not self._tables_behind:
            return
        self._tables_pending = True
        turn = TABLES_EVERY_S / len(self.TABLES) - (time.monotonic() - self._last_tables)
        if turn > 0:
            self.set_timer(turn, self._refresh_next_table)
        else:  # (Textual's timer divides by its delay: never 0)
            self.call_later(self._refresh_next_table)

    def _refresh_next_table(self) -> None:
        self._tables_pending = False  # (only here: one chain of turns at a time)
        if not self._tables_behind:  # all shown at once meanwhile
            return
        self._table_turn += 1
        table = self.TABLES[self._table_turn % len(self.TABLES)]
        while table not in self._tables_behind:
            self._table_turn += 1
            table = self.TABLES[self._table_turn % len(self.TABLES)]
        self.refresh_tables(self.unit_rows.rows, table)
        self._next_table_turn()

    def refresh_tables(self, units: list[UnitRow], only: str | None = None) -> None:
        """Bring the merge queue, agents and gate tables up to date (all of them, or `only` one)."""
        self._last_tables = time.monotonic()
        self._tables_behind.difference_update(self.TABLES if only is None else (only,))
        if only in (None, "queue"):
            store, team = self.session.store, len(self.session.plan.agents)
            behind = {u.id for u in units if held(u, self._last_move)}
            self.query_one(MergeQueue).show_queue(units, queue_load(store, units, team), behind)
        if only in (None, "agents"):
            self.query_one(AgentsTable).show_agents(
                agent_rows(self.session, self.session.store.clock()), self.commits, self.session.plan.project.lease
            )
        if only in (None, "gate") and self._gate_changed:
            self._gate_changed = False
            self.query_one(GatePane).show_runs(self.session.store.gate_runs())

    def _last_move(self, unit: str) -> str | None:
        """From the events followed; the store is asked once for a unit whose last move is older."""
        if unit not in self._moves:
            self._moves[unit] = self.session.store.last_move(unit)
        return self._moves[unit]

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
        """A unit has started to wait for a decision: the terminal's bell and a desktop notification
        for terminals that show one (OSC 9, and OSC 777 for others). On screen, the one notice of
        what waits (WaitingNotice) says it, not a pop-up per unit."""
        text = f"'{event.unit}' waits for you: {event.data.get('why') or event.data.get('state')}"
        self.app.bell()
        clean = text.replace("\x07", "").replace("\x1b", "")
        write_to_terminal(self.app, f"\x1b]9;Bosun: {clean}\x07\x1b]777;notify;Bosun;{clean}\x07")

    def _show_counts(self, units: list[UnitRow]) -> None:
        merged = sum(u.state == "merged" for u in units)
        working = sum(u.state in AGENT_STATES for u in units)
        waits = [u for u in units if waits_for_human(u.state, u.approved)]
        waiting = len(waits)
        shown = [(u.id, u.state) for u in landing_order(units, waits)]
        notice = self.query_one(WaitingNotice)
        if shown != notice.waiting:  # `a` / `x` follow what waits (Selection.waiting_target): the footer too
            before = self._decisions_offered()
            notice.show_waiting(shown)
            if self._decisions_offered() != before:
                self.refresh_bindings()
        # In the graph's border, not the header: a changed header title makes Textual lay out the screen.
        title = f"Graph · {merged}/{len(units)} merged · {working} at work · {waiting} wait for you"
        set_border_title(self.query_one(GraphView), title)  # its top row alone, not the whole graph
        self.sub_title = f"{self.session.plan.project.integration} {self.session.integration_head()[:10]}"

    @work(exclusive=True, group="commits")
    async def count_commits(self) -> None:
        held = [u for u in self.session.store.units() if u.state in AGENT_STATES + ("submitted",)]
        if held:
            self.commits.update(await asyncio.to_thread(commits_made, self.session.clone().path, held))
            self.store_changed()

    # -- the timeline -------------------------------------------------------------------------------
    def timeline_due(self) -> None:
        """Recompute the timeline (a few times a second at most, off the event loop) while its tab shows."""
        if self.query_one(TabbedContent).active == "timeline":
            self.timeline_feed.due(self.query_one(TimelineView).show, self.session.store.last_seq())

    @on(TabbedContent.TabActivated, "#tabs")
    def _tab_shown(self, event: TabbedContent.TabActivated) -> None:
        self.timeline_due()

    def on_timeline_view_unit_selected(self, message: TimelineView.UnitSelected) -> None:
        self.select(message.unit)

    def select(self, unit: str | None) -> None:
        super().select(unit)
        self.query_one(TimelineView).selected = self.selected_unit

    def on_unmount(self) -> None:
        self.timeline_feed.close()

    def action_timeline(self) -> None:
        self.action_show_tab("timeline")
        self.query_one(TimelineView).focus()

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
