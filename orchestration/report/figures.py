"""The report's figures: per unit (where its time went, attempts, cost), per agent (busy time,
units, cost), the gate's runs, the checks' findings and the session's own figures. Pure
functions of a Record; `figures(record)` is what `bosun report --json` prints."""

from __future__ import annotations

from bosun.orchestration.budget import total
from bosun.orchestration.report.record import Record, read_store
from bosun.orchestration.report.runs import RunRow, busy_seconds, findings, gate_rows
from bosun.orchestration.report.spans import PHASES, UnitStory, phase_totals, unit_stories
from bosun.orchestration.store import Store

SESSION_KEYS = (
    "started",
    "as_of",
    "live",
    "elapsed_s",
    "units",
    "merged",
    "cancelled",
    "attempts",
    "attempts_per_unit",
    "agent_busy_s",
    "waiting_for_agent_s",
    "gate_runs",
    "gate_busy_s",
    "gate_busy_pct",
    "human_wait_s",
    "human_waits",
    "prompt_tokens",
    "completion_tokens",
    "cost_usd",
    "cost_per_merged_unit_usd",
)
"""The session figures, in order (`session_figures` returns exactly these keys)."""


def _r(seconds: float) -> float:
    return round(seconds, 3)


def _usage(usages: list[dict | None]) -> dict:
    summed = total(usages)
    return {
        "prompt_tokens": summed["prompt_tokens"],
        "completion_tokens": summed["completion_tokens"],
        "cost_usd": None if summed["cost_usd"] is None else round(summed["cost_usd"], 6),
    }


def unit_figures(record: Record, stories: dict[str, UnitStory]) -> list[dict]:
    rows = {u.id: u for u in record.units}
    out = []
    for unit_id, story in stories.items():
        row = rows[unit_id]
        phases = phase_totals(story)
        out.append(
            {
                "id": unit_id,
                "title": record.titles.get(unit_id, ""),
                "state": row.state,
                "agent": row.agent,
                "attempts": len(story.attempts),
                **{f"{phase}_s": _r(phases[phase]) for phase in PHASES},
                "human_waits": story.human_waits,
                "merged_at": story.merged_at,
                "spans": [[s.phase, s.start, s.end] for s in story.spans],
                **_usage([a.usage for a in story.attempts] or [row.usage]),
                "tries": [
                    {
                        "agent": a.agent,
                        "attempt": a.number,
                        "start": a.start,
                        "end": a.end,
                        "seconds": _r(a.seconds),
                        "outcome": a.outcome or "working",
                        **_usage([a.usage]),
                    }
                    for a in story.attempts
                ],
            }
        )
    return out


def agent_figures(record: Record, stories: dict[str, UnitStory]) -> list[dict]:
    attempts = [a for s in stories.values() for a in s.attempts]
    names = list(record.agents) + sorted({a.agent for a in attempts} - set(record.agents))
    span = max(record.as_of - record.started, 1e-9)
    out = []
    for name in names:
        mine = [a for a in attempts if a.agent == name]
        busy = sum(a.seconds for a in mine)
        out.append(
            {
                "name": name,
                "attempts": len(mine),
                "units": sorted({a.unit for a in mine}),
                "submitted": sum(1 for a in mine if a.outcome == "submitted"),
                "busy_s": _r(busy),
                "busy_pct": round(100 * busy / span, 1),
                **_usage([a.usage for a in mine]),
            }
        )
    return out


def run_figures(rows: list[RunRow]) -> list[dict]:
    return [
        {
            "run": r.label,
            "slot": r.slot,
            "why": r.why,
            "units": r.units,
            "testing": r.testing,
            "start": r.start,
            "end": r.end,
            "duration_s": _r(r.seconds),
            "verdict": r.verdict,
            "cause": r.cause,
            "gate_run": r.gate_run,
            "culprit": r.culprit,
        }
        for r in rows
    ]


def _session(record: Record, stories: dict[str, UnitStory], rows: list[RunRow]) -> dict:
    units = record.units
    attempts = [a for s in stories.values() for a in s.attempts]
    spans = [s for story in stories.values() for s in story.spans]
    elapsed = max(0.0, record.as_of - record.started)
    merged = sum(1 for u in units if u.state == "merged")
    started = sum(1 for s in stories.values() if s.attempts)
    usage = _usage([a.usage for a in attempts])
    gate_busy = busy_seconds(rows)
    human = [s for s in spans if s.phase == "human"]
    figures = {
        "started": record.started,
        "as_of": record.as_of,
        "live": record.live,
        "elapsed_s": _r(elapsed),
        "units": len(units),
        "merged": merged,
        "cancelled": sum(1 for u in units if u.state == "cancelled"),
        "attempts": len(attempts),
        "attempts_per_unit": round(len(attempts) / started, 2) if started else None,
        "agent_busy_s": _r(sum(a.seconds for a in attempts)),
        "waiting_for_agent_s": _r(sum(s.seconds for s in spans if s.phase == "agent")),
        "gate_runs": len(rows),
        "gate_busy_s": _r(gate_busy),
        "gate_busy_pct": round(100 * gate_busy / elapsed, 1) if elapsed else None,
        "human_wait_s": _r(sum(s.seconds for s in human)),
        "human_waits": sum(s.human_waits for s in stories.values()),
        **usage,
        "cost_per_merged_unit_usd": (
            round(usage["cost_usd"] / merged, 6) if merged and usage["cost_usd"] is not None else None
        ),
    }
    return {key: figures[key] for key in SESSION_KEYS}


def cost_over_time(stories: dict[str, UnitStory]) -> list[tuple[float, float]]:
    """(time, cost so far) at every attempt that reported a cost, oldest first."""
    points, spent = [], 0.0
    for attempt in sorted((a for s in stories.values() for a in s.attempts), key=lambda a: a.end):
        cost = (attempt.usage or {}).get("cost_usd")
        if cost:
            spent += cost
            points.append((attempt.end, round(spent, 6)))
    return points


def figures(record: Record) -> dict:
    """Every figure of the report, as JSON-ready data."""
    stories = unit_stories(record.events, [u.id for u in record.units], record.as_of)
    rows = gate_rows(record.events, record.gate_runs, record.as_of, record.live)
    return {
        "session": _session(record, stories, rows),
        "units": unit_figures(record, stories),
        "agents": agent_figures(record, stories),
        "runs": run_figures(rows),
        "findings": findings(record.events, rows),
        "cost_over_time": cost_over_time(stories),
        "graph": {u.id: record.depends_on.get(u.id, []) for u in record.units},
        "name": record.name,
        "gate_slots": record.gate_slots,
    }


def session_figures(store: Store, now: float | None = None) -> dict:
    """The session's figures alone (the keys of SESSION_KEYS), for `bosun status --json`."""
    record = read_store(store, now)
    stories = unit_stories(record.events, [u.id for u in record.units], record.as_of)
    return _session(record, stories, gate_rows(record.events, record.gate_runs, record.as_of, record.live))
