"""The timeline's rows as terminal cells: a time axis, a row of bars (a label inside when it fits,
a mark when it does not: ✖ a failure, B a batch, R a retry, S a bisection step) and a step chart
drawn with block characters. Pure functions of a time window and a width; the widget styles them."""

from __future__ import annotations

from dataclasses import dataclass, field

from bosun.orchestration.report.fmt import clock, nice_step
from bosun.orchestration.report.lanes import Bar

NARROW_MARK = {"batch": "B", "retry": "R", "bisect": "S"}
BLOCKS = " ▁▂▃▄▅▆▇█"


@dataclass
class Row:
    """One screen row: a lane's name (its first sub-row only) and its bars, or a chart."""

    name: str
    bars: list[Bar] = field(default_factory=list)
    chart: list[tuple[float, float]] | None = None
    lane: int = -1


@dataclass(frozen=True)
class Window:
    """The time shown across `width` columns."""

    start: float
    end: float
    width: int

    def col(self, t: float) -> int:
        span = max(self.end - self.start, 1e-6)
        return int((t - self.start) / span * self.width)

    def time_at(self, col: int) -> float:
        return self.start + (self.end - self.start) * (col + 0.5) / max(self.width, 1)


def placed(bars: list[Bar], window: Window) -> list[tuple[int, int, Bar]]:
    """Each visible bar's columns [c0, c1): at least one cell, never over the bar before it."""
    out: list[tuple[int, int, Bar]] = []
    reach = 0
    for bar in bars:
        if bar.end < window.start or bar.start > window.end:
            continue
        c0 = max(window.col(bar.start), 0, reach)
        c1 = min(max(window.col(bar.end), c0 + 1), window.width)
        if c0 >= window.width or c1 <= c0:
            continue
        out.append((c0, c1, bar))
        reach = c1
    return out


def bar_text(bar: Bar, width: int) -> str:
    """What a bar of `width` cells says: its label (after ✖ for a failure) with a blank cell at
    its end so neighbours stay apart, else its mark alone."""
    label = ("✖" if bar.look == "failed" else "") + bar.label
    if width >= 3 and len(label) < width:
        return label.ljust(width - 1)[: width - 1] + " "
    if width >= 4:
        return label[: width - 2] + "… "
    mark = NARROW_MARK.get(bar.mark) or ("✖" if bar.look == "failed" else "")
    return (mark + " " * width)[:width]


def axis(window: Window, origin: float) -> list[tuple[int, str]]:
    """Tick labels (column, text) at round times since `origin`, none overlapping."""
    span = window.end - window.start
    step = nice_step(span, max(2, window.width // 12))
    first = origin + step * max(0, int((window.start - origin) // step))
    out: list[tuple[int, str]] = []
    reach = -1
    tick = first
    while tick <= window.end:
        col = window.col(tick)
        text = "╵" + clock(tick - origin)
        if 0 <= col and col > reach and col + len(text) <= window.width:
            out.append((col, text))
            reach = col + len(text)
        tick += step
    return out


def chart_cells(points: list[tuple[float, float]], window: Window, peak: float) -> str:
    """A step chart: each column the value held at its time, as a block of height value/peak."""
    cells = []
    index, value = 0, 0.0
    for col in range(window.width):
        t = window.time_at(col)
        while index < len(points) and points[index][0] <= t:
            value = points[index][1]
            index += 1
        level = 0 if not peak or value <= 0 else max(1, round(8 * min(value / peak, 1.0)))
        cells.append(BLOCKS[level])
    return "".join(cells)


def spans_cols(spans: list[tuple[float, float]], window: Window) -> set[int]:
    """The columns `spans` (start, end) cover in `window`."""
    cols: set[int] = set()
    for start, end in spans:
        if end < window.start or start > window.end:
            continue
        c0, c1 = max(window.col(start), 0), min(max(window.col(end), window.col(start) + 1), window.width)
        cols.update(range(c0, c1))
    return cols
