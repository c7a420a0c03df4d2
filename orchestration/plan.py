"""The plan file (`bosun.toml`): parsed with tomllib into typed objects, validated in full.

Validation collects every problem, each one line naming the file, line, unit or agent, and
field, so a user fixes a plan in one pass instead of one error per run.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bosun.orchestration.agents.presets import PRESETS
from bosun.orchestration.budget import Budget, parse_budget
from bosun.orchestration.errors import PlanError
from bosun.orchestration.plan_places import Problems
from bosun.orchestration.scope import normalize, scope_problem, scopes_overlap
from bosun.orchestration.semantic.findings import ALL_KINDS as KINDS
from bosun.orchestration.semantic.findings import ALL_SEVERITY as DEFAULT_SEVERITY
from bosun.orchestration.semantic.findings import SemanticSettings

SEVERITIES = ("block", "warn", "off")

AGENT_KINDS = ("scripted", "command", "model", "external")
PLACEHOLDERS = ("task_file", "prompt", "unit", "worktree")
UNIT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")


@dataclass(frozen=True)
class ProjectSpec:
    """The `[project]` table: branches, the gate and the session's policies."""

    base: str = "main"
    integration: str = "bosun/integration"
    gate: str = "python -m pytest -q"
    gate_timeout: float = 600.0
    lease: float = 60.0
    gate_env: tuple[str, ...] = ()
    notify: str | None = None
    """A command told (the event as JSON on stdin) whenever a unit starts waiting for a human."""
    notify_env: tuple[str, ...] = ()
    budget: Budget | None = None
    """What the whole session may spend."""
    max_agents: int = 3
    merge: str = "manual"
    mode: str = "assign"
    handback: str = "auto"
    max_attempts: int = 3
    checks: tuple[str, ...] = ()
    differential: tuple[str, ...] = ()
    """`checks` entries marked `differential = true`: run on the merge base, each side and the merge,
    and only what is new in the merge counts (a semantic finding), instead of gating as a command."""
    semantic: dict[str, str] = field(default_factory=lambda: SemanticSettings(DEFAULT_SEVERITY))
    """For each kind of semantic finding: "block" (the unit goes to semantic_conflict), "warn"
    (the merge waits for a human) or "off"."""
    sandbox: str = "auto"
    """"auto" (bubblewrap where it works, else unsandboxed with a warning), "required" or "off"."""
    gate_network: str = "none"
    """The gate's network: "none" (its own empty namespace) or "host"."""
    gate_parallel: int = 1
    """The merge queue: how many gate runs at once, each on top of the candidates ahead of it."""
    batch: int = 1
    """The merge queue: how many units one gate run may cover (a failure is bisected)."""
    gate_retries: int = 0
    """How many times a failed queue run is run again before it is bisected (flaky tests)."""
    backend: str = "local"
    """Where agents and gates run: "local" processes or a "ray" cluster (SPEC §12)."""
    ray_address: str | None = None
    """The Ray cluster to join (`ray.init(address=...)`): "auto", "127.0.0.1:6379", ..."""
    ray_hub: str | None = None
    """The hub repository's address as the nodes reach it (git://, ssh://); default its path."""


@dataclass(frozen=True)
class AgentSpec:
    """One `[agents.NAME]` table: who does the work and how Bosun starts it."""

    name: str
    kind: str
    command: tuple[str, ...] = ()
    preset: str | None = None
    script: str | None = None
    env: tuple[str, ...] = ()
    autocommit: bool = False
    base_url: str | None = None
    model: str | None = None
    api_key_env: str | None = None
    price_in: float | None = None
    price_out: float | None = None
    budget: Budget | None = None
    """What this agent may spend over the session, all its units together."""
    sandbox: str | None = None
    """None: the project's setting."""
    network: str | None = None
    """None: "host" for model agents and presets (they talk to an endpoint), else "none"."""
    mounts: tuple[tuple[str, bool], ...] = ()
    """(path as written, `~` for the user's home; writable) made visible inside the sandbox."""
    resources: tuple[tuple[str, float], ...] = ()
    """With the Ray backend: what the agent's node must have, e.g. (("GPU", 1.0),) or a custom
    resource a node was started with; CPU defaults to 1."""


