"""What the commands that only read a session need from its plan, kept as JSON in the store.

Validating the plan means importing its pydantic declaration (~125 ms), several times what
`bosun status` does otherwise. The plan was validated when the session started (and on every
reload), so the session stores this outline of it beside its text, with the text's length and
CRC-32 (hashlib's OpenSSL alone costs milliseconds to load): an outline that was not made from
the stored text (a writer that left it behind), or that is malformed, is never used, and the text
is validated instead. Only display and lease bookkeeping read it; whatever drives agents (the
supervisor, `resume`) validates the text itself. This module imports no pydantic.
"""

from __future__ import annotations

import json
import zlib
from typing import Any, NamedTuple

VERSION = 1


class ProjectOutline(NamedTuple):  # NamedTuples, not dataclasses: `dataclasses` costs `status` ~10 ms
    """The `[project]` keys those commands read, named as on ProjectSpec."""

    base: str
    integration: str
    lease: float
    mode: str
    backend: str
    sandbox: str


class AgentOutline(NamedTuple):
    """An agent as those commands see it, named as on AgentSpec."""

    kind: str
    sandbox: str | None


class PlanOutline(NamedTuple):
    """A validated plan's outline: `project` and `agents` read like a Plan's (for sandbox.status_of)."""

    project: ProjectOutline
    agents: dict[str, AgentOutline]


def digest(text: str) -> str:
    """Which text an outline was made from. Not tamper-proofing: whoever can write the outline can
    write the text beside it, and nothing that drives an agent reads the outline."""
    data = text.encode()
    return f"{len(data)}:{zlib.crc32(data):08x}"


def outline_of(plan: Any) -> PlanOutline:
    """The outline of a validated Plan."""
    p = plan.project
    project = ProjectOutline(p.base, p.integration, float(p.lease), p.mode, p.backend, p.sandbox)
    return PlanOutline(project, {name: AgentOutline(a.kind, a.sandbox) for name, a in plan.agents.items()})


def outline_json(plan: Any, text: str) -> str:
    """What the store keeps (meta `plan_outline`) for the validated `plan` read from `text`."""
    outline = outline_of(plan)
    return json.dumps(
        {
            "version": VERSION,
            "digest": digest(text),
            "project": outline.project._asdict(),
            "agents": {name: agent._asdict() for name, agent in outline.agents.items()},
        }
    )


_PROJECT_TYPES = {"base": str, "integration": str, "lease": float, "mode": str, "backend": str, "sandbox": str}


def read_outline(stored: str | None, text: str) -> PlanOutline | None:
    """The stored outline if it was made from `text` and has every key with its type; else None."""
    if not stored:
        return None
    try:
        data = json.loads(stored)
        if data.get("version") != VERSION or data.get("digest") != digest(text):
            return None
        raw = data["project"]
        if set(raw) != set(_PROJECT_TYPES) or not all(isinstance(raw[k], t) for k, t in _PROJECT_TYPES.items()):
            return None
        agents = {}
        for name, agent in data["agents"].items():
            kind, sandbox = agent["kind"], agent["sandbox"]
            if not isinstance(kind, str) or not (sandbox is None or isinstance(sandbox, str)):
                return None
            agents[name] = AgentOutline(kind, sandbox)
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    return PlanOutline(ProjectOutline(**raw), agents)
