"""What the queue keeps of a failing run on the integration branch itself (base_gate.py), where
`bosun status` and the screen read it without loading the queue."""

from __future__ import annotations

import json

BASE_KEY = "base_failing"
"""Meta key: the failing run on the integration head (commit, cause, log), while it is known."""


def base_failing(store, head: str | None) -> dict | None:
    """The failing run on `head`, the integration head now, or None (none known, or the head moved)."""
    try:
        value = json.loads(store.get_meta(BASE_KEY) or "null")
    except ValueError:
        return None
    return value if isinstance(value, dict) and head is not None and value.get("commit") == head else None


def off_base(detail: dict | None) -> dict:
    """A unit's detail without what parked it on a failing branch: it goes back to the queue."""
    return {k: v for k, v in (detail or {}).items() if k not in ("base_failing", "base", "not_the_code")}


def says(failing: dict) -> str:
    """The one line `bosun status` prints while the branch fails its own gate."""
    return (
        f"the gate fails on the integration branch itself (at {failing['commit'][:10]}: {failing.get('cause')}): "
        "units whose gate failed wait, with no attempt spent, and go back to the queue once it passes "
        "(a unit that fixes it lands, you change the gate and `bosun reload`, or you fix its environment "
        "and `bosun regate` one of them)"
    )
