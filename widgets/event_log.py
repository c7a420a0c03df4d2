"""The event log: every event of the session as one line, newest at the bottom, written in
batches so a flood of events costs one repaint, not one per event."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from rich.text import Text
from textual.widgets import RichLog

from orchestration.store import Event

PROBLEM_KINDS = ("conflicted", "gate_failed", "out_of_scope", "failed", "command_refused", "stale_write_refused",
                 "integration_tampered", "lease_expired", "blocked")
GOOD_KINDS = ("merged", "gate_passed", "approved", "session_finished")


class EventLog(RichLog):
    """A bounded log of store events."""

    DEFAULT_CSS = "EventLog { height: 1fr; }"

    def __init__(self, format_event: Callable[[Event], str], **kwargs) -> None:
        super().__init__(max_lines=2000, wrap=False, markup=False, auto_scroll=True, **kwargs)
        self.format_event = format_event
        self.last_seq = 0

    def add_events(self, events: Iterable[Event]) -> None:
        colours = self.app.theme_variables
        for event in events:
            if event.seq <= self.last_seq:
                continue
            self.last_seq = event.seq
            line = Text(self.format_event(event))
            if event.kind in PROBLEM_KINDS:
                line.stylize(colours.get("error", ""))
            elif event.kind in GOOD_KINDS:
                line.stylize(colours.get("success", ""))
            self.write(line, scroll_end=True)
