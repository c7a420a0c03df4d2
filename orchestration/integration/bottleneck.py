"""Whether the merge queue is what the session waits on, and what more gate slots would give.

The rule, from what the queue shows in the store: the queue is the bottleneck when agents wait
for work (at least one agent holds no unit and no unit is ready for it) while the units waiting
for a gate slot (submitted, not in a run now) need at least two more rounds of gate runs at the
current `gate_parallel` (a round: one run per slot, `batch` units each). Then more slots would
start them sooner; with fewer waiting, the next round takes them all anyway.

The figures are estimates from the last runs' mean duration: the waiting units clear in
`rounds x gate_s`; `gate_parallel = N` (at most twice the slots there are, no more than the
waiting units' runs) would take `ceil(waiting / (N x batch)) x gate_s`. Parallel gates stay
opt-in: this only says so.

The queue keeps its shape (`gate_parallel`, the batch it uses now, how many agents can work at
once: `max_agents` of those Bosun starts, and every external one) in the store's meta
(`queue_shape`) when it changes, so reading all this costs two small queries, no event log.
"""

from __future__ import annotations

import json
import math
from typing import NamedTuple

from bosun.orchestration.states import AGENT_STATES, INTEGRATING_STATES, READY

SHAPE_KEY = "queue_shape"
RECENT_RUNS = 10
"""Gate runs the mean duration is taken over."""


class QueueLoad(NamedTuple):  # not a dataclass: `bosun status` imports no `dataclasses`
    """What waits on the queue now, and whether it is the bottleneck."""

    waiting: int
    """Units submitted and waiting for a gate slot (not in a run now)."""
    in_gate: int
    idle_agents: int
    gate_parallel: int
    batch: int
    gate_s: float | None
    """The mean duration of the last runs (None before any finished)."""

    def rounds(self, slots: int) -> int:
        return math.ceil(self.waiting / (slots * self.batch))

    def wait_s(self, slots: int) -> float | None:
        return None if self.gate_s is None else self.rounds(slots) * self.gate_s

    @property
    def bottleneck(self) -> bool:
        return self.idle_agents > 0 and self.rounds(self.gate_parallel) >= 2

    @property
    def suggest(self) -> int | None:
        """The `gate_parallel` worth trying: enough slots for every waiting run, at most twice today's."""
        if not self.bottleneck:
            return None
        return min(self.rounds(1), 2 * self.gate_parallel, 32)

    def says(self) -> str | None:
        """The one line `bosun status` prints (None when the queue is not the bottleneck)."""
        if not self.bottleneck:
            return None
        now = self.wait_s(self.gate_parallel)
        idle = f"{self.idle_agents} agent{'s' * (self.idle_agents != 1)} idle"
        line = f"queue is the bottleneck: {self.waiting} units wait for a gate slot"
        line += f" (~{span(now)} at gate_parallel = {self.gate_parallel})" if now is not None else ""
        line += f", {idle}; gate_parallel = {self.suggest} would take "
        later = self.wait_s(self.suggest)
        return line + (f"~{span(later)}" if later is not None else f"{self.rounds(self.suggest)} rounds of runs")

    def short(self) -> str | None:
        """The same, short enough for a pane's title."""
        if not self.bottleneck:
            return None
        now, later = self.wait_s(self.gate_parallel), self.wait_s(self.suggest)
        figures = (f" ~{span(now)}", f": ~{span(later)}") if now is not None and later is not None else ("", "")
        return f"bottleneck: {self.waiting} wait{figures[0]} · gate_parallel = {self.suggest}{figures[1]}"

    def as_json(self) -> dict:
        now = self.wait_s(self.gate_parallel)
        suggest = self.suggest
        return {
            "bottleneck": self.bottleneck,
            "waiting": self.waiting,
            "in_gate": self.in_gate,
            "idle_agents": self.idle_agents,
            "gate_parallel": self.gate_parallel,
            "batch": self.batch,
            "gate_s": _rounded(self.gate_s),
            "wait_s": _rounded(now),
            "suggest": None
            if suggest is None
            else {"gate_parallel": suggest, "wait_s": _rounded(self.wait_s(suggest))},
            "says": self.says(),
        }


def _rounded(seconds: float | None) -> float | None:
    """To the hundredth: a gate of tens of milliseconds (a small project's) still has figures that
    compare (at a tenth, 3 x 0.08 s and 2 x 0.08 s were both 0.2)."""
    return None if seconds is None else round(seconds, 2)


def span(seconds: float) -> str:
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


def queue_load(store, units: list, agents: int) -> QueueLoad:
    """The queue's load from the store: `units` as the caller read them, `agents` the team's size
    when the queue did not say how many can work at once."""
    shape = _shape(store.get_meta(SHAPE_KEY))
    agents = (shape or {}).get("agents", agents)
    held = sum(1 for u in units if u.state in AGENT_STATES)
    ready = any(u.state == READY for u in units)
    waiting = sum(1 for u in units if u.state in INTEGRATING_STATES and not u.queue)
    in_gate = sum(1 for u in units if u.state in INTEGRATING_STATES and u.queue)
    durations = [
        row[0]
        for row in store.db.execute(
            "SELECT duration_s FROM gate_runs WHERE exit_code IS NOT NULL ORDER BY id DESC LIMIT ?", (RECENT_RUNS,)
        )
    ]
    return QueueLoad(
        waiting=waiting if shape else 0,  # no queue has run in this session yet: nothing waits on it
        in_gate=in_gate,
        idle_agents=0 if ready else max(0, agents - held),
        gate_parallel=(shape or {}).get("gate_parallel", 1),
        batch=(shape or {}).get("batch", 1),
        gate_s=sum(durations) / len(durations) if durations else None,
    )


def _shape(text: str | None) -> dict | None:
    try:
        shape = json.loads(text) if text else None
    except ValueError:
        return None
    if not isinstance(shape, dict) or not all(
        isinstance(shape.get(k), int) and shape[k] > 0 for k in ("gate_parallel", "batch")
    ):
        return None
    return shape


def shape_text(gate_parallel: int, batch: int, agents: int | None) -> str:
    """What the queue keeps under SHAPE_KEY."""
    return json.dumps({"gate_parallel": gate_parallel, "batch": batch, **({"agents": agents} if agents else {})})
