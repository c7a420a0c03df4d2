"""The report as one self-contained HTML page: inline CSS and SVG, no script, nothing fetched,
so it can be attached to a pull request or mailed and still open offline."""

from __future__ import annotations

import time
from html import escape

from bosun.orchestration.report.fmt import clock, duration, money, percent, tokens
from bosun.orchestration.report.graph_svg import graph_svg, state_class
from bosun.orchestration.report.spans import PHASES
from bosun.orchestration.report.style import CSS, PHASE_COLOURS
from bosun.orchestration.report.timeline_svg import timeline_svg

PHASE_WORDS = {
    "deps": "waiting for dependencies",
    "agent": "waiting for an agent",
    "work": "agent working",
    "queue": "merge check and gate",
    "human": "waiting for a human",
}


def _mix(parts: dict[str, float], scale: float, big: bool = False) -> str:
    """A stacked bar of the phases' times, `scale` seconds being the full width."""
    spans = "".join(
        f'<span style="width:{100 * parts[p] / scale:.2f}%;background:{PHASE_COLOURS[p]}" '
        f'title="{PHASE_WORDS[p]}: {duration(parts[p])}"></span>'
        for p in PHASES
        if scale > 0 and parts.get(p, 0) > 0
    )
    return f'<div class="mix{" big" if big else ""}">{spans}</div>'


def _legend(items: list[tuple[str, str]]) -> str:
    return '<div class="legend">' + "".join(f'<span><i style="{s}"></i>{escape(w)}</span>' for s, w in items) + "</div>"


def _cards(s: dict) -> str:
    cards = [
        (duration(s["elapsed_s"]), "elapsed" + (" so far" if s["live"] else "")),
        (f"{s['merged']}/{s['units']}", "units merged"),
        (str(s["attempts_per_unit"] or "-"), "attempts per unit"),
        (percent(s["gate_busy_pct"]), f"gate busy ({s['gate_runs']} runs)"),
        (duration(s["human_wait_s"]), f"waiting for a human ({s['human_waits']}×)"),
        (duration(s["agent_busy_s"]), "agent time"),
        (money(s["cost_usd"]), "cost"),
        (money(s["cost_per_merged_unit_usd"]), "cost per merged unit"),
    ]
    return (
        '<div class="cards">'
        + "".join(
            f'<div class="card"><div class="value">{escape(v)}</div><div class="label">{escape(label)}</div></div>'
            for v, label in cards
        )
        + "</div>"
    )


def _table(head: list[tuple[str, str]], rows: list[list[str]], empty: str) -> str:
    if not rows:
        return f'<p class="none">{escape(empty)}</p>'
    th = "".join(f'<th class="{c}">{escape(h)}</th>' for h, c in head)
    body = "".join(
        "<tr>" + "".join(f'<td class="{head[i][1]}">{cell}</td>' for i, cell in enumerate(r)) + "</tr>" for r in rows
    )
    return f'<div class="scroll"><table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table></div>'


def _pill(state: str) -> str:
    return f'<span class="pill {state_class(state)}">{escape(state.replace("_", " "))}</span>'


def _units_table(units: list[dict]) -> str:
    longest = max((sum(u[f"{p}_s"] for p in PHASES) for u in units), default=0)
    head = [("Unit", ""), ("State", ""), ("Agent", ""), ("Tries", "n")]
    head += [(w, "n") for w in ("Deps", "Agent wait", "Working", "Queue/gate", "Human")]
    head += [("Where the time went", "mixcell"), ("Tokens", "n"), ("Cost", "n")]
    rows = []
    for u in units:
        parts = {p: u[f"{p}_s"] for p in PHASES}
        title = f' <span class="none">{escape(u["title"])}</span>' if u["title"] and u["title"] != u["id"] else ""
        rows.append(
            [f"<code>{escape(u['id'])}</code>{title}", _pill(u["state"]), escape(u["agent"] or "-"), str(u["attempts"])]
            + [duration(parts[p]) for p in PHASES]
            + [_mix(parts, longest), tokens(u["prompt_tokens"] + u["completion_tokens"]), money(u["cost_usd"])]
        )
    return _table(head, rows, "No units.")


def _agents_table(agents: list[dict]) -> str:
    head = [
        ("Agent", ""),
        ("Attempts", "n"),
        ("Units", "n"),
        ("Handed in", "n"),
        ("Busy", "n"),
        ("Busy share", "mixcell"),
    ]
    head += [("Tokens in/out", "n"), ("Cost", "n"), ("Cost per unit", "n")]
    rows = []
    for a in agents:
        width = min(a["busy_pct"], 100)
        share = f'<div class="mix"><span style="width:{width:.1f}%;background:{PHASE_COLOURS["work"]}"></span></div>'
        per_unit = a["cost_usd"] / len(a["units"]) if a["cost_usd"] is not None and a["units"] else None
        rows.append(
            [
                f"<b>{escape(a['name'])}</b>",
                str(a["attempts"]),
                str(len(a["units"])),
                str(a["submitted"]),
                duration(a["busy_s"]),
                f'<div class="share">{share}<span class="none">{a["busy_pct"]:.0f}%</span></div>',
                f"{tokens(a['prompt_tokens'])} / {tokens(a['completion_tokens'])}",
                money(a["cost_usd"]),
                money(per_unit),
            ]
        )
    return _table(head, rows, "No agents.")


