"""The gate: every gate run (unit, the merged commit it judged, passed / failed counts, duration
and cause), newest first, with the output tail of the run under the cursor."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import DataTable, Static

from bosun.orchestration.integration.gate import summarize
from bosun.orchestration.store import GateRun

from bosun.widgets.agents_table import duration
from bosun.widgets.keyed_table import KeyedTable

MAX_ROWS = 100
"""The newest runs; `bosun status --json` has every one."""
COLUMNS = ("Run", "Unit", "Try", "Result", "Passed", "Failed", "Took", "Merged commit", "Cause")


def checks_line(checks: list[dict] | tuple[dict, ...]) -> str:
    """`✔ merge · ✔ semantic · ✖ tests`: every check of a gate run and how it went."""
    return " · ".join(f"{'✔' if c['passed'] else '✖'} {c['check']}" for c in checks)


class GatePane(Vertical):
    """Gate runs above, the selected run's output tail below."""

    DEFAULT_CSS = """
    GatePane > KeyedTable { height: 1fr; min-height: 4; }
    GatePane > #gate-output { height: 1fr; border-top: solid $foreground-muted; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._runs: dict[str, GateRun] = {}

    def compose(self) -> ComposeResult:
        yield KeyedTable(COLUMNS, id="gate-runs")
        with VerticalScroll(id="gate-output"):
            yield Static("No gate has run yet.", id="gate-tail", markup=False)

    @property
    def table(self) -> KeyedTable:
        return self.query_one("#gate-runs", KeyedTable)

    def show_runs(self, runs: list[GateRun]) -> None:
        colours = self.app.theme_variables
        newest_first = sorted(runs, key=lambda run: run.id, reverse=True)[:MAX_ROWS]
        self._runs = {str(run.id): run for run in newest_first}
        rows = {}
        for run in newest_first:
            counts = summarize(run.output_tail)
            result = (Text("passed", style=f"bold {colours.get('success', '')}") if run.passed
                      else Text("FAILED", style=f"bold {colours.get('error', '')}"))
            took = duration(run.duration_s) if run.duration_s >= 60 else f"{run.duration_s:.2f}s"
            rows[str(run.id)] = (str(run.id), run.unit, str(run.attempt), result, str(counts.get("passed", "")),
                                 str(counts.get("failed", "")), took, run.commit_id[:10], run.cause)
        self.table.show(rows)
        self._show_tail(self.table.current_key)

    def focus_unit(self, unit: str) -> None:
        """Move the cursor to the newest run of `unit`."""
        newest = next((key for key, run in self._runs.items() if run.unit == unit), None)
        if newest is not None:
            self.table.select_key(newest)
            self._show_tail(newest)

    @on(DataTable.RowHighlighted)
    def _follow_cursor(self, event: DataTable.RowHighlighted) -> None:
        self._show_tail(event.row_key.value if event.row_key else None)

    def _show_tail(self, key: str | None) -> None:
        run = self._runs.get(key or "")
        tail = self.query_one("#gate-tail", Static)
        if run is None:
            tail.update("No gate has run yet." if not self._runs else "")
            return
        checks = checks_line(run.checks)
        header = f"{run.unit} try {run.attempt} · {run.commit_id[:10]} · {run.cause}\n" + (f"{checks}\n" if checks else "")
        tail.update(header + (run.output_tail.rstrip() or "(no output)"))
