"""Where every unit's box and every edge go when a dependency graph is drawn left to right.

Layers are topological generations. An edge that skips layers passes through a placeholder
in each layer between (so it never crosses a box), and median sweeps with adjacent swaps, from
the plan's order and a few shuffled ones, order each layer to keep edges short and crossings few.
Edges out of one node share a lane of the gutter after it; different nodes get different lanes
while one is free. The result is plain data: character cells for
the edges and a position for each box, so the widget only paints.
"""

from __future__ import annotations

import random
from bisect import bisect_right, insort
from collections import defaultdict
from dataclasses import dataclass, field

import networkx as nx

BOX_WIDTH = 17
BOX_HEIGHT = 3
GAP = 1
GUTTER = 6
LANES = 4
SWEEPS = 8
STARTS = 6
START_BUDGET = 1800
"""Orders tried: the plan's and up to STARTS - 1 shuffled ones, fewer as the links (placeholders
included) grow: six at 60 units, three at 250, so a layout stays a fraction of a second."""
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

    def edge_glyphs(self, unit: str) -> dict[int, dict[int, str]]:
        """The edges into and out of `unit` alone, by row then column: drawn whole, with the joins
        of their own turns, not those of the edges crossing or sharing their cells."""
        bits: dict[tuple[int, int], int] = defaultdict(int)
        for index in self.paths_of.get(unit, ()):
            path = self.paths[index]
            for (x1, y1), (x2, y2) in zip(path, path[1:]):
                if abs(x2 - x1) + abs(y2 - y1) == 1:
                    forward, back = ((E, W) if x2 > x1 else (W, E)) if x1 != x2 else ((S, N) if y2 > y1 else (N, S))
                    bits[(x1, y1)] |= forward
                    bits[(x2, y2)] |= back
        rows: dict[int, dict[int, str]] = defaultdict(dict)
        for (x, y), cell in bits.items():
            rows[y][x] = ARROW if self.edge_rows.get(y, {}).get(x) == ARROW else GLYPHS[cell]
        return dict(rows)

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
    """Layers with placeholders for long edges, ordered to cross few edges: median sweeps and
    adjacent swaps from the plan's order, then again from a few shuffled ones (fixed seeds, so the
    picture is stable), the order with the fewest crossings kept (the plan's on a tie). Sweeps only
    find a local best; other starts find others (a third fewer crossings on a 60-unit plan)."""
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
    best, fewest = layers, -1
    for start in range(max(1, min(STARTS, START_BUDGET // max(len(links), 1)))):
        trial = [list(layer) for layer in layers]
        shuffle = random.Random(start).shuffle if start else None
        for layer in trial if shuffle else ():
            shuffle(layer)
        trial = _sweep(trial, before, after)
        _transpose(trial, before, after)
        crossings = count_crossings(trial, after)
        if fewest < 0 or crossings < fewest:
            best, fewest = trial, crossings
    return best, links


def _sweep(layers: list[list], before: dict, after: dict) -> list[list]:
    """Median sweeps down and up (Gansner et al.); the order with the fewest crossings seen."""
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
    return best


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
        for node in layer:
            if _is_placeholder(node):
                ports[node] = (index, y, 0)
                y += PLACEHOLDER_HEIGHT + GAP
            else:
                box = Box(node, index * stride, y, index)
                boxes[node] = box
                ports[node] = (index, box.port_y, 0)
                y += BOX_HEIGHT + GAP
        height = max(height, y)
    _assign_lanes(ports, links)
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


def _assign_lanes(ports: dict[object, tuple[int, int, int]], links: list[tuple]) -> None:
    """Give each node with edges out a lane of the gutter after it, so that the runs of two nodes
    share a lane only when no lane is free: each node's run spans the rows from its port to its
    farthest target, and the runs are packed into the lanes greedily, top to bottom (interval
    colouring). Edges out of one node share its run: they read as one bundle, not a lattice."""
    spans: dict[object, list[int]] = {}
    for source, target in links:
        y = ports[target][1]
        span = spans.setdefault(source, [ports[source][1], ports[source][1]])
        span[0], span[1] = min(span[0], y), max(span[1], y)
    by_layer: dict[int, list[object]] = defaultdict(list)
    for node in spans:
        by_layer[ports[node][0]].append(node)
    for nodes in by_layer.values():
        ends = [-2] * LANES  # the last row taken in each lane
        for node in sorted(nodes, key=lambda n: spans[n]):
            top, bottom = spans[node]
            lane = next((i for i, end in enumerate(ends) if end < top - 1), None)
            if lane is None:
                lane = min(range(LANES), key=lambda i: ends[i])
            ends[lane] = max(ends[lane], bottom)
            ports[node] = (*ports[node][:2], lane)


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
