"""The dependency graph as inline SVG: layered left to right, one box per unit coloured by its
final state (the page's CSS holds the colours), each box's tooltip saying where its time went."""

from __future__ import annotations

from html import escape

from bosun.orchestration.report.fmt import duration
from bosun.orchestration.report.layout import place

BOX_W, BOX_H, GAP_X, GAP_Y, PAD = 140, 26, 60, 8, 12


def state_class(state: str) -> str:
    """The CSS class of a state: its own name, grouped where the page colours a group alike."""
    return "st-" + state.replace("_", "-")


def _short(text: str, room: int) -> str:
    return text if len(text) <= room else text[: room - 1] + "…"


def graph_svg(units: list[dict], graph: dict[str, list[str]]) -> str:
    """`units` as the figures have them (id, state, attempts, phase times); `graph` unit -> dependencies."""
    order = [u["id"] for u in units]
    by_id = {u["id"]: u for u in units}
    placed = {p.unit: p for p in place(graph, order)}
    if not placed:
        return '<p class="none">No units.</p>'

    def left(unit: str) -> tuple[int, int]:
        p = placed[unit]
        return PAD + p.layer * (BOX_W + GAP_X), PAD + p.row * (BOX_H + GAP_Y)

    width = PAD * 2 + (1 + max(p.layer for p in placed.values())) * (BOX_W + GAP_X) - GAP_X
    height = PAD * 2 + (1 + max(p.row for p in placed.values())) * (BOX_H + GAP_Y) - GAP_Y
    edges, boxes = [], []
    for unit in order:
        x, y = left(unit)
        for dep in graph.get(unit, []):
            if dep not in placed:
                continue
            dx, dy = left(dep)
            x1, y1, x2, y2 = dx + BOX_W, dy + BOX_H / 2, x - 3, y + BOX_H / 2
            bend = (x2 - x1) / 2
            edges.append(
                f'<path class="edge" d="M{x1},{y1} C{x1 + bend},{y1} {x2 - bend},{y2} {x2},{y2}" '
                f'data-from="{escape(dep)}" data-to="{escape(unit)}"/>'
            )
        boxes.append(_box(by_id[unit], x, y))
    crowded = " crowded" if len(edges) > 120 else ""  # hundreds of edges: lighter, so the boxes stay legible
    return (
        f'<svg class="graph{crowded}" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="dependency graph">'
        '<defs><marker id="arrow" viewBox="0 0 6 6" refX="5" refY="3" markerWidth="6" markerHeight="6" '
        'orient="auto"><path d="M0,0 L6,3 L0,6 z" class="arrow"/></marker></defs>'
        f'<g class="edges">{"".join(edges)}</g><g class="boxes">{"".join(boxes)}</g></svg>'
    )


def _box(unit: dict, x: int, y: int) -> str:
    tip = (
        f"{unit['id']}{' — ' + unit['title'] if unit.get('title') and unit['title'] != unit['id'] else ''}\n"
        f"{unit['state'].replace('_', ' ')}, {unit['attempts']} attempt(s)\n"
        f"waiting for dependencies {duration(unit['deps_s'])}, for an agent {duration(unit['agent_s'])}\n"
        f"working {duration(unit['work_s'])}, queue and gate {duration(unit['queue_s'])}, "
        f"for a human {duration(unit['human_s'])}"
    )
    badge = ""
    if unit["attempts"] > 1:
        badge = f'<text class="badge" x="{x + BOX_W - 6}" y="{y + 17}" text-anchor="end">×{unit["attempts"]}</text>'
    room = 16 if unit["attempts"] > 1 else 19
    return (
        f'<g class="unit {state_class(unit["state"])}" data-unit="{escape(unit["id"])}">'
        f"<title>{escape(tip)}</title>"
        f'<rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="5"/>'
        f'<text x="{x + 8}" y="{y + 17}">{escape(_short(unit["id"], room))}</text>{badge}</g>'
    )
