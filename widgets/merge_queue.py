"""The merge queue: what waits for a human (first) and what waits for the merge check or the gate,
with what each one waits for and the key that moves it on. Once the queue tests several units
together, a Run column appears: the run testing the unit now, `+N` for the N
units tested together with it (those ahead of it in the chain and its batch), `bisect` while a
failed batch is split to find the culprit, `retry` while a failed run is run again. One unit
tested alone shows no column: the queue one at a time reads as it always did. A unit no run has
taken in yet waits for a `gate slot`; one that clashes with a unit ahead of it (not with the
integration branch) waits for the `units ahead` to land; one whose gate failed on a branch that
fails its gate too waits for a `branch fix`. A unit you approved waits for
`merging`, or for the unit ahead of it in the chain that has yet to land (under
`merge = "manual"`, one still waiting for your approval).

When the queue is the bottleneck (orchestration/integration/bottleneck.py), the pane's title says
so, with what `gate_parallel` would give; the title changes only when those figures do."""

from __future__ import annotations

from collections.abc import Collection

from rich.text import Text

from bosun.orchestration.integration.bottleneck import QueueLoad
from bosun.orchestration.status import landing_order
from bosun.orchestration.store import UnitRow
from bosun.widgets.key_hints import QUEUE_KEYS, QUEUE_TIP, KeyOf, keys_for
from bosun.widgets.keyed_table import KeyedTable
from bosun.widgets.unit_looks import UnitLook

WAITS_FOR = {
    **dict.fromkeys(QUEUE_KEYS, "you"),  # and the keys that move it on (key_hints.py)
    "submitted": "merge check",
    "checking": "merge check",
    "gating": "tests",
}
MAX_ROWS = 40
"""The queue shows the first rows (what waits for a human comes first); a flood of hundreds would
cost a repaint of every row and help nobody."""
HUMAN_FIRST = (
    "awaiting_approval",
    "conflicted",
    "semantic_conflict",
    "gate_failed",
    "out_of_scope",
    "failed",
    "gating",
    "checking",
    "submitted",
)


class MergeQueue(KeyedTable):
    """Units between an agent's submission and the integration branch, or stuck on the way."""

    def __init__(self, key_of: KeyOf, **kwargs) -> None:
        super().__init__(("Unit", "Waits for", "State"), widths={"State": 12, "Waits for": 11}, **kwargs)
        self.key_of = key_of
        self.tooltip = " · ".join(f"{key_of(binding)} {what}" for binding, what in QUEUE_TIP)
        # Fixed text: a border text that changes makes Textual lay out the whole screen.
        self.border_subtitle = f"yours first · {MAX_ROWS} at most"
        self.tip = self.tooltip

    def show_load(self, load: QueueLoad) -> None:
        """The title says when the queue is the bottleneck, the tooltip the whole sentence."""
        short = load.short()
        title = "Merge queue" if short is None else f"Merge queue · {short}"
        if title != self.border_title:
            self.border_title = title
            self.tooltip = self.tip if short is None else f"{load.says()}\n{self.tip}"

    def _with_run_column(self) -> None:
        """The Run column, added the first time a run tests more than its one unit, or is a retry or a
        bisection (a queue that goes one unit at a time never has one). It comes last: what each
        unit waits for, with the key that moves it on, must never be the column a narrow pane cuts."""
        self.clear(columns=True)
        self._column_names = ["Unit", "Waits for", "State", "Run"]
        self._widths["Run"] = 9
        self._shown = {}
        for name in self._column_names:
            self.add_column(name, key=name, width=self._widths.get(name))

    @staticmethod
    def run_cell(unit: UnitRow) -> str:
        run = unit.queue
        if not run:
            return ""
        tag = {"bisect": "bisect", "retry": "retry"}.get(run.get("why"), "")
        together = len(run.get("with") or [])
        return f"{run['run']} {tag or (f'+{together}' if together else '')}".strip()

    def show_queue(self, units: list[UnitRow], load: QueueLoad | None = None, held: Collection[str] = ()) -> None:
        """`held`: submitted units the queue holds back until the units ahead land (they clash with
        one of those, not with the integration branch)."""
        if load is not None:
            self.show_load(load)
        # "R3" alone is a unit tested by itself; "R3 +2", "R3 bisect", "R3 retry" say more
        if "Run" not in self._column_names and any(" " in self.run_cell(u) for u in units):
            self._with_run_column()
        in_order = landing_order(units, [u for u in units if u.state in WAITS_FOR])  # stacked: the lower first
        looks = {u.id: UnitLook(u.state, approved=u.approved) for u in in_order}
        # one you approved is no longer yours: it sorts with the units on their way in
        queued = sorted(in_order, key=lambda u: HUMAN_FIRST.index("gating" if looks[u.id].landing else u.state))
        queued = queued[:MAX_ROWS]
        warning = self.app.theme_variables.get("warning", "")
        ahead = {u.candidate: u.id for u in units if u.candidate and u.state in WAITS_FOR}
        rows = {}
        for unit in queued:
            approved = unit.state in ("awaiting_approval", "gating") and unit.approved
            # approved, its candidate on the one of a unit still queued: it lands after that one
            if approved:
                waits = ahead.get(unit.candidate_parent, "merging")
            elif unit.state == "gating" and not unit.queue:  # queued, no run has taken it in yet
                waits = "gate slot"
            elif unit.id in held:
                waits = "units ahead"
            elif unit.state == "gate_failed" and (unit.detail or {}).get("base_failing"):  # back once the branch passes
                waits = "branch fix"
            elif unit.state in QUEUE_KEYS:
                waits = f"you: {keys_for(QUEUE_KEYS, unit.state, self.key_of)}"
            else:
                waits = WAITS_FOR[unit.state]
            style = f"bold {warning}" if waits.startswith("you") else ""
            cells = (unit.id, Text(waits, style=style), looks[unit.id].label)
            rows[unit.id] = (*cells, self.run_cell(unit)) if "Run" in self._column_names else cells
        self.show(rows)
