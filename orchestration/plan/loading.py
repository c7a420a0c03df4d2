"""Reading a plan: TOML parsed with tomllib, each table checked against its declaration (keys.py)
plus the rules that span keys (a model agent needs an endpoint, a Ray backend an address), then
the checks across units. Every problem is collected, each one line naming the file, line, unit
or agent, and key, so a user fixes a plan in one pass instead of one error per run.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bosun.orchestration.errors import PlanError
from bosun.orchestration.plan.graph_checks import graph_checks
from bosun.orchestration.plan.keys import BACKENDS, AgentSpec, Plan, PlanFile, ProjectSpec, UnitSpec
from bosun.orchestration.plan.places import Problems
from bosun.orchestration.plan.tables import Place, Rule, check_table, file_keys, valid_part
from bosun.orchestration.plan.values import ID_RULE, UNIT_ID


def load_plan(path: Path) -> Plan:
    """Read and validate a plan; raises PlanError listing every problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PlanError([f"{path}: no such plan file (bosun init writes an example)"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanError([f"{path}: cannot read the plan: {exc}"]) from None
    return parse_plan(text, path)


def parse_plan(text: str, path: Path) -> Plan:
    """Validate the plan `text` (read from `path`); raises PlanError listing every problem."""
    problems = Problems(path, text)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        where = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        place = f"{path.name}:{where.group(1)}" if where else path.name
        raise PlanError([f"{place}: invalid TOML: {exc}"]) from None
    for key in data:
        if key not in file_keys(PlanFile):
            line = problems.line_of(rf"^\s*\[+\s*[\"']?{re.escape(key)}[\"']?\s*[\].]") or problems.key_line(key, None)
            problems.add("top level", f"unknown key '{key}' (known: {', '.join(sorted(file_keys(PlanFile)))})", line)
    project = _project(problems, data.get("project", {}))
    agents = _agents(problems, data.get("agents", {}), path.parent)
    named = data.get("agents") if isinstance(data.get("agents"), dict) else {}
    names = tuple(n for n, t in named.items() if UNIT_ID.match(n) and isinstance(t, dict))
    units = _units(problems, data.get("units", []), names)
    if data.get("units", []) == []:
        problems.add("units", "the plan has no units")
    graph_checks(problems, units)
    if problems.items:
        raise PlanError(problems.items)
    return Plan(path=path, project=project, agents=agents, units=units)


def _project(problems: Problems, raw: Any) -> ProjectSpec:
    if not isinstance(raw, dict):
        problems.add("project", "must be a table")
        return ProjectSpec()
    header = problems.line_of(r"^\s*\[\s*project\s*\]")
    place = Place(lambda path: f"project.{path}" if path else "project", header, header)
    spec = check_table(problems, ProjectSpec, raw, place, rules=_project_rules(raw))
    return spec or ProjectSpec()


def _project_rules(raw: dict) -> Iterator[Rule]:
    """What no single key can say: two branches that must differ, keys only a Ray backend has."""
    fields = ProjectSpec.model_fields
    if raw.get("base", fields["base"].default) == raw.get("integration", fields["integration"].default):
        yield "integration", "integration", "must differ from the base branch"
    backend = raw.get("backend", fields["backend"].default)
    if backend not in BACKENDS:
        return
    for key in ("ray_address", "ray_hub"):
        if key in raw and backend != "ray":
            yield key, key, f'only applies with backend = "ray" (this plan\'s backend is {backend!r})'
    if backend == "ray" and "ray_address" not in raw:
        yield "ray_address", "ray_address", 'backend = "ray" needs ray_address, e.g. "127.0.0.1:6379" or "auto"'


def _agents(problems: Problems, raw: Any, root: Path) -> dict[str, AgentSpec]:
    if not isinstance(raw, dict):
        problems.add("agents", "must be a table of [agents.NAME] tables")
        return {}
    agents: dict[str, AgentSpec] = {}
    for name, table in raw.items():
        line = problems.line_of(rf"^\s*\[\s*agents\s*\.\s*[\"']?{re.escape(name)}[\"']?\s*\]")
        where = f"agent '{name}'"
        if not UNIT_ID.match(name):
            problems.add(where, f"agent names use {ID_RULE}", line)
            continue
        if not isinstance(table, dict):
            problems.add(where, "must be a table", line)
            continue
        place = Place(lambda path, where=where: f"{where}, {path}" if path else where, line, line)
        spec = check_table(problems, AgentSpec, table, place, {"root": root}, {"name": name}, rules=_agent_rules(table))
        if spec is not None:
            agents[name] = spec
    return agents


def _agent_rules(raw: dict) -> Iterator[Rule]:
    """What each kind of agent needs besides its keys' own checks."""
    kind = raw.get("kind")
    if kind == "scripted" and "script" not in raw:
        yield "script", "script", 'a scripted agent needs script = "path/to/script.toml"'
    elif kind == "command" and ("preset" in raw) == ("command" in raw):
        yield "command", None, "a command agent needs exactly one of preset or command"
    elif kind == "model":
        for key in ("base_url", "model"):
            if key not in raw:
                yield key, key, "a model agent needs it"


def _units(problems: Problems, raw: Any, agents: tuple[str, ...]) -> dict[str, UnitSpec]:
    if not isinstance(raw, list):
        problems.add("units", "must be an array of [[units]] tables")
        return {}
    units: dict[str, UnitSpec] = {}
    # `[[units]]` headers in order, when every unit is written as one (not an inline array).
    headers = [n for n in problems.headers if re.match(r"^\s*\[\[\s*units\s*\]\]", problems.lines[n - 1])]
    if len(headers) != len(raw):
        headers = [None] * len(raw)
    for index, (table, header) in enumerate(zip(raw, headers)):
        unit_id = table.get("id") if isinstance(table, dict) else None
        if header is not None:
            line = problems.key_line("id", header) or header
        elif isinstance(unit_id, str):
            line = problems.line_of(rf"^\s*id\s*=\s*[\"']{re.escape(unit_id)}[\"']")
        else:
            line = None
        where = f"unit '{unit_id}'" if isinstance(unit_id, str) else f"units[{index}]"
        if not isinstance(table, dict):
            problems.add(where, "must be a table")
        elif unit_id is None:
            problems.add(f"{where}, id", "missing id", line)
        elif not isinstance(unit_id, str) or not UNIT_ID.match(unit_id):
            problems.add(f"{where}, id", f"ids use {ID_RULE}", line)
        elif unit_id in units:
            problems.add(f"{where}, id", f"duplicate id '{unit_id}'", line)
        else:
            place = Place(lambda path, where=where: f"{where}, {path}" if path else where, header, line)
            problems.depends_line[unit_id] = (problems.key_line("depends_on", header) if header else None) or line
            spec = check_table(problems, UnitSpec, table, place, {"agents": agents})
            units[unit_id] = spec or _partial_unit(table)
    return units


def _partial_unit(table: dict) -> UnitSpec:
    """A unit with problems, as far as the checks across units need it (its valid dependencies and scope)."""
    return UnitSpec.model_construct(id=table["id"], **valid_part(UnitSpec, table, ("depends_on", "scope")))
