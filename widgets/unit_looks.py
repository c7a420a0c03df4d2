"""How a unit's state reads on screen: its label, its group (which picks its colour) and its mark."""

from __future__ import annotations

from dataclasses import dataclass

STATE_LABELS = {
    "awaiting_approval": "to approve",
    "gate_failed": "gate failed",
    "out_of_scope": "out of scope",
    "semantic_conflict": "clash",
}
STATE_GROUPS = {
    "pending": "pending",
    "ready": "ready",
    "claimed": "active",
    "running": "active",
    "submitted": "integrating",
    "checking": "integrating",
    "gating": "integrating",
    "awaiting_approval": "waiting",
    "merged": "merged",
    "cancelled": "cancelled",
    "conflicted": "problem",
    "semantic_conflict": "problem",
    "gate_failed": "problem",
    "out_of_scope": "problem",
    "failed": "problem",
}
STATE_MARKS = {
    "pending": "○",
    "ready": "◌",
    "active": "●",
    "integrating": "◍",
    "waiting": "◆",
    "merged": "✔",
    "problem": "✖",
    "cancelled": "−",
}


@dataclass(frozen=True)
class UnitLook:
    """What a box shows: the unit's state, who holds (or last held) it, and whether its human has
    approved it (an approved unit still `awaiting_approval` waits for the unit ahead to land, not
    for anyone: it reads `approved`, among those on their way in)."""

    state: str
    owner: str | None = None
    approved: bool = False

    @property
    def landing(self) -> bool:
        """Approved and waiting only to land: no longer the human's."""
        return self.approved and self.state == "awaiting_approval"

    @property
    def label(self) -> str:
        return "approved" if self.landing else STATE_LABELS.get(self.state, self.state)

    @property
    def group(self) -> str:
        return "integrating" if self.landing else STATE_GROUPS.get(self.state, "pending")
