"""One event as one short, aligned, greppable line: what headless runs print and the event log shows."""

from __future__ import annotations

import time

from bosun.orchestration.ansi import one_line
from bosun.orchestration.store import Event

_SKIP = {"from", "to"}


def format_event(event: Event) -> str:
    """`12:00:03  parser  running  agent=ada attempt=1` — short, aligned, greppable."""
    clock = time.strftime("%H:%M:%S", time.localtime(event.time))
    details = []
    for key, value in event.data.items():
        if key in _SKIP or value in (None, "", [], {}):
            continue
        if key == "output_tail":
            continue
        if key == "gate":
            value = _gate_text(value)
        elif isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in value.items() if k not in ("commit", "output_tail"))
        elif isinstance(value, list):
            value = ",".join(map(str, value))
        elif isinstance(value, str) and len(value) == 40 and all(c in "0123456789abcdef" for c in value):
            value = value[:10]
        details.append(f"{key}={value}")
    # What agents wrote (a summary, a reason) may hold line breaks and escapes: one line, plain.
    return f"{clock}  {(event.unit or '-'):<16} {event.kind:<18} {one_line(' '.join(details))}".rstrip()


def _gate_text(gate: dict) -> str:
    counts = ""
    if "tests_passed" in gate:
        counts = f" ({gate['tests_passed']} passed, {gate.get('tests_failed', 0)} failed)"
    return f"{'passed' if gate['passed'] else 'FAILED'}{counts} in {gate['duration_s']:.2f}s"
