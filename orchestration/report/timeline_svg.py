"""The session's timeline as inline SVG: one lane per agent with its attempts as bars (claimed
until handed in, the attempt number on the bar), one lane per gate slot with its runs (batch,
retry and bisection marked), how many units waited for a human, and the cost spent so far."""

from __future__ import annotations

from html import escape

from bosun.orchestration.report.fmt import clock, duration, money, nice_step
from bosun.orchestration.report.lanes import waiting_counts

LABEL_W, PLOT_W, LANE_H, BAR_H, AXIS_H, CHART_H = 120, 1040, 24, 16, 22, 56
WHY_MARK = {"batch": "batch", "retry": "retry", "bisect": "bisect", "single": ""}


class _Scale:
    def __init__(self, start: float, end: float) -> None:
        self.start, self.span = start, max(end - start, 1e-6)

    def x(self, t: float) -> float:
        return round(LABEL_W + PLOT_W * (min(max(t, self.start), self.start + self.span) - self.start) / self.span, 1)


def _bar(scale: _Scale, top: float, start: float, end: float, css: str, label: str, tip: str) -> str:
    x1, x2 = scale.x(start), scale.x(end)
    width = max(x2 - x1, 1.5)
    text = ""
    if label and width > 7 * len(label) + 6:
        text = f'<text x="{x1 + 4}" y="{top + BAR_H - 4}">{escape(label)}</text>'
    return (
        f'<g class="bar {css}"><title>{escape(tip)}</title>'
        f'<rect x="{x1}" y="{top}" width="{width:.1f}" height="{BAR_H}" rx="3"/>{text}</g>'
    )


def _lane(y: float, name: str, css: str) -> str:
    return (
        f'<rect class="lane {css}" x="0" y="{y}" width="{LABEL_W + PLOT_W}" height="{LANE_H}"/>'
        f'<text class="lane-name" x="8" y="{y + LANE_H - 8}">{escape(name)}</text>'
    )


def _agent_lanes(scale: _Scale, agents: list[dict], units: list[dict], y: float) -> tuple[list[str], float]:
    parts = []
    tries = [(u["id"], t) for u in units for t in u["tries"]]
    for agent in agents:
        parts.append(_lane(y, agent["name"], "agent-lane"))
        for unit, t in (p for p in tries if p[1]["agent"] == agent["name"]):
            css = "try-" + t["outcome"].replace(" ", "-") + (" retry-try" if t["attempt"] > 1 else "")
            label = f"{unit} #{t['attempt']}" if t["attempt"] > 1 else unit
            tip = (
                f"{unit}, attempt {t['attempt']} by {agent['name']}: {t['outcome']}\n"
                f"{clock(t['start'] - scale.start)} → {clock(t['end'] - scale.start)} ({duration(t['seconds'])})"
                + (f", {money(t['cost_usd'])}" if t.get("cost_usd") is not None else "")
            )
            parts.append(_bar(scale, y + (LANE_H - BAR_H) / 2, t["start"], t["end"], css, label, tip))
        y += LANE_H
    return parts, y


def _gate_lanes(scale: _Scale, runs: list[dict], slots: int, y: float) -> tuple[list[str], float]:
    parts = []
    used = max([slots, *(r["slot"] + 1 for r in runs)])
    for slot in range(used):
        parts.append(_lane(y, f"gate {slot + 1}" if used > 1 else "gate", "gate-lane"))
        for run in (r for r in runs if r["slot"] == slot):
            mark = WHY_MARK.get(run["why"], run["why"])
            label = f"{run['run']} {mark}".strip() + (f" ×{len(run['testing'])}" if len(run["testing"]) > 1 else "")
            tip = (
                f"{run['run']} ({run['why']}): {run['verdict']}, {duration(run['duration_s'])}\n"
                f"covers {', '.join(run['units'])}"
                + (f"\n{run['cause']}" if run["cause"] else "")
                + (f"\nculprit: {run['culprit']}" if run.get("culprit") else "")
            )
            css = f"run-{run['verdict']} why-{run['why']}"
            parts.append(_bar(scale, y + (LANE_H - BAR_H) / 2, run["start"], run["end"], css, label, tip))
        y += LANE_H
    return parts, y


def _step_chart(scale: _Scale, points: list[tuple[float, float]], top: float, css: str, end: float) -> str:
    """A step line (and the area under it) through `points` (time, value), held to `end`."""
    peak = max((v for _, v in points), default=0) or 1
    base = top + CHART_H - 6

    def y(value: float) -> float:
        return round(base - (CHART_H - 14) * value / peak, 1)

    path = [f"M{scale.x(scale.start)},{base}"]
    last = 0.0
    for t, value in points:
        path.append(f"L{scale.x(t)},{y(last)} L{scale.x(t)},{y(value)}")
        last = value
    path.append(f"L{scale.x(end)},{y(last)} L{scale.x(end)},{base} Z")
    return f'<path class="chart {css}" d="{" ".join(path)}"/>'


def _chart_lane(scale: _Scale, y: float, name: str, note: str, points, css: str, end: float) -> str:
    """A lane holding a step chart, its name and a note (the peak, the total) in the label column."""
    return (
        f'<rect class="lane chart-lane" x="0" y="{y}" width="{LABEL_W + PLOT_W}" height="{CHART_H}"/>'
        f'<text class="lane-name" x="8" y="{y + 16}">{escape(name)}</text>'
        f'<text class="chart-note" x="8" y="{y + 32}">{escape(note)}</text>'
        f"{_step_chart(scale, points, y, css, end)}"
    )


def _axis(scale: _Scale, top: float, height: float) -> str:
    step = nice_step(scale.span)
    parts = []
    tick = 0.0
    while tick <= scale.span + 1e-6:
        x = scale.x(scale.start + tick)
        parts.append(f'<line class="grid" x1="{x}" y1="{AXIS_H}" x2="{x}" y2="{top + height}"/>')
        parts.append(f'<text class="tick" x="{x}" y="{AXIS_H - 7}" text-anchor="middle">{clock(tick)}</text>')
        tick += step
    return "".join(parts)


def timeline_svg(figures: dict, slots: int = 1) -> str:
    session = figures["session"]
    scale = _Scale(session["started"], session["as_of"])
    parts, y = _agent_lanes(scale, figures["agents"], figures["units"], AXIS_H)
    gate, y = _gate_lanes(scale, figures["runs"], slots, y + 6)
    parts += gate
    waiting = waiting_counts(figures["units"])
    peak = int(max((v for _, v in waiting), default=0))
    cost = figures["cost_over_time"]
    charts = [
        _chart_lane(scale, y + 6, "human", f"at most {peak} waiting", waiting, "human-chart", session["as_of"]),
        _chart_lane(
            scale,
            y + 12 + CHART_H,
            "cost",
            money(cost[-1][1]) if cost else "not reported",
            cost,
            "cost-chart",
            session["as_of"],
        ),
    ]
    y += 12 + 2 * CHART_H
    width, height = LABEL_W + PLOT_W, y + 4
    return (
        f'<svg class="timeline" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="timeline">'
        f"{_axis(scale, 0, height - AXIS_H)}{''.join(parts)}{''.join(charts)}</svg>"
    )