SANDBOX_MODES = ("auto", "required", "off")
NETWORKS = ("none", "host")


def mount_problem(entry: Any) -> str | None:
    """Why a `mounts` entry is unusable, or None: `~/x`, `~/x:ro`, `/abs/path:rw`."""
    if not isinstance(entry, str) or not entry:
        return 'entries are paths such as "~/.claude" or "~/.codex:ro"'
    path = entry.rsplit(":", 1)[0] if entry.endswith((":ro", ":rw")) else entry
    if not (path.startswith("~/") or path.startswith("/")):
        return f"'{entry}': a path starting with ~/ (your home) or /"
    parts = [p for p in path[1:].split("/") if p]
    if not parts:
        return f"'{entry}': a whole home or the whole machine cannot be mounted; name the folders"
    if any(p in (".", "..") for p in parts):
        return f"'{entry}': no '.' or '..' in mounts"
    return None


def parse_mount(entry: str) -> tuple[str, bool]:
    if entry.endswith((":ro", ":rw")):
        return entry[:-3], entry.endswith(":rw")
    return entry, True


@dataclass(frozen=True)
class UnitSpec:
    """One `[[units]]` entry: a piece of work with its dependencies and file scope."""

    id: str
    prompt: str
    title: str = ""
    depends_on: tuple[str, ...] = ()
    scope: tuple[str, ...] | None = None
    agent: str | None = None
    timeout: float = 1800.0
    budget: Budget | None = None
    """What this unit may cost, every attempt together."""


@dataclass(frozen=True)
class Plan:
    """A validated plan. `root` is the folder relative paths (scripts) are read from."""

    path: Path
    project: ProjectSpec
    agents: dict[str, AgentSpec]
    units: dict[str, UnitSpec] = field(default_factory=dict)

    @property
    def root(self) -> Path:
        return self.path.parent


