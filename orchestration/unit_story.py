"""A unit's story: what state it is in and why (the failure's cause, the failing check and the tail
of the gate's output), its spend against its budget, the agent's last words, and the decisions
that apply. The screen shows it for `enter` on a unit that waits for you, `bosun status UNIT`
prints it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bosun.orchestration.agents.last_words import said_last
from bosun.orchestration.ansi import strip_ansi
from bosun.orchestration.integration.regate import why_not_regate
from bosun.orchestration.session import Session
from bosun.orchestration.states import AWAITING_APPROVAL, COMMAND_STATES, GATE_FAILED
from bosun.orchestration.status import last_runs, shown_run
from bosun.orchestration.store import GateRun, UnitRow

TAIL_LINES = 12
LAST_WORDS = 3
LOG_BYTES = 64_000
DECISIONS = ("approve", "reject", "handback", "reassign", "takeover", "cancel", "regate")
"""The decisions a story offers, when they apply to the unit's state."""


@dataclass
class Story:
    unit: str
    headline: str
    cause: list[str] = field(default_factory=list)
    gate: list[str] = field(default_factory=list)
    spend: str = ""
    last_words: list[str] = field(default_factory=list)
    decisions: list[str] = field(default_factory=list)


def checks_line(checks: list[dict] | tuple[dict, ...]) -> str:
    """`✔ merge · ✔ semantic · ✖ tests`: every check of a gate run and how it went."""
    return " · ".join(f"{'✔' if c['passed'] else '✖'} {c['check']}" for c in checks)


def _cause(row: UnitRow) -> list[str]:
    detail = row.detail or {}
    lines = [str(detail[key]) for key in ("error", "summary") if detail.get(key)]
    if detail.get("reason") and not lines:
        lines.append(f"reason: {detail['reason']}")
    files = detail.get("files") or []
    if files:
        lines.append("files: " + ", ".join(map(str, files[:10])) + (" …" if len(files) > 10 else ""))
    if detail.get("base_failing") and row.state == GATE_FAILED:  # a later state keeps the key
        base = detail.get("base") or {}
        lines.append(
            f"the gate fails on the integration branch itself too (at {str(base.get('commit'))[:10]}): not this "
            "unit's code; it goes back to the queue once the branch passes"
        )
    if row.handback and row.handback.get("reason"):
        lines.append(f"handed back: {row.handback['reason']}")
    return lines


def _run_of(session: Session, row: UnitRow) -> GateRun | None:
    """The run that covered the unit's merge (or its approval), else its latest: its own candidate's,
    or one that tested it with units ahead of it (as `bosun status` picks)."""
    runs = session.store.gate_runs()
    shown = shown_run(row, *last_runs(runs))
    return next((r for r in runs if r.id == shown), None)


def _gate(session: Session, row: UnitRow) -> list[str]:
    run = _run_of(session, row)
    if run is None:
        return []
    lines = [
        f"gate run {run.label or run.id} on try {run.attempt}: {'passed' if run.passed else 'FAILED'} · {run.cause}"
    ]
    failing = [c for c in run.checks if not c.get("passed")]
    if failing:
        lines.append(checks_line(failing))
    tail = [line for line in strip_ansi(run.output_tail).rstrip().splitlines() if line.strip()]
    return lines + tail[-TAIL_LINES:]


def _spend(session: Session, row: UnitRow) -> str:
    usage = row.usage or {}
    tokens = (usage.get("prompt_tokens") or 0) + (usage.get("completion_tokens") or 0)
    spent = f"{tokens} tokens" + (f", ${usage['cost_usd']:.4f}" if usage.get("cost_usd") is not None else "")
    spec = session.plan.units.get(row.id)
    budget = spec.budget if spec is not None else None
    if budget is None:
        return f"spent {spent}" if tokens else ""
    limits = [f"{budget.tokens} tokens" if budget.tokens is not None else "", f"${budget.usd:g}" if budget.usd else ""]
    over = budget.exceeded_by(usage)
    return f"spent {spent} · budget {', '.join(filter(None, limits))}" + (f" · over: {over}" if over else "")


def last_words(log: Path | None) -> list[str]:
    """What the agent said last: its last few messages, or the last lines of a plain log."""
    if log is None or not log.is_file():
        return []
    with open(log, "rb") as handle:
        handle.seek(max(0, log.stat().st_size - LOG_BYTES))
        said, plain = said_last(handle.read().decode("utf-8", errors="replace"))
    return said[-LAST_WORDS:] if said else plain[-LAST_WORDS * 2 :]


def unit_story(session: Session, row: UnitRow, state_label: str | None = None) -> Story:
    """Everything the session knows about why `row` is where it is (reads the store and the log);
    `state_label`: the state as the caller shows it (by default the store's name, or `approved` for
    an approved unit that waits only to land)."""
    landing = row.state == AWAITING_APPROVAL and row.approved
    who = row.owner or row.agent
    headline = f"'{row.id}' is {state_label or ('approved' if landing else row.state)}" + (f" · {who}" if who else "")
    headline += f" · try {row.attempts}" if row.attempts else ""
    log = session.agent_log(row.id, row.attempts) if row.attempts else None
    return Story(
        unit=row.id,
        headline=headline,
        cause=_cause(row),
        gate=_gate(session, row),
        spend=_spend(session, row),
        last_words=last_words(log),
        decisions=[kind for kind in DECISIONS if row.state in COMMAND_STATES[kind] and _offered(kind, row)],
    )


def _offered(kind: str, row: UnitRow) -> bool:
    if kind in ("approve", "reject"):
        return not row.approved  # approved, it merges as soon as it can: nothing is asked of anyone
    return kind != "regate" or why_not_regate(row) is None
