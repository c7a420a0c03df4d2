"""Where agents and gates run: a backend. Local processes by default; a Ray
cluster with `backend = "ray"` (the `ray` extra), imported only then.

A backend starts an agent and hands back something that behaves as a `process.Child` (`wait`,
`kill`, `pid`, `log_path`); the supervisor's loop, the store, claims and the gate's invariant
are the same whichever runs the work.
"""

from __future__ import annotations

from bosun.orchestration.backends.local import LocalBackend
from bosun.orchestration.errors import BosunError


def backend_for(session):
    """The backend the session's plan names (checked when the plan was read)."""
    if session.plan.project.backend != "ray":
        return LocalBackend()
    try:
        from bosun.orchestration.backends.cluster import RayBackend
    except ImportError as exc:
        raise BosunError(f"backend = \"ray\" needs Ray: pip install 'bosun[ray]' ({exc})") from None
    return RayBackend(session)
