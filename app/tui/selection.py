"""The one selection of the supervisor screen: the unit the graph picks out, the focused row of any
table, the diff and output the panes show, the decisions the footer offers and the keys act on.
Only the user moves it (arrow keys, a click, focusing a table, the filter, `w` to the next unit
that waits, or `a` / `x` with the selection elsewhere: to the first unit awaiting approval); new
runs, events and merges never do: a table whose rows move under it puts its cursor back on the
selected unit's row, or hides its cursor when the unit has none.
"""

from __future__ import annotations

import asyncio

from textual import work
from textual.binding import Binding

from bosun.app.tui.keys import DECISIONS, SCREEN_BINDINGS
from bosun.orchestration.integration.regate import why_not_regate
from bosun.orchestration.review import unit_diff
from bosun.orchestration.session import Session
from bosun.orchestration.states import AGENT_STATES, CLAIMED, COMMAND_STATES
from bosun.orchestration.status import attempt_shown
from bosun.orchestration.store import UnitRow
from bosun.widgets.diff_view import DiffView
from bosun.widgets.gate_pane import GatePane
from bosun.widgets.graph_view import GraphView
from bosun.widgets.key_hints import NOTICE_KEYS
from bosun.widgets.keyed_table import KeyedTable
from bosun.widgets.output_view import OutputView
from bosun.widgets.waiting_notice import WaitingNotice

NOTICE_DECISIONS = {"approve": "unit.approve", "reject": "unit.reject"}
"""The decisions the waiting notice offers by key (its `a / x`): they act on the selected unit, or,
where it does not take them, on the first unit the notice lists that does (the selection moves there)."""


class Selection:
    """The selection half of the supervisor screen (a mixin: it needs the screen's `session`,
    `commits` and `store_changed`)."""

    session: Session
    commits: dict[str, int]

    def init_selection(self) -> None:
        self.selected_unit: str | None = None
        """The unit every pane, the footer and the decision keys follow."""
        self._offered: tuple[str, str, bool, bool] | None = None
        """The selected unit's (id, state, approved, its gate can run again), which decides which
        actions are offered."""
        self._diff_of: tuple | None = None

    def select(self, unit: str | None) -> None:
        """The user chose `unit`: the graph, every table, the panes and the footer follow."""
        if unit is None or unit == self.selected_unit:
            return
        self.selected_unit = unit
        self.query_one(GraphView).selected = unit
        for table in self.query(KeyedTable):
            table.follow(unit)
        row = self.session.store.unit(unit)
        if row is not None:
            self.follow_row(row)
            self.query_one(GatePane).show_tail_of(unit)
        self.note_selected(row)

    # A message about a unit its widget no longer has selected is stale (two moves were in flight):
    # following it would move the selection back, and the widgets would answer each other forever.
    def on_graph_view_unit_selected(self, message: GraphView.UnitSelected) -> None:
        if message.unit == self.query_one(GraphView).selected:
            self.select(message.unit)

    def on_keyed_table_unit_selected(self, message: KeyedTable.UnitSelected) -> None:
        if not message.stale:
            self.select(message.unit)

    def on_keyed_table_unit_opened(self, message: KeyedTable.UnitOpened) -> None:
        """enter on a row of the merge queue, agents or gate table: the same as enter in the graph."""
        self.select(message.unit)
        self.action_open_unit()

    def follow_row(self, row: UnitRow) -> None:
        """Follow the selected unit's latest attempt in the Output tab; reload the diff when its work
        changed (new commits, a new attempt, merged): a state change alone (checking, gating) leaves
        the diff as it is."""
        attempt = attempt_shown(row)  # a claimed unit's attempt is being prepared: its setup's output
        log = self.session.agent_log(row.id, attempt) if attempt else None
        self.query_one(OutputView).show_log(
            row.id, attempt, log, live=row.state in AGENT_STATES, preparing=row.state == CLAIMED
        )
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

    def note_selected(self, row: UnitRow | None) -> None:
        """Offer only the decisions that apply to the selected unit now (footer and palette)."""
        offered = None if row is None else (row.id, row.state, bool(row.approved), why_not_regate(row) is None)
        if offered == self._offered:
            return
        before = self._decisions_offered()
        self._offered = offered
        if self._decisions_offered() != before:  # a new footer lays out the screen: only when it differs
            self.refresh_bindings()

    def _decisions_offered(self) -> set[str]:
        return {action for action in DECISIONS if self.check_action(action, ())}

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        decision = DECISIONS.get(action)
        if decision is None:
            return True
        return self._selected_takes(decision) or self.waiting_target(decision) is not None

    def _selected_takes(self, decision: str) -> bool:
        if self._offered is None:
            return False
        _, state, approved, regatable = self._offered
        if (decision == "approve" and approved) or (decision == "regate" and not regatable):
            return False
        return state in COMMAND_STATES[decision]

    def action_next_waiting(self) -> None:
        """The selection goes to the next unit that waits for you, in the waiting line's order (round)."""
        waiting = [unit for unit, _ in self.query_one(WaitingNotice).waiting]
        if not waiting:
            self.notify("Nothing waits for you.")
            return
        at = waiting.index(self.selected_unit) + 1 if self.selected_unit in waiting else 0
        self.select(waiting[at % len(waiting)])

    def waiting_target(self, decision: str) -> str | None:
        """Where the selected unit does not take `decision` and the waiting notice offers it by key:
        the first unit the notice lists that takes it."""
        if decision not in NOTICE_DECISIONS or self._selected_takes(decision):
            return None
        for unit, state in self.query_one(WaitingNotice).waiting:
            if state in COMMAND_STATES[decision] and NOTICE_DECISIONS[decision] in NOTICE_KEYS.get(state, ()):
                return unit
        return None

    def offered_bindings(self) -> list[Binding]:
        """This screen's bindings that apply now, for the palette and help."""
        return [b for b in SCREEN_BINDINGS if self.check_action(b.action.split("(")[0], ())]
