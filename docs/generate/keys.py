"""The screen's keys, read from the bindings the app itself declares (each with an id and a
tooltip: the same list that feeds the footer, the help screen and the command palette)."""

from __future__ import annotations

_NAMES = {"question_mark": "?", "colon": ":", "slash": "/", "escape": "esc"}


def bindings() -> list[tuple[str, str, str]]:
    """(keys as shown, id, what it does) for every binding with an id, app first, then the screen."""
    from bosun.app.tui.app import BosunApp
    from bosun.app.tui.supervisor_screen import SupervisorScreen

    out = []
    for owner in (BosunApp, SupervisorScreen):
        for binding in owner.BINDINGS:
            if getattr(binding, "id", None):
                keys = binding.key_display or " ".join(_NAMES.get(k, k) for k in binding.key.split(","))
                out.append((keys, binding.id, binding.tooltip or binding.description))
    return out


def markdown(found: list[tuple[str, str, str]]) -> str:
    lines = ["| key | action | what it does |", "|---|---|---|"]
    for keys, binding_id, what in found:
        lines.append(f"| `{keys}` | `{binding_id}` | {what.replace('|', '/')} |")
    return "\n".join(lines) + "\n"
