"""Where every unit's box and every edge go when a dependency graph is drawn left to right.

Layers are topological generations. An edge that skips layers passes through a placeholder
in each layer between (so it never crosses a box), and median sweeps with adjacent swaps order
each layer to keep edges short and crossings few. The result is plain data: character cells for
the edges and a position for each box, so the widget only paints.
"""

from __future__ import annotations

from bisect import bisect_right, insort
from collections import defaultdict
from dataclasses import dataclass, field

import networkx as nx

BOX_WIDTH = 17
BOX_HEIGHT = 3
GAP = 1
GUTTER = 6
LANES = 3
SWEEPS = 8
PLACEHOLDER_HEIGHT = 1

# Direction bits of an edge cell, and the box-drawing character for each combination.
N, E, S, W = 1, 2, 4, 8
GLYPHS = {
    E | W: "─",
    N | S: "│",
    E | S: "╭",
    W | S: "╮",
    N | E: "╰",
    N | W: "╯",
    N | E | S: "├",
    N | W | S: "┤",
    E | W | S: "┬",
    E | W | N: "┴",
    N | E | S | W: "┼",
    E: "─",
    W: "─",
    N: "│",
    S: "│",
}
ARROW = "▶"


@dataclass(frozen=True)
class Box:
    """A unit's box: top-left corner on the canvas and its layer."""

    unit: str
    x: int
    y: int
    layer: int

    @property
    def port_y(self) -> int:
        return self.y + 1


@dataclass
class GraphLayout:
    """Boxes by unit, edge characters by row, and the canvas size."""

    width: int
    height: int
    boxes: dict[str, Box]
    columns: list[list[str]]
    edge_rows: dict[int, dict[int, str]] = field(default_factory=dict)
    paths: list[list[tuple[int, int]]] = field(default_factory=list)
    """The cells (x, y) each piece of an edge is drawn on (an edge that skips layers has several)."""
    paths_of: dict[str, list[int]] = field(default_factory=dict)
    """Each unit's edges, in and out, as indices into `paths`."""

    def edge_cells(self, unit: str) -> set[tuple[int, int]]:
        """The cells of every edge into or out of `unit`."""
        return {cell for index in self.paths_of.get(unit, ()) for cell in self.paths[index]}

    def boxes_on_row(self, y: int) -> list[Box]:
        return self._rows.get(y, [])

    def __post_init__(self) -> None:
        self._rows: dict[int, list[Box]] = defaultdict(list)
        for box in sorted(self.boxes.values(), key=lambda b: b.x):
            for row in range(box.y, box.y + BOX_HEIGHT):
                self._rows[row].append(box)


def _is_placeholder(node: object) -> bool:
    return isinstance(node, tuple)


def _layer_numbers(graph: nx.DiGraph) -> dict[str, int]:
    """Topological generations, except that a unit that depends on nothing sits just before its
    first dependent: its edges stay short and the first layer small."""
    layer_of = {unit: i for i, layer in enumerate(nx.topological_generations(graph)) for unit in layer}
    for unit in graph:
        if not graph.in_degree(unit) and graph.out_degree(unit):
            layer_of[unit] = min(layer_of[s] for s in graph.successors(unit)) - 1
    return layer_of


def _ordered_layers(graph: nx.DiGraph, order: list[str]) -> tuple[list[list], list[tuple]]:
    """Layers with placeholders for long edges, ordered to cross few edges: median sweeps down and
    up (Gansner et al.), the best order seen kept, then adjacent swaps while they remove crossings."""
    rank = {unit: i for i, unit in enumerate(order)}
    layer_of = _layer_numbers(graph)
    layers: list[list] = [[] for _ in range(max(layer_of.values(), default=-1) + 1)]
    for unit in sorted(graph, key=lambda u: (rank.get(u, len(rank)), u)):
        layers[layer_of[unit]].append(unit)
    links: list[tuple] = []
    for source, target in graph.edges:
        previous = source
        for between in range(layer_of[source] + 1, layer_of[target]):
            placeholder = (source, target, between)
            layers[between].append(placeholder)
            links.append((previous, placeholder))
            previous = placeholder
        links.append((previous, target))
    before, after = defaultdict(list), defaultdict(list)
    for a, b in links:
        after[a].append(b)
        before[b].append(a)
    best, fewest = [list(layer) for layer in layers], count_crossings(layers, after)
    for sweep in range(SWEEPS):
        if sweep % 2 == 0:
            for index in range(1, len(layers)):
                _sort_by_median(layers[index], layers[index - 1], before)
        else:
            for index in range(len(layers) - 2, -1, -1):
                _sort_by_median(layers[index], layers[index + 1], after)
        crossings = count_crossings(layers, after)
        if crossings < fewest:
            best, fewest = [list(layer) for layer in layers], crossings
    _transpose(best, before, after)
    return best, links


