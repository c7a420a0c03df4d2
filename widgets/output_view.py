"""The Output tab: the selected unit's agent at work, live. A structured stream (Claude Code, Codex,
Gemini CLI, opencode, Qwen Code) reads as a transcript: what the model said, each tool call with
its file or command and its result, errors, the tokens so far; any other output is the log with
its colours rendered, never raw escape codes.

It follows the agent's log (`.bosun/logs/UNIT.ATTEMPT.log`) on a timer that reads only the bytes
added since the last tick, so a fast stream costs one repaint per tick however many lines it
wrote; it paints only the visible lines (Textual's line API) and grows its scroll area in steps,
as the event log does, because a change of scroll area lays out the whole screen.
"""

from __future__ import annotations

from collections import deque
from pathlib import Path

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from bosun.orchestration.agents.log_tail import LogTail
from bosun.orchestration.agents.transcript import MARKS, Entry, Transcript

POLL_S = 0.1
"""How often the log is looked at: what arrives in between is shown in one repaint."""
START_BYTES = 256_000
"""A log opened mid-session (or a long finished one) is read from this far before its end."""
READ_BYTES = 512_000
"""At most this much is read in one tick; a log that grew faster is caught up over the next ticks."""
MAX_ENTRIES = 3000
MAX_LINES = 6000
GROWTH = 500

Line = tuple[list[Segment], int]
"""A line of the view: its segments and its width in cells."""


