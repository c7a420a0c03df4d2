"""`bosun plan "GOAL"`: the manager step of CAID. A model proposes units, dependencies and
scopes; Bosun writes them into `bosun.toml` only if the whole plan validates.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import httpx
import tomlkit

from bosun.orchestration.agents.model import AgentFailure, Usage, request_completion
from bosun.orchestration.errors import BosunError
from bosun.orchestration.gitcmd import GitRepo
from bosun.orchestration.plan import writing as plan_writing
from bosun.orchestration.plan.schema import SCHEMA_FILE
from bosun.orchestration.plan.writing import with_units

SYSTEM = """You are the manager of a team of coding agents. Split the goal into small units of work
that agents can do in parallel, each changing its own files. Answer with one JSON object only:
{"units": [{"id": "short-id", "title": "...", "prompt": "what to do, precisely",
            "depends_on": ["ids of units that must be merged first"],
            "scope": ["paths or globs this unit may change"]}]}
Ids use letters, digits, '.', '_' and '-'. Two units whose scopes overlap must be ordered by
depends_on. Scopes are relative paths inside the repository."""


@dataclass(frozen=True)
class Endpoint:
    """Where the planning model is, and the name of the variable holding its key."""

    base_url: str
    model: str
    api_key_env: str | None


def endpoint_from_plan(plan_path: Path, agent: str | None) -> Endpoint | None:
    """A model agent's endpoint from the agents table of an existing plan (which may have no units yet)."""
    if not plan_path.is_file():
        return None
    try:
        agents = tomllib.loads(plan_path.read_text()).get("agents", {})
    except tomllib.TOMLDecodeError as exc:
        raise BosunError(f"{plan_path.name}: invalid TOML: {exc}") from None
    names = [agent] if agent else [n for n, t in agents.items() if isinstance(t, dict) and t.get("kind") == "model"]
    if agent and agent not in agents:
        raise BosunError(f"{plan_path.name}: no agent '{agent}' (agents: {', '.join(agents) or 'none'})")
    for name in names:
        table = agents[name]
        if table.get("kind") != "model":
            raise BosunError(f"{plan_path.name}: agent '{name}' is {table.get('kind')!r}; planning needs a model agent")
        return Endpoint(str(table.get("base_url", "")), str(table.get("model", "")), table.get("api_key_env"))
    return None


def _toml_value(value) -> str:
    return json.dumps(value, ensure_ascii=False)


PROPOSED_KEYS = ("id", "title", "prompt", "depends_on", "scope")
"""What the planning model proposes for a unit (the other keys are the user's to add)."""


def proposed_units(units: list[dict]) -> list[dict]:
    """The proposed units with only the keys a proposal has, `depends_on` always written."""
    return [
        {k: unit.get(k, []) for k in PROPOSED_KEYS if k == "depends_on" or unit.get(k) not in (None, [])}
        for unit in units
    ]


def parse_units(text: str) -> list[dict]:
    fenced = re.search(r"```(?:json)?\s*(\{.*\})\s*```", text, re.DOTALL)
    try:
        data = json.loads(fenced.group(1) if fenced else text.strip())
    except ValueError:
        raise BosunError(f"the planning model's answer is not JSON: {text[:80].strip()!r}") from None
    units = data.get("units") if isinstance(data, dict) else None
    if not isinstance(units, list) or not units or not all(isinstance(u, dict) for u in units):
        raise BosunError('the planning model\'s answer has no "units" list')
    return units


def compose(existing: str | None, endpoint: Endpoint, units: list[dict], force: bool) -> str:
    """The new plan text: the units replaced where they were, every other table, key and comment
    of the existing plan kept as written (tables after the units too)."""
    if existing is None:
        existing = (
            f"#:schema {SCHEMA_FILE.as_uri()}\n"
            "# Written by `bosun plan`; check it with `bosun validate`.\n[project]\n"
            'gate = "python -m pytest -q"\n\n[agents.planner]\nkind = "model"\n'
            f"base_url = {_toml_value(endpoint.base_url)}\nmodel = {_toml_value(endpoint.model)}\n"
            + (f"api_key_env = {_toml_value(endpoint.api_key_env)}\n" if endpoint.api_key_env else "")
        )
    elif re.search(r"^\s*\[\[\s*units\s*\]\]", existing, re.MULTILINE) and not force:
        raise BosunError("bosun.toml already has units; --force replaces them")
    try:
        return with_units(existing, proposed_units(units))
    except tomlkit.exceptions.TOMLKitError as exc:
        raise BosunError(f"bosun.toml: invalid TOML: {exc}") from None


def propose(repo: GitRepo, goal: str, endpoint: Endpoint) -> tuple[list[dict], Usage]:
    """Ask the model for units; BosunError with one line on any failure."""
    headers = {}
    if endpoint.api_key_env:
        key = os.environ.get(endpoint.api_key_env)
        if not key:
            raise BosunError(f"the variable {endpoint.api_key_env} named by api_key_env is not set")
        headers["Authorization"] = f"Bearer {key}"
    files = [p for p in repo.run("ls-files", "-z").out.split("\0") if p][:400]
    user = f"Goal: {goal}\n\nFiles in the repository:\n" + ("\n".join(files) or "(none yet)")
    body = {
        "model": endpoint.model,
        "temperature": 0,
        "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}],
    }
    usage = Usage()
    url = endpoint.base_url.rstrip("/") + "/chat/completions"
    try:
        with httpx.Client(timeout=300) as client:
            text = request_completion(client, url, body, headers, usage, max_retries=4)
    except AgentFailure as exc:
        raise BosunError(str(exc)) from None
    return parse_units(text), usage


def write_plan(path: Path, text: str) -> None:
    """Validate the whole plan, then write it in one rename (nothing half-written)."""
    plan_writing.write_plan(path, text)
