"""Named fault points, for the fault-injection suite (tests/test_faults.py): a process started
with BOSUN_FAULT=<name> kills itself with SIGKILL when it reaches that point — a crash exactly
there, with nothing cleaned up, flushed or rolled back. Unset (always, outside the suite) a point
costs one comparison. Agents and gates never see the variable: their environment is scrubbed."""

from __future__ import annotations

import os
import signal

ARMED = os.environ.get("BOSUN_FAULT") or None

POINTS = {
    "claim.won": "bosun claim: the compare-and-swap won, nothing prepared yet",
    "claim.prepared": "bosun claim: worktree and task file ready, the unit not yet running",
    "handout.prepared": "supervisor: worktree and task file ready, no agent started",
    "agent.spawned": "supervisor: the agent's process exists, its pid not yet written down (leftovers.py)",
    "agent.started": "supervisor: the agent runs, its start not yet recorded",
    "submit.collected": "bosun submit: the commit fetched into the user's repository, not yet submitted",
    "takeover.prepared": "takeover: the human's worktree ready, the claim not yet the human's",
    "revoke.released": "revoke: the claim released, the worktree not yet removed",
    "reset.stopped": "bosun reset: processes stopped, nothing archived yet",
    "reset.archived": "bosun reset: the session archived, the branches not yet put back",
    "merge.intent": "landing (one unit or a batch): the intent recorded, the integration branch not yet moved",
    "merge.moved": "landing (one unit or a batch): the branch moved, the units not yet recorded merged",
}
"""Every fault point and where it is; the suite injects each one."""


def fault_point(name: str) -> None:
    """Die here if this is the armed point."""
    if ARMED == name:
        os.kill(os.getpid(), signal.SIGKILL)