class OutputView(ScrollView, can_focus=True):
    """One agent's log, followed: the newest line in view unless the view has the focus (then the
    keys scroll and it stays where it is)."""

    BINDINGS = [
        Binding("up,k", "scroll_up", "Up", show=False),
        Binding("down,j", "scroll_down", "Down", show=False),
    ]
    COMPONENT_CLASSES = {
        "output-view--text",
        "output-view--thinking",
        "output-view--tool",
        "output-view--result",
        "output-view--failed",
        "output-view--error",
        "output-view--note",
        "output-view--plain",
    }
    DEFAULT_CSS = """
    OutputView { height: 1fr; overflow-x: hidden; scrollbar-gutter: stable; border-top: solid $foreground-muted;
                 border-title-color: $foreground; }
    OutputView > .output-view--text { color: $foreground; }
    OutputView > .output-view--thinking { color: $text-muted; text-style: italic; }
    OutputView > .output-view--tool { color: $accent; text-style: bold; }
    OutputView > .output-view--result { color: $text-muted; }
    OutputView > .output-view--failed { color: $error; }
    OutputView > .output-view--error { color: $error; text-style: bold; }
    OutputView > .output-view--note { color: $text-muted; }
    OutputView > .output-view--plain { color: $foreground; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.log_path: Path | None = None
        """The log shown (None: no unit, or its agent has not started)."""
        self.unit = ""
        self.attempt = 0
        self.live = True
        self.preparing = False
        self.transcript = Transcript()
        self.entries: deque[Entry] = deque(maxlen=MAX_ENTRIES)
        """What the log said so far (the newest MAX_ENTRIES), kept to wrap again at a new width."""
        self.lines: deque[Line] = deque(maxlen=MAX_LINES)
        """The entries wrapped to the view's width."""
        self._last_lines = 0
        """How many of `lines` the last entry took (a continued entry replaces them)."""
        self._tail: LogTail | None = None
        self._width = 0
        self._empty = "No unit selected."
        self._title = ""
        self._styles: dict[str, Style] = {}

    def on_mount(self) -> None:
        self.set_interval(POLL_S, self.poll)

    def on_show(self) -> None:
        self.call_after_refresh(self.poll)

    # -- which log ----------------------------------------------------------------------------------
    def show_log(
        self, unit: str, attempt: int, log_path: Path | None, live: bool = True, preparing: bool = False
    ) -> None:
        """Follow `log_path`, the output of `unit`'s attempt `attempt` (no-op if it is the one shown);
        `live` while the attempt goes on (once it is over the title says `ended`, not the CLI's
        last activity: an `idle` agent on a merged unit reads as if it were still there);
        `preparing` while its worktree is made ready, before the agent starts (the log holds the
        project's setup, which can take minutes)."""
        if log_path == self.log_path and unit == self.unit:
            if (live, preparing) != (self.live, self.preparing):
                self.live, self.preparing = live, preparing
                self._empty = self._nothing_yet()
                self._show_title()
                self.refresh()
            return
        self.unit, self.attempt, self.log_path, self.live = unit, attempt, log_path, live
        self.preparing = preparing
        self.transcript = Transcript()
        self.entries.clear()
        self.lines.clear()
        self._last_lines = 0
        self._tail = None if log_path is None else LogTail(log_path, start=START_BYTES, chunk=READ_BYTES)
        self._empty = self._nothing_yet()
        self.scroll_to(y=0, animate=False, immediate=True)
        self._resize_area()
        self.poll()
        self._show_title()
        self.refresh()

    def _nothing_yet(self) -> str:
        """What the tab says while the log it follows is empty."""
        if self.log_path is None:
            return f"{self.unit}: no agent has started on it yet."
        if self.preparing:
            return f"{self.unit} try {self.attempt}: preparing its worktree (the project's setup runs first)."
        return f"{self.unit} try {self.attempt}: no output yet."

    # -- following the log --------------------------------------------------------------------------
    def poll(self) -> None:
        """Read what the log gained since the last tick and show it in one repaint (only while the
        tab is shown: a hidden one catches up when it is opened)."""
        if self._tail is None or not self.is_on_screen:
            return
        lines = self._tail.lines()
        if lines:
            self.add_lines(lines)

    def add_lines(self, lines) -> None:
        """Feed lines of output to the transcript and show what they add."""
        added = False
        for line in lines:
            for entry in self.transcript.feed(line):
                self._add_entry(entry)
                added = True
        self._show_title()
        if not added:
            return
        self._resize_area()
        self.refresh()
        if self.has_focus:  # the human is reading back: leave the view where it is
            return
        self._show_newest()

    def _add_entry(self, entry: Entry) -> None:
        if entry.continues and self.entries and self.entries[-1].kind == "text":
            entry = Entry("text", self.entries.pop().text + entry.text)
            for _ in range(min(self._last_lines, len(self.lines))):
                self.lines.pop()
        self.entries.append(entry)
        wrapped = self._wrap(entry)
        self._last_lines = len(wrapped)
        self.lines.extend(wrapped)

    def _style(self, kind: str) -> Style:
        style = self._styles.get(kind)
        if style is None:
            style = self._styles[kind] = self.get_component_rich_style(f"output-view--{kind}", partial=True)
        return style

    def _wrap(self, entry: Entry) -> list[Line]:
        """The entry as lines of the view's width, its mark before the first and its text aligned
        after. Kept as segments, not Strips: a Strip is made only for a line on screen."""
        width = self._width or max(self.scrollable_content_region.width, 20)
        style = self._style(entry.kind)
        mark = MARKS[entry.kind]
        if entry.kind == "plain":
            if "\x1b" in entry.text or not entry.text.isprintable():
                return self._wrap_text(Text.from_ansi(entry.text.expandtabs(), style=style), "", style, width)
        elif entry.kind == "tool":  # the tool's name bold, what it works on plain
            name, _, target = entry.text.partition(" ")
            if entry.text.isascii() and entry.text.isprintable() and len(mark) + len(entry.text) <= width:
                return [
                    (
                        [
                            Segment(mark + name, style),
                            Segment(" " + target if target else "", style + Style(bold=False)),
                        ],
                        len(mark) + len(entry.text),
                    )
                ]
            body = Text(entry.text, style=style)
            body.stylize(Style(bold=False), len(name))
            return self._wrap_text(body, mark, style, width)
        # one style throughout (the usual case): wrapped as plain words, no Text to build
        room = max(width - len(mark), 8)
        lines: list[Line] = []
        for paragraph in entry.text.expandtabs().split("\n"):
            if paragraph.isascii() and len(paragraph) <= room or cell_len(paragraph) <= room:
                pieces = [paragraph]
            else:
                wrapped = Text(paragraph).wrap(self.app.console, room, overflow="fold")
                pieces = [line.plain.rstrip() for line in wrapped]
            for piece in pieces:
                lead = mark if not lines else " " * len(mark)
                lines.append(([Segment(lead + piece, style)], len(lead) + cell_len(piece)))
        return lines or [([], 0)]

    def _wrap_text(self, body: Text, mark: str, style: Style, width: int) -> list[Line]:
        console = self.app.console
        lines: list[Line] = []
        for number, line in enumerate(body.wrap(console, max(width - len(mark), 8), overflow="fold")):
            if mark:
                line = Text(mark if number == 0 else " " * len(mark), style=style) + line
            lines.append(([segment for segment in line.render(console) if segment.text != "\n"], line.cell_len))
        return lines or [([], 0)]

    def _resize_area(self) -> None:
        area = min(MAX_LINES, -(-len(self.lines) // GROWTH) * GROWTH)
        if self.virtual_size.height != area:
            self.virtual_size = Size(0, area)

    def _show_newest(self) -> None:
        if self.size.height:
            self.scroll_to(
                y=max(0, len(self.lines) - self.scrollable_content_region.height),
                animate=False,
                immediate=True,
                force=True,
            )
        else:
            self.call_after_refresh(self._show_newest)

    def _show_title(self) -> None:
        if not self.unit:
            title = "Output"
        elif self.log_path is None:
            title = f"Output · {self.unit}"
        elif self.preparing:
            title = f"{self.unit} try {self.attempt} · preparing"
        elif self.transcript.structured:
            activity = (self.transcript.activity or "working") if self.live else "ended"
            title = f"{self.unit} try {self.attempt} · {activity} · {self.transcript.tokens_line()}"
        else:
            title = f"{self.unit} try {self.attempt} · log"
        if title != self._title:  # (a border title repaints the border, never the layout)
            self._title = title
            self.border_title = title

    # -- painting -----------------------------------------------------------------------------------
    def on_resize(self) -> None:
        width = max(self.scrollable_content_region.width, 20)
        if width != self._width:
            self._width = width
            self._styles.clear()
            self.lines.clear()
            for entry in self.entries:
                wrapped = self._wrap(entry)
                self._last_lines = len(wrapped)
                self.lines.extend(wrapped)
            self._resize_area()
            if not self.has_focus:
                self._show_newest()
            self.refresh()

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.rich_style
        index = self.scroll_offset.y + y
        if not self.lines:
            if y == 0:
                muted = self.get_component_rich_style("output-view--note")
                return Strip([Segment(self._empty, muted)]).crop_extend(0, width, base)
            return Strip.blank(width, base)
        if index >= len(self.lines):
            return Strip.blank(width, base)
        segments, length = self.lines[index]
        return Strip(segments, length).apply_style(base).crop_extend(0, width, base)