def parse_duration(value: Any) -> float:
    """Seconds from `90`, `"30s"`, `"10m"`, `"1h30m"` or `"250ms"`; ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, (int, float)):
        if not math.isfinite(value) or value <= 0:
            raise ValueError(value)
        return float(value)
    if not isinstance(value, str):
        raise ValueError(value)
    text = value.strip()
    if text.isdigit():
        return parse_duration(int(text))
    pieces = _DURATION.findall(text)
    if not pieces or "".join(n + u for n, u in pieces) != text:
        raise ValueError(value)
    scale = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    seconds = sum(float(n) * scale[u] for n, u in pieces)
    if seconds <= 0:
        raise ValueError(value)
    return seconds


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
    problems = Problems(path, text)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        where = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        place = f"{path.name}:{where.group(1)}" if where else path.name
        raise PlanError([f"{place}: invalid TOML: {exc}"]) from None
    for key in data:
        if key not in ("project", "agents", "units"):
            line = problems.line_of(rf"^\s*\[+\s*[\"']?{re.escape(key)}[\"']?\s*[\].]") or problems.key_line(key, None)
            problems.add("top level", f"unknown key '{key}' (known: agents, project, units)", line)
    project = _project(problems, data.get("project", {}))
    agents = _agents(problems, data.get("agents", {}), path.parent)
    units = _units(problems, data.get("units", []), agents)
    if data.get("units", []) == []:
        problems.add("units", "the plan has no units")
    _graph_checks(problems, units)
    if problems.items:
        raise PlanError(problems.items)
    return Plan(path=path, project=project, agents=agents, units=units)


def _unknown(problems: Problems, table: dict, known: set[str], where: str, header: int | None) -> None:
    for key in table:
        if key not in known:
            line = problems.key_line(key, header) if header else None
            problems.add(where, f"unknown key '{key}' (known: {', '.join(sorted(known))})", line or header)


def _project(problems: Problems, raw: Any) -> ProjectSpec:
    if not isinstance(raw, dict):
        problems.add("project", "must be a table")
        return ProjectSpec()
    start = problems.line_of(r"^\s*\[\s*project\s*\]")
    known = set(ProjectSpec.__dataclass_fields__)
    _unknown(problems, raw, known, "project", start)
    values: dict[str, Any] = {}

    def bad(key: str, what: str) -> None:
        problems.add(f"project.{key}", what, (problems.key_line(key, start) if start else None) or start)

    for key in ("base", "integration", "gate"):
        if key in raw:
            value = raw[key]
            if not isinstance(value, str) or not value.strip():
                bad(key, "must be a non-empty string")
            elif key != "gate" and not _ref_name_ok(value):
                bad(key, f"'{value}' is not a valid branch name")
            else:
                values[key] = value
    for key, choices in (
        ("merge", ("manual", "auto")),
        ("mode", ("assign", "claim")),
        ("handback", ("auto", "manual")),
    ):
        if key in raw:
            if raw[key] in choices:
                values[key] = raw[key]
            else:
                bad(key, f"must be one of {', '.join(choices)}, not {raw[key]!r}")
    for key in ("max_agents", "max_attempts"):
        if key in raw:
            value = raw[key]
            if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 1000:
                values[key] = value
            else:
                bad(key, f"must be a whole number from 1 to 1000, not {value!r}")
    for key, low, high in (("gate_parallel", 1, 32), ("batch", 1, 64), ("gate_retries", 0, 3)):
        if key in raw:
            value = raw[key]
            if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
                values[key] = value
            else:
                bad(key, f"must be a whole number from {low} to {high}, not {value!r}")
    for key in ("gate_timeout", "lease"):
        if key in raw:
            try:
                values[key] = parse_duration(raw[key])
            except ValueError:
                bad(key, f'bad duration {raw[key]!r} (use e.g. 90, "30s", "10m", "1h")')
    for key in ("gate_env", "notify_env"):
        if key in raw:
            env = _env_list(raw[key])
            if env is None:
                bad(key, "must be a list of environment variable names")
            else:
                values[key] = env
    if "notify" in raw:
        if isinstance(raw["notify"], str) and raw["notify"].strip():
            values["notify"] = raw["notify"]
        else:
            bad("notify", 'must be a command, e.g. "curl -s -d @- https://ntfy.example/bosun"')
    if "budget" in raw:
        values["budget"], problem = parse_budget(raw["budget"])
        if problem:
            bad("budget", problem)
    if "checks" in raw:
        checks = raw["checks"]
        if isinstance(checks, list):
            plain, differential = _checks(checks, bad)
            values["checks"], values["differential"] = plain, differential
        else:
            bad("checks", 'must be a list of commands, e.g. ["ruff check .", "mypy src"]')
    if "semantic" in raw:
        values["semantic"] = _semantic(raw["semantic"], bad)
    values["semantic"] = SemanticSettings(values.get("semantic") or DEFAULT_SEVERITY)
    for key, choices in (("sandbox", SANDBOX_MODES), ("gate_network", NETWORKS)):
        if key in raw:
            if raw[key] in choices:
                values[key] = raw[key]
            else:
                bad(key, f"must be one of {', '.join(choices)}, not {raw[key]!r}")
    _backend(raw, values, bad)
    spec = ProjectSpec(**values)
    for key in ("differential", "sandbox", "gate_network", "gate_env", "gate_timeout"):  # what the gate's
        setattr(spec.semantic, key, getattr(spec, key))  # differential checks need (checks.semantic_verdict)
    if spec.base == spec.integration:
        bad("integration", "must differ from the base branch")
    return spec


BACKENDS = ("local", "ray")


def _backend(raw: dict, values: dict[str, Any], bad) -> None:
    """`backend`, and `ray_address` / `ray_hub`, which only a Ray backend may have."""
    backend = raw.get("backend", "local")
    if backend not in BACKENDS:
        bad("backend", f"must be one of {', '.join(BACKENDS)}, not {backend!r}")
        return
    values["backend"] = backend
    for key in ("ray_address", "ray_hub"):
        if key not in raw:
            continue
        value = raw[key]
        if backend != "ray":
            bad(key, f'only applies with backend = "ray" (this plan\'s backend is {backend!r})')
        elif not isinstance(value, str) or not value.strip() or any(c.isspace() for c in value):
            bad(
                key,
                'must be an address without spaces, e.g. "127.0.0.1:6379"'
                if key == "ray_address"
                else 'must be a git address without spaces, e.g. "git://head-node/hub.git"',
            )
        else:
            values[key] = value
    if backend == "ray" and "ray_address" not in raw:
        bad("ray_address", 'backend = "ray" needs ray_address, e.g. "127.0.0.1:6379" or "auto"')


def _checks(checks: list, bad) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """`checks` entries: a command, or `{ run = "tsc --noEmit", differential = true }` (run on the
    base, both sides and the merge; what only the merge has is a finding)."""
    plain: list[str] = []
    differential: list[str] = []
    for index, entry in enumerate(checks):
        if isinstance(entry, str) and entry.strip():
            plain.append(entry)
        elif isinstance(entry, dict):
            unknown = sorted(set(entry) - {"run", "differential"})
            run, diff = entry.get("run"), entry.get("differential", False)
            if unknown:
                bad(f"checks[{index}].{unknown[0]}", 'unknown key (a check is { run = "...", differential = true })')
            elif not isinstance(run, str) or not run.strip():
                bad(f"checks[{index}].run", 'must be a command, e.g. { run = "tsc --noEmit", differential = true }')
            elif not isinstance(diff, bool):
                bad(f"checks[{index}].differential", f"must be true or false, not {diff!r}")
            else:
                (differential if diff else plain).append(run)
        else:
            bad(
                "checks",
                'must be a list of commands, e.g. ["ruff check .", "mypy src"] or '
                '{ run = "tsc --noEmit", differential = true }',
            )
    return tuple(plain), tuple(differential)


def _semantic(raw: Any, bad) -> dict[str, str]:
    """`semantic = "off"`, or a table giving some kinds of finding their own severity."""
    severity = dict(DEFAULT_SEVERITY)
    if raw in SEVERITIES:
        return dict.fromkeys(KINDS, raw)
    if not isinstance(raw, dict):
        bad("semantic", f'must be "block", "warn", "off" or a table of those by kind ({", ".join(KINDS)})')
        return severity
    for kind, value in raw.items():
        if kind not in KINDS:
            bad(f"semantic.{kind}", f"unknown kind of finding (known: {', '.join(KINDS)})")
        elif value not in SEVERITIES:
            bad(f"semantic.{kind}", f'must be "block", "warn" or "off", not {value!r}')
        else:
            severity[kind] = value
    return severity


def _ref_name_ok(name: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z0-9._/-]+", name)) and not (
        ".." in name
        or name.startswith(("/", "-", "."))
        or name.endswith(("/", ".lock", "."))
        or "//" in name
        or "/." in name
    )


def _env_list(value: Any) -> tuple[str, ...] | None:
    if not isinstance(value, list) or not all(isinstance(v, str) and ENV_NAME.match(v) for v in value):
        return None
    return tuple(value)


def _agents(problems: Problems, raw: Any, root: Path) -> dict[str, AgentSpec]:
    if not isinstance(raw, dict):
        problems.add("agents", "must be a table of [agents.NAME] tables")
        return {}
    agents: dict[str, AgentSpec] = {}
    known = {
        "kind",
        "command",
        "preset",
        "script",
        "env",
        "autocommit",
        "base_url",
        "model",
        "api_key_env",
        "price_in",
        "price_out",
        "sandbox",
        "network",
        "mounts",
        "budget",
        "resources",
    }
    for name, table in raw.items():
        line = problems.line_of(rf"^\s*\[\s*agents\s*\.\s*[\"']?{re.escape(name)}[\"']?\s*\]")
        where = f"agent '{name}'"
        if not UNIT_ID.match(name):
            problems.add(where, "agent names use letters, digits, '.', '_' and '-'", line)
            continue
        if not isinstance(table, dict):
            problems.add(where, "must be a table", line)
            continue
        _unknown(problems, table, known, where, line)

        def at(key: str, header: int | None = line) -> int | None:
            return (problems.key_line(key, header) if header else None) or header

        kind = table.get("kind")
        if kind not in AGENT_KINDS:
            problems.add(f"{where}, kind", f"must be one of {', '.join(AGENT_KINDS)}, not {kind!r}", at("kind"))
            continue
        env = _env_list(table.get("env", []))
        if env is None:
            problems.add(f"{where}, env", "must be a list of environment variable names", at("env"))
            env = ()
        budget = None
        if "budget" in table:
            budget, problem = parse_budget(table["budget"])
            if problem:
                problems.add(f"{where}, budget", problem, at("budget"))
        spec = AgentSpec(
            name=name,
            kind=kind,
            env=env,
            autocommit=bool(table.get("autocommit", False)),
            budget=budget,
            **_isolation(problems, table, where, at),
        )
        if kind == "scripted":
            script = table.get("script")
            if not isinstance(script, str) or not script:
                problems.add(f"{where}, script", 'a scripted agent needs script = "path/to/script.toml"', at("script"))
            elif not (root / script).is_file():
                problems.add(f"{where}, script", f"no such file: {script}", at("script"))
            spec = AgentSpec(**{**spec.__dict__, "script": script if isinstance(script, str) else None})
        elif kind == "command":
            spec = _command_agent(problems, spec, table, where, at)
        elif kind == "model":
            for key in ("base_url", "model"):
                if not isinstance(table.get(key), str) or not table.get(key):
                    problems.add(f"{where}, {key}", "a model agent needs it", at(key))
            api_key_env = table.get("api_key_env")
            if api_key_env is not None and not (isinstance(api_key_env, str) and ENV_NAME.match(api_key_env)):
                problems.add(f"{where}, api_key_env", "must name an environment variable", at("api_key_env"))
            prices = {}
            for key in ("price_in", "price_out"):
                value = table.get(key)
                if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0):
                    problems.add(f"{where}, {key}", "must be a number of USD per million tokens, 0 or more", at(key))
                elif value is not None:
                    prices[key] = float(value)
            spec = AgentSpec(
                **{
                    **spec.__dict__,
                    "base_url": table.get("base_url"),
                    "model": table.get("model"),
                    "api_key_env": api_key_env,
                    **prices,
                }
            )
        agents[name] = spec
    return agents


def _isolation(problems: Problems, table: dict, where: str, at) -> dict[str, Any]:
    """An agent's `sandbox`, `network` and `mounts`, checked."""
    values: dict[str, Any] = {}
    for key, choices in (("sandbox", SANDBOX_MODES), ("network", NETWORKS)):
        if key in table:
            if table[key] in choices:
                values[key] = table[key]
            else:
                problems.add(f"{where}, {key}", f"must be one of {', '.join(choices)}, not {table[key]!r}", at(key))
    if "mounts" in table:
        mounts = table["mounts"]
        if not isinstance(mounts, list):
            problems.add(f"{where}, mounts", 'must be a list of paths, e.g. ["~/.claude", "~/.codex:ro"]', at("mounts"))
        else:
            for entry in mounts:
                if (why := mount_problem(entry)) is not None:
                    problems.add(f"{where}, mounts", why, at("mounts"))
            values["mounts"] = tuple(parse_mount(e) for e in mounts if mount_problem(e) is None)
    if "resources" in table:
        resources = table["resources"]
        if not isinstance(resources, dict) or not all(
            isinstance(k, str) and k and isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0
            for k, v in resources.items()
        ):
            problems.add(
                f"{where}, resources",
                "must be a table of names and amounts, e.g. { GPU = 1 } or { claude_cli = 1 }",
                at("resources"),
            )
        else:
            values["resources"] = tuple((k, float(v)) for k, v in resources.items())
    return values