def _sort_by_median(layer: list, fixed: list, neighbours: dict) -> None:
    """Order `layer` by the (weighted) median position of each node's neighbours in `fixed`; a node
    with none there keeps its place."""
    position = {node: i for i, node in enumerate(fixed)}
    own = {node: i for i, node in enumerate(layer)}
    median: dict[object, float] = {}
    for node in layer:
        linked = sorted(position[n] for n in neighbours[node] if n in position)
        count, middle = len(linked), len(linked) // 2
        if not count:
            continue
        if count % 2:
            median[node] = linked[middle]
        elif count == 2:
            median[node] = (linked[0] + linked[1]) / 2
        else:  # between the two middle ones, pulled towards the side whose neighbours are closer together
            left, right = linked[middle - 1] - linked[0], linked[-1] - linked[middle]
            median[node] = (
                (linked[middle - 1] * right + linked[middle] * left) / (left + right)
                if left + right
                else (linked[middle - 1] + linked[middle]) / 2
            )
    movable = iter(sorted(median, key=lambda node: (median[node], own[node])))
    layer[:] = [next(movable) if node in median else node for node in layer]


def _transpose(layers: list[list], before: dict, after: dict, rounds: int = 20) -> None:
    """Swap neighbours in a layer wherever that removes crossings, until no swap does (a swap can
    only make new chances in its own layer and the two beside it)."""
    position = {node: i for layer in layers for i, node in enumerate(layer)}
    dirty = set(range(len(layers)))
    for _ in range(rounds):
        if not dirty:
            return
        swapped: set[int] = set()
        for index in sorted(dirty):
            layer = layers[index]
            up = [sorted([position[n] for n in before[node]]) for node in layer]
            down = [sorted([position[n] for n in after[node]]) for node in layer]
            for i in range(len(layer) - 1):
                now = _pairs_crossing(up[i], up[i + 1]) + _pairs_crossing(down[i], down[i + 1])
                if now and _pairs_crossing(up[i + 1], up[i]) + _pairs_crossing(down[i + 1], down[i]) < now:
                    layer[i], layer[i + 1] = layer[i + 1], layer[i]
                    position[layer[i]], position[layer[i + 1]] = i, i + 1
                    up[i], up[i + 1], down[i], down[i + 1] = up[i + 1], up[i], down[i + 1], down[i]
                    swapped.add(index)
        dirty = {near for index in swapped for near in (index - 1, index, index + 1) if 0 <= near < len(layers)}


def _pairs_crossing(left: list[int], right: list[int]) -> int:
    """How many edges of a node at `left` positions cross those of the node just right of it (both sorted)."""
    crossing, j = 0, 0
    for x in left:
        while j < len(right) and right[j] < x:
            j += 1
        crossing += j
    return crossing


def count_crossings(layers: list[list], after: dict) -> int:
    """Edge crossings between each pair of neighbouring layers (placeholders included)."""
    total = 0
    for upper, lower in zip(layers, layers[1:]):
        position = {node: i for i, node in enumerate(lower)}
        seen: list[int] = []
        for node in upper:
            targets = sorted(position[n] for n in after[node])
            for target in targets:
                total += len(seen) - bisect_right(seen, target)
            for target in targets:
                insort(seen, target)
    return total


def layout_graph(graph: nx.DiGraph, order: list[str]) -> GraphLayout:
    """Place every unit of `graph`; `order` (the plan's) breaks ties so the picture is stable."""
    layers, links = _ordered_layers(graph, order)
    stride = BOX_WIDTH + GUTTER
    boxes: dict[str, Box] = {}
    ports: dict[object, tuple[int, int, int]] = {}  # node -> (layer, port row, lane)
    height = 0
    for index, layer in enumerate(layers):
        y = 0
        for slot, node in enumerate(layer):
            if _is_placeholder(node):
                ports[node] = (index, y, slot % LANES)
                y += PLACEHOLDER_HEIGHT + GAP
            else:
                box = Box(node, index * stride, y, index)
                boxes[node] = box
                ports[node] = (index, box.port_y, slot % LANES)
                y += BOX_HEIGHT + GAP
        height = max(height, y)
    cells: dict[tuple[int, int], int] = defaultdict(int)
    arrows: set[tuple[int, int]] = set()
    paths: list[list[tuple[int, int]]] = []
    paths_of: dict[str, list[int]] = defaultdict(list)
    for source, target in links:
        paths_of[source[0] if _is_placeholder(source) else source].append(len(paths))
        paths_of[target[1] if _is_placeholder(target) else target].append(len(paths))
        paths.append(_route(cells, arrows, ports[source], ports[target], stride, into_box=not _is_placeholder(target)))
    for node, (index, port_y, _) in ports.items():
        if _is_placeholder(node):  # the edge runs straight through the placeholder's column
            through = [(x, port_y) for x in range(index * stride, index * stride + BOX_WIDTH)]
            for cell in through:
                cells[cell] |= E | W
            paths_of[node[0]].append(len(paths))
            paths_of[node[1]].append(len(paths))
            paths.append(through)
    edge_rows: dict[int, dict[int, str]] = defaultdict(dict)
    for (x, y), bits in cells.items():
        edge_rows[y][x] = ARROW if (x, y) in arrows else GLYPHS[bits]
    columns = [[n for n in layer if not _is_placeholder(n)] for layer in layers]
    width = max(len(layers) * stride - GUTTER, 0)
    return GraphLayout(width, max(height - GAP, 0), boxes, columns, dict(edge_rows), paths, dict(paths_of))


