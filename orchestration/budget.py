"""Budgets: what an agent may spend, in tokens and/or US dollars, per unit, per agent and per
session (`budget = { tokens = 200000, usd = 5 }` on a unit, an agent or the project). Spend is
read from what the agents print (usage.py), while they work; an agent over a budget is stopped
and its unit waits for a human, with the spend named."""

from __future__ import annotations

from typing import Any, NamedTuple


class Budget(NamedTuple):  # not a dataclass: `bosun status --json` imports this module (report figures)
    tokens: int | None = None
    usd: float | None = None

    def exceeded_by(self, usage: dict | None) -> str | None:
        """How `usage` goes past this budget, in words, or None while it is within."""
        usage = usage or {}
        spent = (usage.get("prompt_tokens") or 0) + (usage.get("completion_tokens") or 0)
        if self.tokens is not None and spent > self.tokens:
            return f"{spent} tokens spent, budget {self.tokens}"
        cost = usage.get("cost_usd")
        if self.usd is not None and cost is not None and cost > self.usd:
            return f"${cost:.4f} spent, budget ${self.usd:g}"
        return None


def parse_budget(raw: Any) -> tuple[Budget | None, str | None]:
    """A budget table, or the problem with it."""
    if not isinstance(raw, dict) or not raw or set(raw) - {"tokens", "usd"}:
        return None, "must be a table with tokens and/or usd, e.g. { tokens = 200000, usd = 5 }"
    tokens, usd = raw.get("tokens"), raw.get("usd")
    if tokens is not None and (isinstance(tokens, bool) or not isinstance(tokens, int) or tokens < 1):
        return None, f"tokens must be a whole number above 0, not {tokens!r}"
    if usd is not None and (isinstance(usd, bool) or not isinstance(usd, (int, float)) or usd <= 0):
        return None, f"usd must be a number above 0, not {usd!r}"
    return Budget(tokens, float(usd) if usd is not None else None), None


def total(usages: list[dict | None]) -> dict:
    """Several agents' usage added up (tokens, and cost where every part knows its cost)."""
    out = {"prompt_tokens": 0, "completion_tokens": 0, "cost_usd": None}
    for usage in usages:
        if not usage:
            continue
        out["prompt_tokens"] += usage.get("prompt_tokens") or 0
        out["completion_tokens"] += usage.get("completion_tokens") or 0
        if usage.get("cost_usd") is not None:
            out["cost_usd"] = (out["cost_usd"] or 0.0) + usage["cost_usd"]
    return out
