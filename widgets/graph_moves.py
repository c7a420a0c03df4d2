"""Where the graph's selection goes: the neighbouring unit an arrow key reaches, and the unit under
a click, in the boxes or in the overview. Pure functions of the layout, so the widget only paints."""

from __future__ import annotations

from bosun.widgets.graph_layout import BOX_WIDTH, GraphLayout
from bosun.widgets.graph_overview import Overview


def _sideways_in_overview(overview: Overview, unit: str, dx: int) -> str | None:
    """To the next column drawn, side by side, at the nearest height."""
    strips = overview.strips
    here = next(i for i, strip in enumerate(strips) if unit in strip)
    y = overview.places[unit][1]
    if 0 <= here + dx < len(strips) and strips[here + dx]:
        return min(strips[here + dx], key=lambda other: abs(overview.places[other][1] - y))
    return None


def neighbour(layout: GraphLayout, overview: Overview | None, unit: str | None, dx: int, dy: int) -> str | None:
    """The unit one step from `unit` (dx: a layer sideways, dy: one up or down its layer), or None."""
    box = layout.boxes.get(unit or "")
    if box is None:
        return None
    if dx and overview is not None:
        return _sideways_in_overview(overview, box.unit, dx)
    columns = layout.columns
    if dy:
        column = columns[box.layer]
        index = column.index(box.unit) + dy
        return column[index] if 0 <= index < len(column) else None
    layer = box.layer + dx
    if 0 <= layer < len(columns) and columns[layer]:
        return min(columns[layer], key=lambda other: abs(layout.boxes[other].y - box.y))
    return None


def unit_at(layout: GraphLayout, overview: Overview | None, x: int, y: int) -> str | None:
    """The unit drawn at (x, y) of the graph's whole area, or None."""
    if overview is not None:
        return next(
            (u for u in overview.rows.get(y, ()) if overview.places[u][0] <= x < overview.places[u][0] + overview.cell),
            None,
        )
    return next((box.unit for box in layout.boxes_on_row(y) if box.x <= x < box.x + BOX_WIDTH), None)
