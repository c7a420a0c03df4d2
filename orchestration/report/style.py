"""The report page's stylesheet, inline: the page loads nothing from anywhere."""

PHASE_COLOURS = {
    "deps": "#cbd5e1",
    "agent": "#fbbf24",
    "work": "#3b82f6",
    "queue": "#8b5cf6",
    "human": "#ef4444",
}

CSS = """
:root { --ink: #0f172a; --muted: #64748b; --line: #e2e8f0; --panel: #ffffff; --bg: #f8fafc; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1280px; margin: 0 auto; padding: 24px 20px 48px; }
header h1 { font-size: 22px; margin: 0 0 2px; }
header .sub { color: var(--muted); }
.live { display: inline-block; background: #dbeafe; color: #1d4ed8; border-radius: 10px; padding: 0 8px;
  font-size: 12px; margin-left: 6px; }
section { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 16px 18px;
  margin-top: 18px; }
section h2 { font-size: 16px; margin: 0 0 10px; }
section p.hint { color: var(--muted); margin: -6px 0 10px; font-size: 13px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(132px, 1fr)); gap: 10px; margin-top: 16px; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 10px 14px; }
.card .value { font-size: 22px; font-weight: 650; }
.card .label { color: var(--muted); font-size: 12px; }
.scroll { overflow: auto; max-height: 75vh; border: 1px solid var(--line); border-radius: 8px; background: #fff; }
.legend { display: flex; flex-wrap: wrap; gap: 6px 16px; font-size: 12px; color: var(--muted); margin: 8px 0 0; }
.legend i { display: inline-block; width: 12px; height: 12px; border-radius: 3px; vertical-align: -2px;
  margin-right: 5px; border: 1px solid rgba(0,0,0,.15); }
.mix { display: flex; height: 12px; border-radius: 4px; overflow: hidden; background: #f1f5f9; min-width: 40px; }
.mix span { display: block; height: 100%; }
.mix.big { height: 18px; border-radius: 6px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { position: sticky; top: 0; background: #f1f5f9; font-weight: 600; z-index: 1; white-space: nowrap; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.mixcell { width: 180px; }
.share { display: flex; align-items: center; gap: 8px; }
.share .mix { flex: 1; }
tr:hover td { background: #f8fafc; }
.pill { display: inline-block; border-radius: 10px; padding: 0 8px; font-size: 12px; white-space: nowrap;
  border: 1px solid transparent; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.none { color: var(--muted); }
/* states: graph boxes and table pills */
.st-merged rect, .pill.st-merged { fill: #dcfce7; stroke: #16a34a; background: #dcfce7; color: #166534; }
.st-cancelled rect, .pill.st-cancelled { fill: #f1f5f9; stroke: #94a3b8; background: #f1f5f9; color: #475569; }
.st-pending rect, .st-ready rect, .pill.st-pending, .pill.st-ready { fill: #fff; stroke: #94a3b8;
  background: #fff; color: #334155; border-color: #cbd5e1; }
.st-claimed rect, .st-running rect, .pill.st-claimed, .pill.st-running { fill: #dbeafe; stroke: #2563eb;
  background: #dbeafe; color: #1e40af; }
.st-submitted rect, .st-checking rect, .st-gating rect, .pill.st-submitted, .pill.st-checking, .pill.st-gating {
  fill: #ede9fe; stroke: #7c3aed; background: #ede9fe; color: #5b21b6; }
.st-awaiting-approval rect, .pill.st-awaiting-approval { fill: #fef3c7; stroke: #d97706; background: #fef3c7;
  color: #92400e; }
.st-conflicted rect, .st-semantic-conflict rect, .st-gate-failed rect, .st-out-of-scope rect, .st-failed rect,
.pill.st-conflicted, .pill.st-semantic-conflict, .pill.st-gate-failed, .pill.st-out-of-scope, .pill.st-failed {
  fill: #fee2e2; stroke: #dc2626; background: #fee2e2; color: #991b1b; }
svg { display: block; font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; }
svg.graph rect { stroke-width: 1.5; }
svg.graph text { font-size: 12px; fill: #0f172a; }
svg.graph .badge { font-size: 11px; font-weight: 700; fill: #b45309; }
svg.graph .edge { fill: none; stroke: #94a3b8; stroke-width: 1.2; marker-end: url(#arrow); opacity: .8; }
svg.graph .arrow { fill: #94a3b8; }
svg.graph.crowded .edge { opacity: .35; }
svg.timeline .lane { fill: #fff; }
svg.timeline .agent-lane:nth-of-type(odd) { fill: #f8fafc; }
svg.timeline .gate-lane { fill: #faf5ff; }
svg.timeline .chart-lane { fill: #fff; }
svg.timeline .lane-name { font-size: 12px; fill: #334155; font-weight: 600; }
svg.timeline .grid { stroke: #e2e8f0; }
svg.timeline .tick { font-size: 11px; fill: #64748b; }
svg.timeline .bar rect { stroke: rgba(15,23,42,.25); stroke-width: .6; }
svg.timeline .bar text { font-size: 11px; fill: #fff; pointer-events: none; }
svg.timeline .try-submitted rect { fill: #3b82f6; }
svg.timeline .try-failed rect, svg.timeline .try-over-budget rect { fill: #ef4444; }
svg.timeline .try-working rect { fill: #93c5fd; }
svg.timeline .try-working text { fill: #1e3a8a; }
svg.timeline .bar[class*="try-"]:not(.try-submitted):not(.try-failed):not(.try-over-budget):not(.try-working) rect {
  fill: #94a3b8; }
svg.timeline .retry-try rect { stroke: #1e293b; stroke-width: 1.6; }
svg.timeline .run-passed rect { fill: #22c55e; }
svg.timeline .run-failed rect { fill: #ef4444; }
svg.timeline .run-cancelled rect { fill: #cbd5e1; }
svg.timeline .run-cancelled text { fill: #334155; }
svg.timeline .run-running rect { fill: #93c5fd; }
svg.timeline .why-batch rect { stroke: #6d28d9; stroke-width: 2; }
svg.timeline .why-retry rect { stroke: #b45309; stroke-width: 2; stroke-dasharray: 4 2; }
svg.timeline .why-bisect rect { stroke: #0369a1; stroke-width: 2; stroke-dasharray: 2 2; }
svg.timeline .chart { stroke-width: 1.5; }
svg.timeline .human-chart { fill: rgba(239,68,68,.18); stroke: #ef4444; }
svg.timeline .cost-chart { fill: rgba(16,185,129,.16); stroke: #059669; }
svg.timeline .chart-note { font-size: 11px; fill: #64748b; }
footer { color: var(--muted); font-size: 12px; margin-top: 18px; text-align: center; }
"""
