"""The overview: the whole graph fitted into the view, one cell per unit (state mark and name), each
layer a column. Names are shortened before they are given up: the prefix every id shares goes
first (`api-login` and `api-logout` are `login` and `logout` when every id starts `api-`), then
the middle of a long name (`migrat…ema`), keeping its end, where ids usually differ; only a graph
with no room for three characters a unit shows marks alone."""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass, field

from bosun.widgets.graph_layout import BOX_WIDTH

OVERVIEW_MIN_NAME = 3
"""The fewest characters of a name worth showing; with less room a cell holds the state mark alone."""
OVERVIEW_MARK_CELL = 2
"""A cell with the state mark alone, for a graph too big to name every unit and still fit."""
OVERVIEW_GAP = 1
SEPARATORS = "-_./: "


def shared_prefix(units: list[str]) -> str:
    """The prefix all `units` share, up to and including its last separator (`unit-` of `unit-001`,
    `unit-002`), so what is left of each is a whole word; empty for fewer than two units."""
    if len(units) < 2:
        return ""
    common = os.path.commonprefix(units)
    cut = max(common.rfind(sep) for sep in SEPARATORS) + 1
    if any(len(unit) <= cut for unit in units):  # some id would vanish: keep them whole
        return ""
    return common[:cut]


def fit_name(unit: str, width: int, prefix: str = "") -> str:
    """`unit` in at most `width` characters: whole if it fits, else without the shared `prefix`,
    else its start and end either side of an ellipsis (the end kept longer: ids differ there)."""
    if len(unit) <= width:
        return unit
    short = unit[len(prefix) :] if prefix and unit.startswith(prefix) else unit
    if len(short) <= width:
        return short
    if width < 2:
        return short[:width]
    head = (width - 1) // 2
    tail = width - 1 - head
    return short[:head] + "…" + short[len(short) - tail :]


@dataclass
class Overview:
    """The whole graph at once: one cell per unit, each layer a column (several side by side when a
    layer is taller than the view), under a header row naming the layer."""

    width: int
    height: int
    cell: int
    """The width of one unit's cell; at OVERVIEW_MARK_CELL it holds the state mark alone."""
    places: dict[str, tuple[int, int]]
    """Each unit's cell: x, y."""
    strips: list[list[str]]
    """The units of each column as drawn, top to bottom (a layer can have several)."""
    headers: list[tuple[int, int, str]]
    """Each layer's header: x, width and label."""
    prefix: str = ""
    """What every id starts with, left out of the names when they are short of room."""
    rows: dict[int, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        rows: dict[int, list[str]] = defaultdict(list)
        for unit, (_x, y) in sorted(self.places.items(), key=lambda item: item[1]):
            rows[y].append(unit)
        self.rows = dict(rows)

    @property
    def named(self) -> bool:
        """Whether the cells have room for names, not the state marks alone."""
        return self.cell > OVERVIEW_MARK_CELL

    def label(self, unit: str) -> str:
        """The name shown in `unit`'s cell, after its mark and a space."""
        return fit_name(unit, self.cell - 2, self.prefix) if self.named else ""


def overview_layout(columns: list[list[str]], width: int, height: int) -> Overview:
    """Fit every unit of `columns` (the layers, in the full layout's order) into `width` x `height`:
    each layer wrapped into as many columns as the height needs, the cells as wide as the longest id
    if that fits, narrower (names shortened) down to three characters of name, else marks alone.
    Only a graph too big even for marks is wider than the view."""
    layers = [column for column in columns if column]
    rows = max(height - 1, 1)
    splits = [-(-len(layer) // rows) for layer in layers]
    strips_count = sum(splits)

    def needed(cell: int) -> int:
        return strips_count * (cell + OVERVIEW_GAP) + max(len(layers) - 1, 0) * OVERVIEW_GAP - OVERVIEW_GAP

    units = [unit for layer in layers for unit in layer]
    widest = min(BOX_WIDTH, max((len(unit) for unit in units), default=1) + 2)
    narrowest = min(OVERVIEW_MIN_NAME + 2, widest)
    cell = next((c for c in range(widest, narrowest - 1, -1) if needed(c) <= width), OVERVIEW_MARK_CELL)
    places: dict[str, tuple[int, int]] = {}
    strips: list[list[str]] = []
    headers: list[tuple[int, int, str]] = []
    x = 0
    for index, (layer, split) in enumerate(zip(layers, splits)):
        per_strip = -(-len(layer) // split)
        start = x
        for part in range(split):
            strip = layer[part * per_strip : (part + 1) * per_strip]
            strips.append(strip)
            for y, unit in enumerate(strip, start=1):
                places[unit] = (x, y)
            x += cell + OVERVIEW_GAP
        span = x - start - OVERVIEW_GAP
        label = next((text for text in (f"{index + 1} · {len(layer)}", f"{index + 1}") if len(text) <= span), "")
        headers.append((start, span, label))
        x += OVERVIEW_GAP
    used_rows = max((len(strip) for strip in strips), default=0)
    return Overview(max(x - 2 * OVERVIEW_GAP, 0), used_rows + 1, cell, places, strips, headers, shared_prefix(units))