def _route(
    cells: dict, arrows: set, source: tuple[int, int, int], target: tuple[int, int, int], stride: int, into_box: bool
) -> list[tuple[int, int]]:
    """Out of the source's right side, down or up its lane in the gutter, into the target's left side;
    returns the cells drawn."""
    layer, y1, lane = source
    _, y2, _ = target
    start = layer * stride + BOX_WIDTH
    end = start + GUTTER - 1
    lane_x = start + 1 + lane
    drawn: list[tuple[int, int]] = []
    _line(cells, (start - 1, y1), (lane_x, y1), drawn)
    _line(cells, (lane_x, y1), (lane_x, y2), drawn)
    _line(cells, (lane_x, y2), (end + 1, y2), drawn)
    if into_box:
        arrows.add((end, y2))
    return drawn


def _line(cells: dict, a: tuple[int, int], b: tuple[int, int], drawn: list[tuple[int, int]]) -> None:
    """Mark the cells from a to b (a straight line) as joined to each other, excluding box borders,
    and add them to `drawn`."""
    (x1, y1), (x2, y2) = a, b
    if (x1, y1) == (x2, y2):
        return
    dx, dy = (x2 > x1) - (x2 < x1), (y2 > y1) - (y2 < y1)
    forward, back = ((E, W) if dx > 0 else (W, E)) if dx else ((S, N) if dy > 0 else (N, S))
    x, y = x1, y1
    while (x, y) != (x2, y2):
        nx_, ny = x + dx, y + dy
        cells[(x, y)] |= forward
        cells[(nx_, ny)] |= back
        drawn.append((x, y))
        x, y = nx_, ny
    drawn.append((x2, y2))


OVERVIEW_MIN_CELL = 7
"""The narrowest cell that still names its unit: a state mark and five characters of the id."""
OVERVIEW_MARK_CELL = 2
"""A cell with the state mark alone, for a graph too big to name every unit and still fit."""
OVERVIEW_GAP = 1


@dataclass
class Overview:
    """The whole graph at once: one cell per unit, each layer a column (several side by side when a
    layer is taller than the view), under a header row naming the layer."""

    width: int
    height: int
    cell: int
    """The width of one unit's cell; below OVERVIEW_MIN_CELL it holds the state mark alone."""
    places: dict[str, tuple[int, int]]
    """Each unit's cell: x, y."""
    strips: list[list[str]]
    """The units of each column as drawn, top to bottom (a layer can have several)."""
    headers: list[tuple[int, int, str]]
    """Each layer's header: x, width and label."""
    rows: dict[int, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        rows: dict[int, list[str]] = defaultdict(list)
        for unit, (_x, y) in sorted(self.places.items(), key=lambda item: item[1]):
            rows[y].append(unit)
        self.rows = dict(rows)


def overview_layout(columns: list[list[str]], width: int, height: int) -> Overview:
    """Fit every unit of `columns` (the layers, in the full layout's order) into `width` x `height`:
    each layer wrapped into as many columns as the height needs, the cells as wide as the longest id
    if that fits, narrower down to OVERVIEW_MIN_CELL, else marks alone. Only a graph too big even for
    marks is wider than the view."""
    layers = [column for column in columns if column]
    rows = max(height - 1, 1)
    splits = [-(-len(layer) // rows) for layer in layers]
    strips_count = sum(splits)

    def needed(cell: int) -> int:
        return strips_count * (cell + OVERVIEW_GAP) + max(len(layers) - 1, 0) * OVERVIEW_GAP - OVERVIEW_GAP

    widest = min(BOX_WIDTH, max((len(unit) for layer in layers for unit in layer), default=1) + 2)
    cell = next(
        (c for c in range(widest, min(OVERVIEW_MIN_CELL, widest) - 1, -1) if needed(c) <= width), OVERVIEW_MARK_CELL
    )
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
    return Overview(max(x - 2 * OVERVIEW_GAP, 0), used_rows + 1, cell, places, strips, headers)
