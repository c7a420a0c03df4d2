"""The gate's runs as the report shows them: when each ran and in which slot, which units its
tree covered, why it ran (a unit alone, a batch, a retry, a bisection step) and its verdict;
and every finding the checks made along the way (conflicts, semantic findings, failed checks)."""

from __future__ import annotations

from bosun.orchestration.store import Event, GateRun


class RunRow:
    """One run of the gate. `why`: "single" (the lane, one unit), "batch" (several units new to the
    gate), "retry", "bisect"; `verdict`: "passed", "failed", "running" (a live session) or
    "cancelled" (stopped before a verdict). A plain class: see record.Record."""

    __slots__ = (
        "label",
        "slot",
        "why",
        "units",
        "testing",
        "start",
        "end",
        "verdict",
        "cause",
        "gate_run",
        "culprit",
        "checks",
    )

    def __init__(
        self,
        label: str,
        slot: int,
        why: str,
        units: list[str],
        testing: list[str],
        start: float,
        end: float,
        verdict: str,
        cause: str = "",
        gate_run: int | None = None,
        culprit: str | None = None,
        checks: list[dict] | None = None,
    ) -> None:
        self.label, self.slot, self.why, self.units, self.testing = label, slot, why, units, testing
        self.start, self.end, self.verdict, self.cause, self.gate_run = start, end, verdict, cause, gate_run
        self.culprit, self.checks = culprit, [] if checks is None else checks

    @property
    def seconds(self) -> float:
        return max(0.0, self.end - self.start)


def _why(started: dict) -> str:
    why = started.get("why") or "new"
    if why in ("retry", "bisect"):
        return why
    return "batch" if len(started.get("testing") or []) > 1 else "single"


def gate_rows(events: list[Event], gate_runs: list[GateRun], as_of: float, live: bool) -> list[RunRow]:
    """Every run, oldest first: the queue's from their start and finish events, the lane's (no
    label) from the gate run alone (it ended at its `time`, after `duration_s`)."""
    by_label = {r.label: r for r in gate_runs if r.label}
    culprits = {e.data.get("gate_run"): e.unit for e in events if e.kind == "queue_culprit"}
    stopped = {e.data.get("run"): e.time for e in events if e.kind == "queue_take_in"}  # no verdict, ever
    rows: list[RunRow] = []
    for event in events:
        if event.kind != "queue_run_started":
            continue
        data, run = event.data, by_label.get(event.data.get("run"))
        row = RunRow(
            label=data.get("run") or "?",
            slot=int(data.get("slot") or 0),
            why=_why(data),
            units=list(data.get("units") or [event.unit]),
            testing=list(data.get("testing") or [event.unit]),
            start=event.time,
            end=as_of if live else event.time,
            verdict="running" if live else "cancelled",
        )
        if run is None and row.label in stopped:
            row.end, row.verdict = stopped[row.label], "cancelled"
        if run is not None:
            row.end, row.verdict, row.cause = run.time, "passed" if run.passed else "failed", run.cause
            row.gate_run, row.checks, row.culprit = run.id, run.checks, culprits.get(run.id)
        rows.append(row)
    for run in gate_runs:
        if run.label:
            continue
        rows.append(
            RunRow(
                label=f"G{run.id}",
                slot=0,
                why="single",
                units=run.covers or [run.unit],
                testing=[run.unit],
                start=run.time - run.duration_s,
                end=run.time,
                verdict="passed" if run.passed else "failed",
                cause=run.cause,
                gate_run=run.id,
                checks=run.checks,
                culprit=None if run.passed else run.unit,
            )
        )
    rows.sort(key=lambda r: (r.start, r.label))
    return rows


def busy_seconds(rows: list[RunRow]) -> float:
    """How long at least one gate ran (overlapping runs counted once)."""
    total, reach = 0.0, None
    for start, end in sorted((r.start, r.end) for r in rows if r.end > r.start):
        if reach is None or start > reach:
            total += end - start
            reach = end
        elif end > reach:
            total += end - reach
            reach = end
    return total


def _blamed(run: RunRow, culprits: list[tuple[float, str]]) -> str:
    """Who a failed run's failure is put on: its culprit, else the first culprit the queue named
    later among the units it covered (a failed batch before its bisection), else all of them."""
    if run.culprit:
        return run.culprit
    later = next((unit for at, unit in culprits if at >= run.start and unit in run.units), None)
    return later or ", ".join(run.units)


def _finding_rows(run: RunRow, culprits: list[tuple[float, str]]) -> list[dict]:
    out = []
    for check in run.checks:
        name = check.get("check", "?")
        for finding in check.get("findings") or []:
            where = f"{finding.get('path', '')}:{finding.get('line', '')}".strip(":")
            out.append(
                {
                    "run": run.label,
                    "unit": run.testing[-1] if run.testing else "",
                    "check": name,
                    "severity": finding.get("severity", "block"),
                    "kind": finding.get("kind") or finding.get("rule") or "",
                    "where": where,
                    "message": finding.get("message", ""),
                    "time": run.end,
                }
            )
        if check.get("passed") is False and not check.get("findings"):
            out.append(
                {
                    "run": run.label,
                    "unit": _blamed(run, culprits),
                    "check": name,
                    "severity": "block",
                    "kind": "failed",
                    "where": "",
                    "message": check.get("cause", ""),
                    "time": run.end,
                }
            )
    return out


def findings(events: list[Event], rows: list[RunRow]) -> list[dict]:
    """What the checks found, oldest first: textual conflicts and out-of-scope files (no gate ran),
    then every finding and failed check of every gate run."""
    out = []
    for event in events:
        if event.kind in ("conflicted", "out_of_scope"):
            files = event.data.get("files") or []
            out.append(
                {
                    "run": "",
                    "unit": event.unit or "",
                    "check": "merge" if event.kind == "conflicted" else "scope",
                    "severity": "block",
                    "kind": "conflict" if event.kind == "conflicted" else "out_of_scope",
                    "where": ", ".join(files),
                    "message": "textual conflict" if event.kind == "conflicted" else "files outside the unit's scope",
                    "time": event.time,
                }
            )
    culprits = [(e.time, e.unit) for e in events if e.kind == "queue_culprit" and e.unit]
    for run in rows:
        out += _finding_rows(run, culprits)
    out.sort(key=lambda f: f["time"])
    return out
