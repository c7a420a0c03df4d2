"""The gate: every gate run (unit, the merged commit it judged, passed / failed counts, duration
and cause), newest first, with the output tail of the run under the cursor, its colours rendered
(pytest with colour on prints escape codes: they become colours here, never text).

A new run comes in at the top. A cursor on the top row follows it (the newest run is what you
watch), as it follows a new run of the selected unit; a cursor elsewhere stays on its run, and
the table scrolls to the top when that keeps the cursor in view, or else a line above the table
counts the new runs until the cursor reaches them."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import DataTable, Static

from bosun.orchestration.store import GateRun
from bosun.orchestration.unit_story import checks_line
from bosun.widgets.agents_table import duration
from bosun.widgets.keyed_table import KeyedTable

MAX_ROWS = 100
"""The newest runs; `bosun status --json` has every one."""
COLUMNS = ("Run", "Unit", "Try", "Result", "Passed", "Failed", "Took", "Tested commit", "Cause")


def run_counts(run: GateRun) -> dict[str, int]:
    """The tests' passed / failed counts as the run's verdict recorded them (read from the end of
    its whole log when it finished: the tail kept here can hold only a coverage table)."""
    tests = next((c for c in run.checks if c.get("check") == "tests"), {})
    return {key.removeprefix("tests_"): value for key, value in tests.items() if key.startswith("tests_")}


class GatePane(Vertical):
    """Gate runs above, the selected run's output tail below."""

    DEFAULT_CSS = """
    GatePane > #gate-new { height: 1; display: none; color: $accent; text-style: bold; }
    GatePane > #gate-new.shown { display: block; }
    GatePane > KeyedTable { height: 1fr; min-height: 4; }
    GatePane > #gate-output { height: 1fr; border-top: solid $foreground-muted; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._runs: dict[str, GateRun] = {}
        self.unseen: set[str] = set()
        """New runs above the cursor and out of view: counted above the table until the cursor reaches them."""
        self._unseen_line = ""
        self._tail_of: tuple[GateRun | None, bool] | None = None
        """The run whose output the tail shows, and whether there were runs then."""

    def compose(self) -> ComposeResult:
        yield Static("", id="gate-new", markup=False)
        yield KeyedTable(COLUMNS, id="gate-runs")
        with VerticalScroll(id="gate-output"):
            yield Static("No gate has run yet.", id="gate-tail", markup=False)

    @property
    def table(self) -> KeyedTable:
        return self.query_one("#gate-runs", KeyedTable)

    def show_runs(self, runs: list[GateRun]) -> None:
        colours = self.app.theme_variables
        newest_first = sorted(runs, key=lambda run: run.id, reverse=True)[:MAX_ROWS]
        table = self.table
        following = table.unit is None and (not table.row_count or table.cursor_row == 0)
        # on the selected unit's newest run: its next run takes the cursor (an older one read on purpose stays)
        latest = next((key for key, run in self._runs.items() if run.unit == table.unit), None)
        on_latest = table.unit is not None and latest is not None and table.current_key == latest
        new = [str(run.id) for run in newest_first if str(run.id) not in self._runs] if self._runs else []
        self._runs = {str(run.id): run for run in newest_first}
        rows = {}
        for run in newest_first:
            counts = run_counts(run)
            result = (
                Text("passed", style=f"bold {colours.get('success', '')}")
                if run.passed
                else Text("FAILED", style=f"bold {colours.get('error', '')}")
            )
            took = duration(run.duration_s) if run.duration_s >= 60 else f"{run.duration_s:.2f}s"
            rows[str(run.id)] = (
                str(run.id),
                run.unit,
                str(run.attempt),
                result,
                str(counts.get("passed", "")),
                str(counts.get("failed", "")),
                took,
                run.commit_id[:10],
                run.cause,
            )
        table.show(rows)  # the cursor stays on the selected unit's run: another unit's never moves it
        mine = [key for key in new if on_latest and self._runs[key].unit == table.unit]
        if following and table.row_count:  # (nothing selected: the top row follows the newest)
            table.move_cursor(row=0, animate=False)
        elif new:
            if mine:  # the selected unit was judged again: its newest verdict is the one to read
                table.move_cursor(row=table.get_row_index(mine[0]), animate=False)
            if table.cursor_row < table.scrollable_content_region.height - table.header_height:
                table.scroll_to(y=0, animate=False)  # the new rows and the cursor both in view
            else:
                self.unseen.update(key for key in new if table.get_row_index(key) < table.cursor_row)
        self.unseen &= rows.keys()
        self._show_unseen()
        self._show_tail(self._shown_key())

    def _show_unseen(self) -> None:
        if self.unseen and self.table.cursor_row > 0:
            count = len(self.unseen)
            line = f"▲ {count} new gate run{'s' * (count != 1)} above · in the table, ctrl+home"
            if line != self._unseen_line:
                self._unseen_line = line
                self.query_one("#gate-new", Static).update(line, layout=False)  # one line high
            self.query_one("#gate-new").add_class("shown")
        else:
            self.unseen.clear()
            self.query_one("#gate-new").remove_class("shown")

    def _shown_key(self) -> str | None:
        """The run whose output is shown: the cursor's, or the newest when the selected unit has none."""
        if self.table.show_cursor:
            return self.table.current_key
        return next(iter(self._runs), None)

    def show_tail_of(self, unit: str) -> None:
        """The selection moved to `unit` (the table's cursor followed it): show its run's output."""
        self._show_tail(self._shown_key())

    @on(DataTable.RowHighlighted)
    def _follow_cursor(self, event: DataTable.RowHighlighted) -> None:
        self._show_tail(event.row_key.value if event.row_key else None)
        if self.unseen:  # the ones the cursor has reached (or passed) are seen
            self.unseen = {key for key in self.unseen if self.table.get_row_index(key) < event.cursor_row}
            self._show_unseen()

    def _show_tail(self, key: str | None) -> None:
        run = self._runs.get(key or "")
        shown = (run, bool(self._runs))
        if shown == self._tail_of:  # the same text again would lay out the screen for nothing
            return
        self._tail_of = shown
        tail = self.query_one("#gate-tail", Static)
        layout = bool(tail.region)  # hidden (another tab shows): laid out when its tab is shown
        if run is None:
            tail.update("No gate has run yet." if not self._runs else "", layout=layout)
            return
        checks = checks_line(run.checks)
        header = f"{run.unit} try {run.attempt} · {run.commit_id[:10]} · {run.cause}\n" + (
            f"{checks}\n" if checks else ""
        )
        output = (
            Text.from_ansi(run.output_tail.rstrip().expandtabs()) if run.output_tail.strip() else Text("(no output)")
        )
        tail.update(Text(header) + output, layout=layout)