def _command_agent(problems: Problems, spec: AgentSpec, table: dict, where: str, at) -> AgentSpec:
    preset, command = table.get("preset"), table.get("command")
    if (preset is None) == (command is None):
        problems.add(where, "a command agent needs exactly one of preset or command", at("command"))
        return spec
    autocommit = spec.autocommit
    if preset is not None:
        if preset not in PRESETS:
            problems.add(f"{where}, preset", f"unknown preset {preset!r} (known: {', '.join(PRESETS)})", at("preset"))
            return spec
        command = list(PRESETS[preset].command)
        autocommit = table.get("autocommit", PRESETS[preset].autocommit)
    if not isinstance(command, list) or not command or not all(isinstance(a, str) for a in command):
        problems.add(f"{where}, command", "must be a non-empty list of strings", at("command"))
        return spec
    for arg in command:
        for name in re.findall(r"\{([^{}]*)\}", arg):
            if name not in PLACEHOLDERS:
                problems.add(
                    f"{where}, command",
                    f"unknown placeholder {{{name}}} (known: " + ", ".join("{" + p + "}" for p in PLACEHOLDERS) + ")",
                    at("command"),
                )
    return AgentSpec(**{**spec.__dict__, "command": tuple(command), "preset": preset, "autocommit": bool(autocommit)})


