"""The report as a few lines for a terminal: the session's figures, where the time went, the
slowest units, each agent, the gate's runs and the checks' findings in one count each."""

from __future__ import annotations

from collections import Counter

from bosun.orchestration.report.fmt import duration, money, percent, tokens
from bosun.orchestration.report.spans import PHASES

SHORT = {"deps": "dependencies", "agent": "an agent", "work": "working", "queue": "queue/gate", "human": "a human"}


def summary_text(figures: dict, slowest: int = 5) -> str:
    s = figures["session"]
    units = figures["units"]
    lines = [
        f"{figures.get('name') or 'session'}: {s['merged']}/{s['units']} units merged in {duration(s['elapsed_s'])}"
        + (" (still running)" if s["live"] else ""),
        f"  attempts {s['attempts']} ({s['attempts_per_unit'] or '-'} per unit started); "
        f"gate busy {percent(s['gate_busy_pct'])} ({s['gate_runs']} runs); "
        f"waited for a human {duration(s['human_wait_s'])} ({s['human_waits']}x)",
        f"  agents worked {duration(s['agent_busy_s'])}; tokens {tokens(s['prompt_tokens'])} in, "
        f"{tokens(s['completion_tokens'])} out; cost {money(s['cost_usd'])} "
        f"({money(s['cost_per_merged_unit_usd'])} per merged unit)",
        "units' time: " + ", ".join(f"{SHORT[p]} {duration(sum(u[f'{p}_s'] for u in units))}" for p in PHASES),
    ]
    ranked = sorted(units, key=lambda u: -sum(u[f"{p}_s"] for p in PHASES if p != "deps"))[:slowest]
    if ranked:
        lines.append("slowest units (after their dependencies):")
        for u in ranked:
            parts = ", ".join(f"{SHORT[p]} {duration(u[f'{p}_s'])}" for p in PHASES[1:] if u[f"{p}_s"] >= 0.05)
            lines.append(f"  {u['id']:<18} {u['state']:<18} {u['attempts']} attempt(s); {parts or '-'}")
    lines.append("agents:")
    for a in figures["agents"]:
        lines.append(
            f"  {a['name']:<12} {a['attempts']:>3} attempt(s) on {len(a['units']):>3} unit(s), busy "
            f"{duration(a['busy_s']):>8} ({a['busy_pct']:.0f}%), cost {money(a['cost_usd'])}"
        )
    runs = figures["runs"]
    why = Counter(r["why"] for r in runs)
    verdicts = Counter(r["verdict"] for r in runs)
    lines.append(
        f"gate runs: {len(runs)} ({why['batch']} batch, {why['retry']} retry, {why['bisect']} bisect); "
        + ", ".join(f"{n} {v}" for v, n in verdicts.most_common())
        if runs
        else "gate runs: none"
    )
    found = Counter(f["kind"] for f in figures["findings"])
    lines.append(
        "findings: " + (", ".join(f"{n} {k.replace('_', ' ')}" for k, n in found.most_common()) if found else "none")
    )
    return "\n".join(lines)
