"""The event log: the session's latest events, one line each, newest at the bottom.

It paints only the visible lines (Textual's line API) and grows its scroll area in steps of
`GROWTH` lines, never per event: a change of scroll area makes Textual lay out the whole
screen, which a flood of events must not trigger hundreds of times a second.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable

from rich.segment import Segment
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from bosun.orchestration.store import Event

PROBLEM_KINDS = ("conflicted", "semantic_conflict", "gate_failed", "out_of_scope", "failed", "command_refused", "stale_write_refused",
                 "integration_tampered", "lease_expired", "blocked")
GOOD_KINDS = ("merged", "gate_passed", "approved", "session_finished")
MAX_LINES = 2000
GROWTH = 500
WIDTH = 160


class EventLog(ScrollView, can_focus=True):
    """A bounded log of store events that keeps the newest in view unless it has the focus."""

    COMPONENT_CLASSES = {"event-log--problem", "event-log--good", "event-log--plain"}
    DEFAULT_CSS = """
    EventLog { height: 1fr; }
    EventLog > .event-log--problem { color: $error; }
    EventLog > .event-log--good { color: $success; }
    EventLog > .event-log--plain { color: $foreground; }
    """

    def __init__(self, format_event: Callable[[Event], str], **kwargs) -> None:
        super().__init__(**kwargs)
        self.format_event = format_event
        self.last_seq = 0
        self.lines: deque[tuple[str, str]] = deque(maxlen=MAX_LINES)

    def add_events(self, events: Iterable[Event]) -> None:
        for event in events:
            if event.seq <= self.last_seq:
                continue
            self.last_seq = event.seq
            kind = "problem" if event.kind in PROBLEM_KINDS else "good" if event.kind in GOOD_KINDS else "plain"
            self.lines.append((self.format_event(event), kind))
        area = min(MAX_LINES, -(-len(self.lines) // GROWTH) * GROWTH)
        if self.virtual_size.height != area:
            self.virtual_size = Size(WIDTH, area)
        self.refresh()
        if self.has_focus:  # the human is reading back: leave the view where it is
            return
        if self.size.height:
            self._show_newest()
        else:  # not laid out yet
            self.call_after_refresh(self._show_newest)

    def _show_newest(self) -> None:
        self.scroll_to(y=max(0, len(self.lines) - self.scrollable_content_region.height), animate=False,
                       immediate=True)

    def render_line(self, y: int) -> Strip:
        index = self.scroll_offset.y + y
        if index >= len(self.lines):
            return Strip.blank(self.size.width)
        text, kind = self.lines[index]
        style = self.get_component_rich_style(f"event-log--{kind}")
        strip = Strip([Segment(text, style)]).crop(self.scroll_offset.x, self.scroll_offset.x + self.size.width)
        return strip.extend_cell_length(self.size.width)
