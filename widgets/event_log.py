"""The event log: the session's latest events, one line each, newest at the bottom; a line too long
for the pane ends with "…" at a field boundary, and enter (or the screen's `e`) shows it in full.

It paints only the visible lines (Textual's line API) and grows its scroll area in steps of
`GROWTH` lines, never per event: a change of scroll area makes Textual lay out the whole
screen, which a flood of events must not trigger hundreds of times a second.
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Callable, Iterable

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.geometry import Region, Size
from textual.reactive import reactive
from textual.screen import ModalScreen
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Static

from bosun.orchestration.store import Event

PROBLEM_KINDS = (
    "conflicted",
    "semantic_conflict",
    "gate_failed",
    "out_of_scope",
    "failed",
    "command_refused",
    "stale_write_refused",
    "integration_tampered",
    "lease_expired",
    "blocked",
)
GOOD_KINDS = ("merged", "gate_passed", "approved", "session_finished")
MAX_LINES = 2000
GROWTH = 500
ELLIPSIS = "…"
ALIGNED_WIDTH = 60
"""A pane this wide shows events in aligned columns; a narrower one (an 80-column screen's) would
cut them after the unit, before its event kind."""

_FIELD_START = re.compile(r" (?=[A-Za-z_][\w.-]*=)")
"""Where a `key=value` field of an event line begins (values can hold spaces: `gate=passed (6 passed, ...)`)."""


def elide(text: str, width: int) -> str:
    """`text` if it fits in `width` cells; otherwise its fields that fit whole and "…", so no value is
    cut in two. A first field too long for the pane is cut at a word instead. In a pane narrower
    than ALIGNED_WIDTH the blanks that align the columns go, in every line alike."""
    if width < ALIGNED_WIDTH:
        text = re.sub(r"(?<=\S)  +", " ", text)
    if cell_len(text) <= width:
        return text
    room = width - 2  # " …"
    if room < 1:
        return ELLIPSIS[:width]
    cuts = [m.start() for m in _FIELD_START.finditer(text) if cell_len(text[: m.start()]) <= room]
    if not cuts:
        cuts = [m.start() for m in re.finditer(r" ", text) if cell_len(text[: m.start()]) <= room]
    head = text[: max(cuts)].rstrip() if cuts else set_cell_size(text, room).rstrip()
    return f"{head} {ELLIPSIS}" if head else set_cell_size(text, width - 1) + ELLIPSIS


class EventLog(ScrollView, can_focus=True):
    """A bounded log of store events that keeps the newest in view unless it has the focus; with the
    focus, a cursor picks a line to read in full."""

    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "cursor_to(0)", "First", show=False),
        Binding("end", "cursor_to(-1)", "Last", show=False),
        Binding("enter", "show_line", "Full line", show=False),
    ]
    COMPONENT_CLASSES = {"event-log--problem", "event-log--good", "event-log--plain", "event-log--cursor"}
    DEFAULT_CSS = """
    EventLog { height: 1fr; overflow-x: hidden; }
    EventLog > .event-log--problem { color: $error; }
    EventLog > .event-log--good { color: $success; }
    EventLog > .event-log--plain { color: $foreground; }
    EventLog > .event-log--cursor { background: $block-cursor-background; text-style: bold; }
    """

    cursor: reactive[int | None] = reactive(None, always_update=True)
    """The line under the cursor while the log has the focus (an index into `lines`), else None."""

    def __init__(self, format_event: Callable[[Event], str], **kwargs) -> None:
        super().__init__(**kwargs)
        self.format_event = format_event
        self.last_seq = 0
        self.lines: deque[tuple[str, str, Event]] = deque(maxlen=MAX_LINES)
        """Each shown event: its full line, its kind of news (problem, good, plain) and the event."""

    def add_events(self, events: Iterable[Event]) -> None:
        dropped = 0
        for event in events:
            if event.seq <= self.last_seq:
                continue
            self.last_seq = event.seq
            kind = "problem" if event.kind in PROBLEM_KINDS else "good" if event.kind in GOOD_KINDS else "plain"
            dropped += len(self.lines) == MAX_LINES
            self.lines.append((self.format_event(event), kind, event))
        if dropped and self.cursor is not None:  # the cursor stays on its event while old ones fall off
            self.cursor = max(0, self.cursor - dropped)
        area = min(MAX_LINES, -(-len(self.lines) // GROWTH) * GROWTH)
        if self.virtual_size.height != area:
            self.virtual_size = Size(0, area)
        self.refresh()
        if self.has_focus:  # the human is reading back: leave the view where it is
            return
        if self.size.height:
            self._show_newest()
        else:  # not laid out yet
            self.call_after_refresh(self._show_newest)

    def _show_newest(self) -> None:
        # (forced: just after the scroll area grows, Textual has not yet given the log its scrollbar)
        self.scroll_to(
            y=max(0, len(self.lines) - self.scrollable_content_region.height), animate=False, immediate=True, force=True
        )

    def render_line(self, y: int) -> Strip:
        index = self.scroll_offset.y + y
        width = self.scrollable_content_region.width  # less the scrollbar, which would hide a line's end
        if index >= len(self.lines):
            return Strip.blank(width)
        text, kind, _ = self.lines[index]
        style = self.get_component_rich_style(f"event-log--{kind}")
        if index == self.cursor:
            style += self.get_component_rich_style("event-log--cursor")
        return Strip([Segment(elide(text, width), style)]).extend_cell_length(width, style)

    # -- reading back -------------------------------------------------------------------------------
    def on_focus(self, event: events.Focus) -> None:
        if self.lines and self.cursor is None:
            self.cursor = len(self.lines) - 1

    def on_blur(self, event: events.Blur) -> None:
        self.cursor = None
        self._show_newest()

    def watch_cursor(self, old: int | None, new: int | None) -> None:
        for line in (old, new):
            if line is not None:
                self.refresh_line(line)  # (ScrollView's refresh_line takes a line of the log, not of the view)
        if new is not None:
            self.scroll_to_region(Region(0, new, 1, 1), animate=False, force=True, x_axis=False)

    def action_cursor(self, step: int) -> None:
        if self.lines:
            here = len(self.lines) - 1 if self.cursor is None else self.cursor
            self.cursor = min(max(here + step, 0), len(self.lines) - 1)

    def action_page(self, pages: int) -> None:
        self.action_cursor(pages * max(self.scrollable_content_region.height - 1, 1))

    def action_cursor_to(self, line: int) -> None:
        if self.lines:
            self.cursor = line % len(self.lines)

    def action_show_line(self) -> None:
        """The event under the cursor (the newest when the log has no focus) in full."""
        if not self.lines:
            self.notify("No event yet.")
            return
        index = self.cursor if self.cursor is not None else len(self.lines) - 1
        text, _, event = self.lines[index]
        self.app.push_screen(EventDetail(text, event))


class EventDetail(ModalScreen[None]):
    """One event in full: its whole line, wrapped, and every field it carries (an output tail too)."""

    BINDINGS = [Binding("escape,enter,e", "dismiss", "Close", show=False)]
    DEFAULT_CSS = """
    EventDetail { align: center middle; background: $background 60%; }
    EventDetail > VerticalScroll {
        width: 100; max-width: 95%; height: auto; max-height: 80%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    EventDetail #event-line { text-style: bold; margin-bottom: 1; }
    EventDetail #event-fields { color: $text-muted; }
    """

    def __init__(self, line: str, event: Event) -> None:
        super().__init__()
        self.line = line
        """The event's line as the log shows it, whole."""
        self.event = event

    def compose(self) -> ComposeResult:
        with VerticalScroll() as box:
            box.border_title = f"Event {self.event.seq} · {self.event.kind}"
            box.border_subtitle = "esc closes"
            yield Static(Text(self.line), id="event-line")
            yield Static(Text("\n".join(_field_lines(self.event))), id="event-fields")


def _field_lines(event: Event) -> list[str]:
    lines = [f"unit: {event.unit}"] if event.unit else []
    for key, value in event.data.items():
        if isinstance(value, str) and "\n" in value:
            lines += [f"{key}:", *("  " + line for line in value.rstrip().splitlines())]
        else:
            lines.append(f"{key}: {value if isinstance(value, str) else json.dumps(value, default=str)}")
    return lines
