"""The session's timeline on screen: one lane per agent with its attempts as bars, one per gate
slot with its runs (batch, retry, bisection marked), how many units waited for a human and the
cost so far, on one time axis. The selected unit's bars stand out; moving the cursor onto a bar
(keys or a click) selects its unit, and a refresh never moves the cursor. It zooms and scrolls in
time (+ - ← → h l, 0 or home fits the whole session) and scrolls lanes when they do not fit."""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

from bosun.orchestration.report.fmt import money
from bosun.orchestration.report.lanes import Bar, Timeline
from bosun.widgets.timeline_rows import Row, Window, axis, bar_text, chart_cells, placed, spans_cols

NAME_W = 12
"""The lane names' column."""
MIN_SPAN_S = 5.0
"""The closest zoom: this many seconds across the plot."""
LOOKS = ("ok", "failed", "working", "other", "cancelled")


class TimelineView(Widget, can_focus=True):
    """Agents' attempts, gate runs, human waits and cost over the session's time."""

    COMPONENT_CLASSES = {
        "timeline--axis",
        "timeline--name",
        "timeline--chart",
        "timeline--human",
        "timeline--selected",
        "timeline--cursor",
        "timeline--note",
        "timeline--track",
        *(f"timeline--{look}" for look in LOOKS),
    }

    DEFAULT_CSS = """
    TimelineView { height: 1fr; background: $surface; }
    TimelineView > .timeline--axis { color: $foreground-muted; }
    TimelineView > .timeline--name { color: $foreground; text-style: bold; }
    TimelineView > .timeline--note { color: $foreground-muted; }
    TimelineView > .timeline--track { background: $boost; }
    TimelineView > .timeline--chart { color: $accent; }
    TimelineView > .timeline--human { color: $warning; }
    TimelineView > .timeline--ok { background: $success 55%; color: $foreground; }
    TimelineView > .timeline--failed { background: $error 55%; color: $foreground; }
    TimelineView > .timeline--working { background: $accent 55%; color: $foreground; }
    TimelineView > .timeline--other { background: $warning 45%; color: $foreground; }
    TimelineView > .timeline--cancelled { background: $panel; color: $foreground-muted; }
    TimelineView > .timeline--selected { background: $primary; color: $text; text-style: bold; }
    TimelineView > .timeline--cursor { background: $accent; color: $text; text-style: bold underline; }
    """

    BINDINGS = [
        Binding("plus,equals_sign", "zoom(0.5)", "Zoom in", show=False),
        Binding("minus", "zoom(2)", "Zoom out", show=False),
        Binding("left,h", "scroll_time(-0.125)", "Earlier", show=False),
        Binding("right,l", "scroll_time(0.125)", "Later", show=False),
        Binding("0,home", "fit", "Fit", show=False),
        Binding("end", "to_end", "Latest", show=False),
        Binding("up,k", "lane(-1)", "Lane up", show=False),
        Binding("down,j", "lane(1)", "Lane down", show=False),
        Binding("left_square_bracket,p", "step(-1)", "Bar before", show=False),
        Binding("right_square_bracket,n", "step(1)", "Bar after", show=False),
    ]

    selected: reactive[str | None] = reactive(None)
    """The screen's selected unit: its bars stand out (set by the screen, never by a refresh)."""

    class UnitSelected(Message):
        """The user moved onto a bar: its unit is the selection now."""

        def __init__(self, unit: str) -> None:
            super().__init__()
            self.unit = unit

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.data: Timeline | None = None
        self.rows: list[Row] = []
        self.window: tuple[float, float] | None = None
        """The time shown (None: the whole session, growing with it)."""
        self.cursor: str | None = None
        """The key of the bar under the cursor."""
        self.top = 0
        """The first lane row shown (below the axis)."""

    # -- data ---------------------------------------------------------------------------------------
    def show(self, data: Timeline) -> None:
        """New figures from the store: the window, the cursor and the selection stay as they are."""
        self.data = data
        rows: list[Row] = []
        for index, lane in enumerate(data.lanes):
            for sub, bars in enumerate(lane.rows):
                rows.append(Row(lane.name if sub == 0 else "", bars, lane=index))
        rows.append(Row("human", chart=data.waiting))
        rows.append(Row("cost", chart=data.cost))
        self.rows = rows
        self.refresh()

    def span(self) -> tuple[float, float]:
        """The time shown now."""
        if self.window is not None:
            return self.window
        if self.data is None:
            return (0.0, 1.0)
        return (self.data.start, max(self.data.end, self.data.start + MIN_SPAN_S))

    def plot(self) -> Window:
        start, end = self.span()
        return Window(start, end, max(1, self.size.width - NAME_W))

    def where(self, key: str | None) -> tuple[int, Bar] | None:
        """The row index and bar of `key`."""
        for index, row in enumerate(self.rows):
            for bar in row.bars:
                if bar.key == key:
                    return index, bar
        return None

    # -- moving -------------------------------------------------------------------------------------
    def move_to(self, index: int, bar: Bar) -> None:
        """The user put the cursor on `bar`: keep it in view and select its unit."""
        self.cursor = bar.key
        start, end = self.span()
        if self.window is not None and (bar.end < start or bar.start > end):
            self._set_window(bar.start - (end - start) / 4, end - start)
        height = max(1, self.size.height - 1)
        if index < self.top:
            self.top = index
        elif index >= self.top + height:
            self.top = index - height + 1
        self.refresh()
        if bar.unit:
            self.post_message(self.UnitSelected(bar.unit))

    def _set_window(self, start: float, length: float) -> None:
        first, last = self.data.start, max(self.data.end, self.data.start + MIN_SPAN_S)
        if length >= last - first:
            self.window = None
            return
        start = min(max(start, first), last - length)
        self.window = (start, start + length)

    def _focus_time(self) -> float:
        start, end = self.span()
        found = self.where(self.cursor)
        if found is not None:
            middle = (found[1].start + found[1].end) / 2
            if start <= middle <= end:
                return middle
        return (start + end) / 2

    def action_zoom(self, factor: float) -> None:
        if self.data is None:
            return
        start, end = self.span()
        centre = self._focus_time()
        length = max(MIN_SPAN_S, (end - start) * factor)
        self._set_window(centre - (centre - start) * length / (end - start), length)
        self.refresh()

    def action_scroll_time(self, fraction: float) -> None:
        if self.data is None or self.window is None:
            return
        start, end = self.window
        self._set_window(start + (end - start) * fraction, end - start)
        self.refresh()

    def action_fit(self) -> None:
        self.window = None
        self.refresh()

    def action_to_end(self) -> None:
        if self.data is not None and self.window is not None:
            length = self.window[1] - self.window[0]
            self._set_window(self.data.end - length, length)
            self.refresh()

    def action_lane(self, step: int) -> None:
        """The bar nearest the cursor's time in the next row (up or down) that has one in view."""
        found = self.where(self.cursor)
        index = found[0] if found else (-1 if step > 0 else len(self.rows))
        at = self._focus_time()
        window = self.plot()
        index += step
        while 0 <= index < len(self.rows):
            seen = [bar for _, _, bar in placed(self.rows[index].bars, window)] or self.rows[index].bars
            if seen:
                self.move_to(index, min(seen, key=lambda b: abs((b.start + b.end) / 2 - at)))
                return
            index += step

    def action_step(self, step: int) -> None:
        """The bar before or after the cursor's in its row."""
        found = self.where(self.cursor)
        if found is None:
            self.action_lane(1)
            return
        bars = self.rows[found[0]].bars
        at = bars.index(found[1]) + step
        if 0 <= at < len(bars):
            self.move_to(found[0], bars[at])

    def on_click(self, event: events.Click) -> None:
        index = event.y - 1 + self.top
        col = event.x - NAME_W
        if event.y < 1 or not 0 <= index < len(self.rows) or col < 0:
            return
        for c0, c1, bar in placed(self.rows[index].bars, self.plot()):
            if c0 <= col < c1:
                self.focus()
                self.move_to(index, bar)
                return

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        self.top = max(0, min(self.top + 1, len(self.rows) - max(1, self.size.height - 1)))
        self.refresh()

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        self.top = max(0, self.top - 1)
        self.refresh()

    def watch_selected(self) -> None:
        self.refresh()

    # -- drawing ------------------------------------------------------------------------------------
    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"timeline--{name}")

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.rich_style
        if self.data is None:
            text = "The timeline fills in as agents claim units." if y == 0 else ""
            return Strip([Segment(text, self._style("note"))]).crop_extend(0, width, base)
        window = self.plot()
        if y == 0:
            segments = self._axis(window)
        elif 0 <= y - 1 + self.top < len(self.rows):
            row = self.rows[y - 1 + self.top]
            if row.chart is not None:
                segments = [Segment(row.name, self._style("name")), *self._chart(row, window)]
            else:
                segments = [
                    Segment(row.name[: NAME_W - 1].ljust(NAME_W), self._style("name")),
                    *self._bars(row, window),
                ]
        else:
            segments = []
        return Strip(segments).crop_extend(0, width, base)

    def _axis(self, window: Window) -> list[Segment]:
        style = self._style("axis")
        line = [" "] * window.width
        for col, text in axis(window, self.data.start):
            line[col : col + len(text)] = list(text)
        zoom = "all" if self.window is None else "zoomed"
        return [Segment(f"time·{zoom}"[: NAME_W - 1].ljust(NAME_W), style), Segment("".join(line), style)]

    def _bars(self, row: Row, window: Window) -> list[Segment]:
        out, reach = [], 0
        track = self._style("track")
        for c0, c1, bar in placed(row.bars, window):
            if c0 > reach:
                out.append(Segment(" " * (c0 - reach), track))
            text = bar_text(bar, c1 - c0)
            if c1 - c0 >= 3:  # its last cell is the track's: neighbours stay apart
                out += [Segment(text[:-1], self._bar_style(bar)), Segment(" ", track)]
            else:
                out.append(Segment(text, self._bar_style(bar)))
            reach = c1
        if reach < window.width:
            out.append(Segment(" " * (window.width - reach), track))
        return out

    def _bar_style(self, bar: Bar) -> Style:
        if bar.key == self.cursor:
            return self._style("cursor")
        if self.selected is not None and (bar.unit == self.selected or self.selected in bar.units):
            return self._style("selected")
        return self._style(bar.look)

    def _chart(self, row: Row, window: Window) -> list[Segment]:
        points = row.chart or []
        peak = max((value for _, value in points), default=0.0)
        if row.name == "cost":
            note = money(points[-1][1]) if points else "-"
            style = self._style("chart")
        else:
            note = f"≤{int(peak)}"
            style = self._style("human")
        cells = chart_cells(points, window, peak)
        mine = spans_cols(self.data.human.get(self.selected or "", []), window) if row.name == "human" else set()
        name = Segment(f" {note}"[: NAME_W - len(row.name) - 1].ljust(NAME_W - len(row.name)), self._style("note"))
        segments = [name]
        if not mine:
            return [*segments, Segment(cells, style)]
        selected = self._style("selected")
        for col, cell in enumerate(cells):
            segments.append(Segment(cell, selected if col in mine else style))
        return segments
