"""Unit states and which human decision applies in which state."""

from __future__ import annotations

PENDING, READY, CLAIMED, RUNNING = "pending", "ready", "claimed", "running"
SUBMITTED, CHECKING, GATING = "submitted", "checking", "gating"
AWAITING_APPROVAL, MERGED = "awaiting_approval", "merged"
CONFLICTED, GATE_FAILED, OUT_OF_SCOPE, FAILED, CANCELLED = (
    "conflicted",
    "gate_failed",
    "out_of_scope",
    "failed",
    "cancelled",
)
SEMANTIC_CONFLICT = "semantic_conflict"  # merges cleanly, but the two sides do not hold together

ALL_STATES = (
    PENDING,
    READY,
    CLAIMED,
    RUNNING,
    SUBMITTED,
    CHECKING,
    GATING,
    AWAITING_APPROVAL,
    MERGED,
    CONFLICTED,
    SEMANTIC_CONFLICT,
    GATE_FAILED,
    OUT_OF_SCOPE,
    FAILED,
    CANCELLED,
)
SIDE_STATES = (CONFLICTED, SEMANTIC_CONFLICT, GATE_FAILED, OUT_OF_SCOPE, FAILED)
DONE_STATES = (MERGED, CANCELLED)
AGENT_STATES = (CLAIMED, RUNNING)
INTEGRATING_STATES = (SUBMITTED, CHECKING, GATING)

# The human decisions and the states each one applies to.
COMMAND_STATES: dict[str, tuple[str, ...]] = {
    "approve": (AWAITING_APPROVAL,),
    "reject": (AWAITING_APPROVAL,),
    "handback": SIDE_STATES + (AWAITING_APPROVAL,),
    "reassign": SIDE_STATES + (AWAITING_APPROVAL, READY),
    "cancel": (PENDING, READY, CLAIMED, RUNNING) + SIDE_STATES + (AWAITING_APPROVAL,),
    "revoke": (CLAIMED, RUNNING),
    "takeover": (READY, CLAIMED, RUNNING) + SIDE_STATES + (AWAITING_APPROVAL,),
    "regate": (GATE_FAILED, FAILED),  # only on the commit whose gate failed (integration/regate.py)
}

HANDBACK_REASONS = {
    CONFLICTED: "conflict",
    SEMANTIC_CONFLICT: "semantic_conflict",
    GATE_FAILED: "gate_failed",
    OUT_OF_SCOPE: "out_of_scope",
}
"""The reason a unit's task gives when it comes back from each side state (anything else: "human")."""

HUMAN = "human"
"""The owner of a unit a person took over (`bosun takeover`): a claim like an external agent's,
without a lease to keep (nobody expects a person to send heartbeats)."""


def waits_for_human(state: str, approved: int | bool = False) -> bool:
    """Whether nothing moves this unit on until a human decides (an approved unit merges by itself)."""
    return state in SIDE_STATES or (state == AWAITING_APPROVAL and not approved)
