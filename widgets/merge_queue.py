"""The merge queue: what waits for a human (first) and what waits for the merge check or the gate,
with what each one waits for and the key that moves it on."""

from __future__ import annotations

from rich.text import Text

from bosun.orchestration.store import UnitRow

from bosun.widgets.graph_view import STATE_LABELS
from bosun.widgets.keyed_table import KeyedTable

WAITS_FOR = {
    "awaiting_approval": "you: a / x",
    "conflicted": "you: enter",
    "semantic_conflict": "you: enter",
    "gate_failed": "you: b / r",
    "out_of_scope": "you: b / r",
    "failed": "you: r / b",
    "submitted": "merge check",
    "checking": "merge check",
    "gating": "tests",
}
MAX_ROWS = 40
"""The queue shows the first rows (what waits for a human comes first); a flood of hundreds would
cost a repaint of every row and help nobody."""
HUMAN_FIRST = ("awaiting_approval", "conflicted", "semantic_conflict", "gate_failed", "out_of_scope", "failed",
               "gating", "checking", "submitted")


class MergeQueue(KeyedTable):
    """Units between an agent's submission and the integration branch, or stuck on the way."""

    def __init__(self, **kwargs) -> None:
        super().__init__(("Unit", "State", "Waits for"), widths={"State": 12, "Waits for": 11}, **kwargs)
        self.tooltip = "a approve · x reject · b hand back · r reassign · enter resolve a conflict"
        # Fixed text: a border text that changes makes Textual lay out the whole screen.
        self.border_subtitle = f"yours first · {MAX_ROWS} at most"

    def show_queue(self, units: list[UnitRow]) -> None:
        queued = sorted((u for u in units if u.state in WAITS_FOR), key=lambda u: (HUMAN_FIRST.index(u.state), u.position))
        queued = queued[:MAX_ROWS]
        warning = self.app.theme_variables.get("warning", "")
        rows = {}
        for unit in queued:
            approved = unit.state in ("awaiting_approval", "gating") and unit.approved
            waits = "merging" if approved else WAITS_FOR[unit.state]
            style = f"bold {warning}" if waits.startswith("you") else ""
            rows[unit.id] = (unit.id, STATE_LABELS.get(unit.state, unit.state), Text(waits, style=style))
        self.show(rows)
