"""Every key of the session's screen and app in one place: the footer, the help screen and the
command palette are all made from these bindings. Each id names the palette's category
("unit.approve" -> "unit: ..."); each tooltip says what the key does."""

from __future__ import annotations

from textual.binding import Binding

DECISIONS = {
    "approve": "approve",
    "reject": "reject",
    "handback": "handback",
    "reassign": "reassign",
    "cancel_unit": "cancel",
    "revoke": "revoke",
    "take_over": "takeover",
    "regate": "regate",
}
"""Each action that is a human decision, and the decision (COMMAND_STATES) that says when it applies."""


def _pan(key: str, shown: str, direction: str, dx: int, dy: int, note: str = "") -> Binding:
    return Binding(
        key,
        f"pan({dx}, {dy})",
        f"Pan {direction}",
        id=f"view.pan-{direction}",
        show=False,
        key_display=shown,
        tooltip=f"pan the graph {direction}{note}",
    )


SCREEN_BINDINGS = [
    Binding("a", "approve", "Approve", id="unit.approve", tooltip="approve the merge"),
    Binding("x", "reject", "Reject", id="unit.reject", tooltip="reject: back to its agent with a note"),
    Binding("b", "handback", "Hand back", id="unit.handback", tooltip="hand back to the same agent"),
    Binding("r", "reassign", "Reassign", id="unit.reassign", tooltip="reassign to another agent"),
    Binding("c", "cancel_unit", "Cancel", id="unit.cancel", tooltip="cancel the unit"),
    Binding("v", "revoke", "Revoke claim", id="claim.revoke", tooltip="revoke the claim"),
    Binding(
        "t",
        "take_over",
        "Take over",
        id="unit.takeover",
        tooltip="take over: a shell in its worktree, your commit to the gate",
    ),
    Binding(
        "G",
        "regate",
        "Gate again",
        id="unit.regate",
        tooltip="run the gate again on the same commit (a timeout, a lost gate, a flaky test): no attempt spent",
    ),
    Binding(
        "enter",
        "open_unit",
        "Open",
        id="unit.open",
        show=False,
        key_display="enter",  # as the panes that name it write it (not Textual's ⏎)
        tooltip="open what the unit needs, from any pane",
    ),
    Binding(
        "w",
        "next_waiting",
        "Next waiting",
        id="view.next-waiting",
        show=False,
        tooltip="go to the next unit that waits for you",
    ),
    Binding("slash", "filter", "Filter", id="view.filter", tooltip="filter units by id, title, state or agent"),
    Binding("escape", "clear_filter", "Clear filter", id="view.clear-filter", show=False, tooltip="clear the filter"),
    Binding("d", "show_tab('diff')", "Diff", id="view.diff", show=False, tooltip="the selected unit's diff"),
    Binding("g", "show_tab('gate')", "Gate", id="view.gate", show=False, tooltip="every gate run"),
    Binding(
        "o",
        "show_tab('output')",
        "Output",
        id="view.output",
        show=False,
        tooltip="the selected unit's agent at work, live",
    ),
    Binding(
        "T",
        "timeline",
        "Timeline",
        id="view.timeline",
        show=False,
        tooltip="the session over time: attempts, gate runs, your waits, cost",
    ),
    Binding(
        "z",
        "overview",
        "Overview",
        id="view.overview",
        show=False,
        tooltip="the whole graph at once, a line per unit (z again: boxes)",
    ),
    _pan("shift+left,H", "⇧← H", "left", -1, 0, " (the selection stays where it is)"),
    _pan("shift+right,L", "⇧→ L", "right", 1, 0),
    _pan("shift+up,K", "⇧↑ K", "up", 0, -1),
    _pan("shift+down,J", "⇧↓ J", "down", 0, 1),
    Binding(
        "e",
        "event_line",
        "Event",
        id="view.event-line",
        show=False,
        tooltip="an event in full: the newest, or the log's cursor line",
    ),
]
"""The session screen's keys: the decisions on the selected unit, then the views."""
SCREEN_BINDINGS_BY_ID = {b.id: b for b in SCREEN_BINDINGS}

APP_BINDINGS = [
    Binding("question_mark", "help", "Help", id="session.help", tooltip="every key and what the states mean"),
    Binding(
        "q", "quit_bosun", "Quit", id="session.quit", tooltip="quit (asks while agents work; `bosun resume` continues)"
    ),
    # Both keys: a binding of its own to `command_palette` makes Textual drop its ctrl+p one.
    Binding(
        "colon,ctrl+p",
        "command_palette",
        "Commands",
        id="session.palette",
        show=False,
        key_display=": ctrl+p",
        tooltip="the command palette",
    ),
]
"""The app's keys, there on every screen."""