def _units(problems: Problems, raw: Any, agents: dict[str, AgentSpec]) -> dict[str, UnitSpec]:
    if not isinstance(raw, list):
        problems.add("units", "must be an array of [[units]] tables")
        return {}
    units: dict[str, UnitSpec] = {}
    known = set(UnitSpec.__dataclass_fields__)
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

        def at(key: str, header: int | None = header, line: int | None = line) -> int | None:
            return (problems.key_line(key, header) if header else None) or line

        where = f"unit '{unit_id}'" if isinstance(unit_id, str) else f"units[{index}]"
        if not isinstance(table, dict):
            problems.add(where, "must be a table")
            continue
        _unknown(problems, table, known, where, header)
        if unit_id is None:
            problems.add(f"{where}, id", "missing id", line)
            continue
        if not isinstance(unit_id, str) or not UNIT_ID.match(unit_id):
            problems.add(f"{where}, id", "ids use letters, digits, '.', '_' and '-' (at most 64)", line)
            continue
        if unit_id in units:
            problems.add(f"{where}, id", f"duplicate id '{unit_id}'", line)
            continue
        prompt = table.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            problems.add(f"{where}, prompt", "missing prompt (what the agent should do)", at("prompt"))
        title = table.get("title", unit_id)
        if not isinstance(title, str):
            problems.add(f"{where}, title", "must be a string", at("title"))
            title = unit_id
        deps = table.get("depends_on", [])
        if not isinstance(deps, list) or not all(isinstance(d, str) for d in deps):
            problems.add(f"{where}, depends_on", "must be a list of unit ids", at("depends_on"))
            deps = []
        scope = table.get("scope")
        if scope is not None:
            if not isinstance(scope, list) or not scope:
                problems.add(f"{where}, scope", "must be a non-empty list of paths or globs", at("scope"))
                scope = None
            else:
                for entry in scope:
                    if (why := scope_problem(entry)) is not None:
                        problems.add(f"{where}, scope", why, at("scope"))
                scope = tuple(normalize(e) for e in scope if scope_problem(e) is None) or None
        agent = table.get("agent")
        if agent is not None and agent not in agents:
            problems.add(
                f"{where}, agent",
                f"unknown agent {agent!r}"
                + (f" (agents: {', '.join(agents)})" if agents else " (the plan has no agents)"),
                at("agent"),
            )
        timeout = 1800.0
        if "timeout" in table:
            try:
                timeout = parse_duration(table["timeout"])
            except ValueError:
                problems.add(f"{where}, timeout", f'bad duration {table["timeout"]!r} (use e.g. "20m")', at("timeout"))
        budget = None
        if "budget" in table:
            budget, problem = parse_budget(table["budget"])
            if problem:
                problems.add(f"{where}, budget", problem, at("budget"))
        problems.depends_line[unit_id] = at("depends_on")
        units[unit_id] = UnitSpec(
            id=unit_id,
            prompt=prompt if isinstance(prompt, str) else "",
            title=title,
            depends_on=tuple(deps),
            scope=scope,
            agent=agent if isinstance(agent, str) else None,
            timeout=timeout,
            budget=budget,
        )
    return units