def _runs_table(runs: list[dict], started: float) -> str:
    head = [("Run", ""), ("Slot", "n"), ("Why", ""), ("Tested", ""), ("Start", "n"), ("Took", "n"), ("Verdict", "")]
    head += [("Cause", "")]
    rows = []
    for r in runs:
        verdict = {"passed": "merged", "failed": "gate-failed", "running": "running", "cancelled": "cancelled"}
        covers = (
            ", ".join(r["units"]) if len(r["units"]) <= 6 else f"{', '.join(r['units'][:5])}, … ({len(r['units'])})"
        )
        cause = escape(r["cause"]) + (f" — culprit <code>{escape(r['culprit'])}</code>" if r.get("culprit") else "")
        rows.append(
            [
                f"<code>{escape(r['run'])}</code>",
                str(r["slot"] + 1),
                escape(r["why"]),
                escape(covers),
                clock(r["start"] - started),
                duration(r["duration_s"]),
                f'<span class="pill st-{verdict[r["verdict"]]}">{escape(r["verdict"])}</span>',
                cause,
            ]
        )
    return _table(head, rows, "The gate never ran.")


def _severity(level: str) -> str:
    css = "st-failed" if level == "block" else "st-awaiting-approval"
    return f'<span class="pill {css}">{escape(level)}</span>'


def _findings_table(found: list[dict], started: float) -> str:
    head = [("When", "n"), ("Unit", ""), ("Run", ""), ("Check", ""), ("Severity", ""), ("Kind", ""), ("Where", "")]
    head += [("Message", "")]
    rows = [
        [
            clock(f["time"] - started),
            f"<code>{escape(f['unit'])}</code>",
            escape(f["run"] or "-"),
            escape(f["check"]),
            _severity(f["severity"]),
            escape(f["kind"]),
            f"<code>{escape(f['where'])}</code>" if f["where"] else "-",
            escape(f["message"]),
        ]
        for f in found
    ]
    return _table(head, rows, "The checks found nothing: no conflict, no semantic finding, no failed check.")


def report_page(figures: dict) -> str:
    s = figures["session"]
    started = s["started"]
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(started))
    name = figures.get("name") or "session"
    phase_sum = {p: sum(u[f"{p}_s"] for u in figures["units"]) for p in PHASES}
    total = sum(phase_sum.values())
    phase_legend = [(f"background:{PHASE_COLOURS[p]}", f"{PHASE_WORDS[p]} {duration(phase_sum[p])}") for p in PHASES]
    state_legend = [
        ("background:#dcfce7;border-color:#16a34a", "merged"),
        ("background:#dbeafe;border-color:#2563eb", "agent at work"),
        ("background:#ede9fe;border-color:#7c3aed", "in the queue"),
        ("background:#fef3c7;border-color:#d97706", "awaiting approval"),
        ("background:#fee2e2;border-color:#dc2626", "needs a human"),
        ("background:#fff;border-color:#94a3b8", "not started"),
        ("background:#f1f5f9;border-color:#94a3b8", "cancelled"),
    ]
    run_legend = [
        ("background:#3b82f6", "attempt handed in"),
        ("background:#ef4444", "attempt failed"),
        ("background:#94a3b8", "attempt taken away"),
        ("background:#22c55e", "gate passed"),
        ("background:#ef4444", "gate failed"),
        ("border:2px solid #6d28d9", "batch"),
        ("border:2px dashed #b45309", "retry"),
        ("border:2px dotted #0369a1", "bisection"),
    ]
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Bosun report — {escape(name)}</title><style>{CSS}</style></head>
<body><main>
<header><h1>Bosun session report — {escape(name)}{'<span class="live">live</span>' if s["live"] else ""}</h1>
<div class="sub">started {when}, {len(figures["units"])} units, {len(figures["agents"])} agents;
as of {clock(s["as_of"] - started)} into the session</div></header>
{_cards(s)}
<section id="time"><h2>Where the units' time went</h2>
<p class="hint">All units' time added up ({duration(total)}), by what they were waiting for.</p>
{_mix(phase_sum, total, big=True)}{_legend(phase_legend)}</section>
<section id="graph"><h2>Dependency graph</h2><p class="hint">Left to right: a unit stands right of what it depends on.
Colour: its state now; ×N: attempts. Hover a box for its times.</p>
<div class="scroll">{graph_svg(figures["units"], figures["graph"])}</div>{_legend(state_legend)}</section>
<section id="timeline"><h2>Timeline</h2><p class="hint">One lane per agent (claimed → handed in; #N: the attempt),
the gate's runs, how many units waited for a human, and the money spent. Hover a bar for details.</p>
<div class="scroll">{timeline_svg(figures, figures.get("gate_slots", 1))}</div>{_legend(run_legend)}</section>
<section id="units"><h2>Units</h2>{_units_table(figures["units"])}{_legend(phase_legend)}</section>
<section id="agents"><h2>Agents</h2>{_agents_table(figures["agents"])}</section>
<section id="runs"><h2>The gate's runs</h2>{_runs_table(figures["runs"], started)}</section>
<section id="findings"><h2>What the checks found</h2>{_findings_table(figures["findings"], started)}</section>
<footer>Written by <code>bosun report --html</code> from .bosun/state.db.</footer>
</main></body></html>
"""
