"""The timeline's lanes, as any view draws them: one lane per agent with its attempts as bars
(claimed until handed in), one per gate slot with its runs (batch, retry, bisection), how many
units waited for a human and the cost so far. Made from the report's figures (figures.py), so the
screen's timeline and the page's say the same; bars that overlap in time go on sub-rows."""

from __future__ import annotations

from dataclasses import dataclass, field

from bosun.orchestration.report.figures import figures
from bosun.orchestration.report.fmt import clock, duration, money
from bosun.orchestration.report.record import Record

FAILED_TRIES = ("failed", "over budget", "lease expired", "node lost")
"""How an attempt ended that counts as a failure (marked on its bar)."""


@dataclass(frozen=True)
class Bar:
    key: str
    """Stable across refreshes: a cursor on a bar stays on it while the session moves."""
    unit: str
    """The unit the bar selects (a gate run: its culprit, else the first unit it tested)."""
    units: tuple[str, ...]
    start: float
    end: float
    label: str
    look: str
    """"ok", "failed", "working", "other" (released, revoked, reassigned...), "cancelled"."""
    mark: str = ""
    """A gate run's why: "batch", "retry", "bisect" ("" for a unit alone)."""
    tip: str = ""


@dataclass
class Lane:
    name: str
    group: str
    """"agent" or "gate"."""
    rows: list[list[Bar]] = field(default_factory=list)


@dataclass
class Timeline:
    start: float
    end: float
    live: bool
    lanes: list[Lane]
    waiting: list[tuple[float, float]]
    """How many units waited for a human, at every change."""
    human: dict[str, list[tuple[float, float]]]
    """Each unit's waits for a human (start, end)."""
    cost: list[tuple[float, float]]
    """The cost spent so far, at every attempt that reported one."""

    def bars(self) -> list[Bar]:
        return [bar for lane in self.lanes for row in lane.rows for bar in row]


def pack(bars: list[Bar]) -> list[list[Bar]]:
    """Bars on as few rows as keep them apart in time (oldest first; at least one row)."""
    rows: list[list[Bar]] = []
    for bar in sorted(bars, key=lambda b: (b.start, b.end, b.key)):
        row = next((r for r in rows if r[-1].end <= bar.start), None)
        if row is None:
            rows.append([bar])
        else:
            row.append(bar)
    return rows or [[]]


def _try_look(outcome: str) -> str:
    if outcome == "submitted":
        return "ok"
    if outcome == "working":
        return "working"
    return "failed" if outcome in FAILED_TRIES else "other"


def _agent_lane(name: str, tries: list[tuple[str, dict]], start: float) -> Lane:
    bars = []
    for unit, t in tries:
        tip = (
            f"{unit}, attempt {t['attempt']} by {name}: {t['outcome']}, "
            f"{clock(t['start'] - start)} → {clock(t['end'] - start)} ({duration(t['seconds'])})"
            + (f", {money(t['cost_usd'])}" if t.get("cost_usd") is not None else "")
        )
        label = f"{unit} #{t['attempt']}" if t["attempt"] > 1 else unit
        key = f"try:{unit}:{t['attempt']}:{t['start']}"
        bars.append(Bar(key, unit, (unit,), t["start"], t["end"], label, _try_look(t["outcome"]), "", tip))
    return Lane(name, "agent", pack(bars))


def _run_bar(run: dict) -> Bar:
    mark = run["why"] if run["why"] in ("batch", "retry", "bisect") else ""
    look = {"passed": "ok", "failed": "failed", "running": "working"}.get(run["verdict"], "cancelled")
    tested = run["testing"] or run["units"]
    label = f"{run['run']} {mark}".strip() + (f" ×{len(tested)}" if len(tested) > 1 else "")
    tip = f"{run['run']} ({run['why']}): {run['verdict']}, {duration(run['duration_s'])}; tests {', '.join(tested)}" + (
        f"; culprit {run['culprit']}" if run.get("culprit") else ""
    )
    unit = run.get("culprit") or (tested[0] if tested else "")
    return Bar(f"run:{run['run']}", unit, tuple(tested), run["start"], run["end"], label, look, mark, tip)


def timeline_of(figs: dict) -> Timeline:
    """The lanes of a report's figures (`figures(record)`)."""
    session = figs["session"]
    start, end = session["started"], session["as_of"]
    # an attempt whose claim named no agent (a store written by hand) goes to the unit's agent
    tries = [(u["id"], t, u["agent"] if t["agent"] == "?" else t["agent"]) for u in figs["units"] for t in u["tries"]]
    names = [a["name"] for a in figs["agents"] if a["name"] != "?"]
    names += sorted({agent for _, _, agent in tries if agent and agent not in names})
    lanes = [_agent_lane(name, [(u, t) for u, t, agent in tries if agent == name], start) for name in names]
    runs = figs["runs"]
    slots = max([figs.get("gate_slots") or 1, *(r["slot"] + 1 for r in runs)])
    for slot in range(slots):
        bars = [_run_bar(r) for r in runs if r["slot"] == slot]
        lanes.append(Lane(f"gate {slot + 1}" if slots > 1 else "gate", "gate", pack(bars)))
    human = {u["id"]: [(s, e) for phase, s, e in u["spans"] if phase == "human"] for u in figs["units"]}
    return Timeline(start, end, session["live"], lanes, waiting_counts(figs["units"]), human, figs["cost_over_time"])


def timeline(record: Record) -> Timeline:
    """The timeline of a session read from its store (read_session / read_store)."""
    return timeline_of(figures(record))


def waiting_counts(units: list[dict]) -> list[tuple[float, float]]:
    """How many units waited for a human, at every moment the count changed."""
    changes: dict[float, int] = {}
    for start, end in ((s, e) for u in units for phase, s, e in u["spans"] if phase == "human"):
        changes[start] = changes.get(start, 0) + 1
        changes[end] = changes.get(end, 0) - 1
    points, count = [], 0
    for t in sorted(changes):
        count += changes[t]
        points.append((t, float(count)))
    return points