def _graph_checks(problems: Problems, units: dict[str, UnitSpec]) -> None:
    # Plain dicts, not networkx: commands that only load a plan (status, heartbeat) start faster.
    dependents: dict[str, list[str]] = {u: [] for u in units}
    for unit in units.values():
        line = problems.depends_line.get(unit.id)
        for dep in unit.depends_on:
            if dep not in units:
                problems.add(f"unit '{unit.id}', depends_on", f"unknown unit '{dep}'", line)
            elif dep == unit.id:
                problems.add(f"unit '{unit.id}', depends_on", "a unit cannot depend on itself", line)
            else:
                dependents[dep].append(unit.id)
    cycle = _first_cycle(dependents)
    if cycle:
        path = " -> ".join(cycle + [cycle[0]])
        first = cycle[1]
        problems.add(f"unit '{first}', depends_on", f"dependency cycle: {path}", problems.depends_line.get(first))
        return
    ancestors = _ancestors(units)
    scoped = [u for u in units.values() if u.scope]
    for i, a in enumerate(scoped):
        for b in scoped[i + 1 :]:
            if a.id in ancestors[b.id] or b.id in ancestors[a.id]:
                continue
            if (pair := scopes_overlap(a.scope, b.scope)) is not None:
                problems.add(
                    f"units '{a.id}' and '{b.id}', scope",
                    f"'{pair[0]}' and '{pair[1]}' overlap and no dependency orders the two units "
                    "(they would collide: add depends_on or narrow a scope)",
                )


def _first_cycle(dependents: dict[str, list[str]]) -> list[str] | None:
    """The first cycle a depth-first walk in plan order meets, from the unit it entered it by."""
    done: set[str] = set()
    for start in dependents:
        if start in done:
            continue
        path, on_path, stack = [start], {start}, [iter(dependents[start])]
        while stack:
            step = next(stack[-1], None)
            if step is None:
                on_path.discard(path[-1])
                done.add(path.pop())
                stack.pop()
            elif step in on_path:
                return path[path.index(step) :]
            elif step not in done:
                path.append(step)
                on_path.add(step)
                stack.append(iter(dependents[step]))
    return None


def _ancestors(units: dict[str, UnitSpec]) -> dict[str, set[str]]:
    """Every unit's transitive dependencies (the plan has no cycle by now), without recursion."""
    found: dict[str, set[str]] = {}
    for start in units:
        stack = [start]
        while stack:
            unit_id = stack[-1]
            deps = [d for d in units[unit_id].depends_on if d in units and d != unit_id]
            missing = [d for d in deps if d not in found]
            if missing:
                stack.extend(missing)
                continue
            stack.pop()
            found[unit_id] = set(deps).union(*(found[d] for d in deps))
    return found
