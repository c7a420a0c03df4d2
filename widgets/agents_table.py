"""Agents and claims: one row per agent with the unit it holds, the claim's lease (how old, how
long left, and a warning when it is about to expire), branch, commits, elapsed time, tokens and
cost where known, and whether it is busy, waiting or idle."""

from __future__ import annotations

from rich.text import Text

from bosun.widgets.keyed_table import KeyedTable

COLUMNS = ("Agent", "Unit", "Activity", "Claim lease", "Branch", "Commits", "Elapsed", "Tokens", "Cost")
WIDTHS = {
    "Unit": 14,
    "Activity": 8,
    "Claim lease": 22,
    "Branch": 22,
    "Commits": 7,
    "Elapsed": 7,
    "Tokens": 7,
    "Cost": 8,
}
"""Cells change in place every second; fixed widths keep that from re-measuring whole columns."""
EXPIRING_FRACTION = 1 / 3
"""A lease with less than this share of its length left is shown as expiring soon."""

ACTIVITY_COLOURS = {"preparing": "accent", "busy": "success", "waiting": "warning", "idle": "text-muted"}
"""Theme variables each activity is shown in."""


def duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def tokens(usage: dict | None) -> str:
    if not usage:
        return ""
    total = (usage.get("prompt_tokens") or 0) + (usage.get("completion_tokens") or 0)
    return f"{total / 1000:.1f}k" if total >= 1000 else str(total) if total else ""


def cost(usage: dict | None) -> str:
    value = (usage or {}).get("cost_usd")
    return f"${value:.3f}" if value else ""


def lease_cell(left_s: float | None, lease_s: float, colours: dict[str, str]) -> Text:
    """`12s old · 18s left`, in the warning colour once it is about to run out."""
    if left_s is None:
        return Text("")
    if left_s <= 0:
        return Text("✖ expired", style=f"bold {colours.get('error', '')}")
    text = f"{duration(lease_s - left_s)} old · {duration(left_s)} left"
    if left_s < lease_s * EXPIRING_FRACTION:
        return Text(f"⚠ {text}", style=f"bold {colours.get('warning', '')}")
    return Text(text)


class AgentsTable(KeyedTable):
    """One row per agent of the plan; the cursor's row selects the unit that agent holds. With
    `nodes` (a session on a cluster) a Node column says where each agent runs."""

    def __init__(self, nodes: bool = False, **kwargs) -> None:
        self.nodes = nodes
        columns = (*COLUMNS[:1], "Node", *COLUMNS[1:]) if nodes else COLUMNS
        super().__init__(columns, widths={**WIDTHS, "Node": 18}, **kwargs)

    def show_agents(self, rows: list[dict], commits: dict[str, int], lease_s: float) -> None:
        """`rows` as `orchestration.status.agent_rows` gives them."""
        colours = self.app.theme_variables
        shown = {}
        for row in rows:
            unit = row["unit"]
            activity = Text(row["activity"], style=colours.get(ACTIVITY_COLOURS.get(row["activity"], ""), ""))
            cells = (
                row["name"],
                unit or "",
                activity,
                lease_cell(row["lease_left_s"], lease_s, colours),
                row["branch"] or "",
                str(commits[unit]) if unit in commits else "",
                duration(row["elapsed_s"]),
                tokens(row["usage"]),
                cost(row["usage"]),
            )
            shown[row["name"]] = (cells[0], row.get("node") or "", *cells[1:]) if self.nodes else cells
        self.show(shown)
