"""The plan's keys, declared once: for each its type, default, one-line description and an example.

Validation, the JSON Schema editors complete from (`bosun schema`) and the docs' reference all
come from these models. What Bosun derives from keys (an agent's `name`, the differential
commands among `checks`) is a property or an internal field, never a key a plan may set.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from bosun.orchestration.agents.presets import PRESETS
from bosun.orchestration.budget import Budget
from bosun.orchestration.plan.check_keys import CHECKS_SAY, Check, CheckEntry, Semantic
from bosun.orchestration.plan.reach import Memory, Network
from bosun.orchestration.plan.table import Table, key
from bosun.orchestration.plan.values import (
    ID_RULE,
    ID_SHAPE,
    Branch,
    BudgetTable,
    Command,
    Duration,
    EnvName,
    EnvNames,
    Flag,
    Mounts,
    Price,
    RepoFiles,
    Resources,
    Scope,
    UnitId,
    UnitIds,
    address,
    choice,
    listed,
    text,
    told,
    whole,
)
from bosun.orchestration.semantic.findings import ALL_SEVERITY, SemanticSettings

AGENT_KINDS = ("scripted", "command", "model", "external")
SANDBOX_MODES = ("auto", "required", "off")
BACKENDS = ("local", "ray")


class ProjectSpec(Table):
    """The `[project]` table: branches, the gate and the session's policies."""

    base: Branch = key("main", "The branch the session starts from; `bosun land` moves it.", "main")
    integration: Branch = key(
        "bosun/integration", "The branch the gate keeps green; only Bosun moves it.", "bosun/integration"
    )
    gate: text() = key(
        "python -m pytest -q", "The tests, run with /bin/sh -c on every merged tree; exit 0 passes.", "npm test"
    )
    gate_timeout: Duration = key(600.0, "How long one gate run may take.", "10m")
    lease: Duration = key(60.0, "How long a claim lives without a heartbeat.", "60s")
    gate_env: EnvNames = key(
        (), "Variables passed to the gate besides PATH, HOME, LANG and TERM (names, not values).", ["CI"]
    )
    notify: text('must be a command, e.g. "curl -s -d @- https://ntfy.example/bosun"') | None = key(
        None,
        "A command told (the waiting_for_human event as JSON on stdin) whenever a unit starts waiting for you.",
        "curl -s -d @- https://ntfy.example/me",
    )
    notify_env: EnvNames = key((), "Variables passed to the notify command (names, not values).", ["NTFY_TOKEN"])
    budget: BudgetTable | None = key(
        None, "What the whole session may spend; a spent session starts nothing new.", {"tokens": 2000000, "usd": 20}
    )
    max_agents: whole(1, 1000) = key(3, "Agents at work at once.", 2)
    merge: choice("manual", "auto") = key(
        "manual", "manual: you approve each merge; auto: a unit merges when its gate passes.", "auto"
    )
    mode: choice("assign", "claim") = key(
        "assign", "assign: Bosun hands ready units out; claim: agents claim ready units themselves.", "claim"
    )
    handback: choice("auto", "manual") = key(
        "auto", "auto: conflicts and gate failures go back to the same agent by themselves; manual: to you.", "manual"
    )
    max_attempts: whole(1, 1000) = key(3, "Attempts a unit gets in all before it waits for you.", 3)
    check_entries: Annotated[tuple[CheckEntry, ...], listed(CHECKS_SAY)] = key(
        (),
        "More commands run on the merged tree after the tests, each a verdict of its own; a table entry with "
        "differential = true runs as a differential check instead.",
        ["ruff check .", {"run": "tsc --noEmit", "differential": True}],
        alias="checks",
    )
    semantic: Semantic = key(
        default_factory=lambda: SemanticSettings(ALL_SEVERITY),
        description='How each kind of semantic finding counts: "block", "warn" or "off", one word for all or a '
        "table by kind (default: contract_change warns, the rest block).",
        examples=[{"contract_change": "block"}],
    )
    sandbox: choice(*SANDBOX_MODES) = key(
        "auto", "auto: bubblewrap where it works, else unsandboxed with a warning; required; off.", "required"
    )
    setup: Annotated[tuple[text(), ...], listed("must be a list of commands")] = key(
        (),
        "Commands that prepare each new worktree before its agent starts and the gate's folder before the gate "
        "(/bin/sh, stopping at the first failure); run once per setup_key and shared read-only.",
        ["python -m venv .venv && .venv/bin/pip install -e '.[test]'"],
    )
    setup_key: RepoFiles = key(
        (),
        "Files whose content decides what setup produces: setup runs again only when one changes.",
        ["pyproject.toml", "requirements.txt"],
    )
    copy_files: RepoFiles = key(
        (), "Untracked files copied from your repository into each worktree and gate folder; never committed.",
        [".env"], alias="copy",
    )  # fmt: skip
    setup_network: Network = key(
        "host",
        'setup\'s network: "host" (package registries need it), "none", or a list of "host:port" destinations '
        "reached only through Bosun's egress proxy.",
        ["pypi.org:443", "files.pythonhosted.org:443"],
    )
    gate_network: Network = key(
        "none",
        'The gate\'s network: "none" (its own empty namespace), "host", or a list of "host:port" destinations '
        "reached only through Bosun's egress proxy.",
        ["registry.npmjs.org:443"],
    )
    gate_memory: Memory | None = key(
        None, "The gate's memory cap (a cgroup: over it the gate is killed, named in its verdict).", "4G"
    )
    gate_parallel: whole(1, 32) = key(1, "The merge queue: gate runs at once, each on the candidates ahead of it.", 2)
    batch: whole(1, 64) | None = key(
        None,
        "The merge queue: units one gate run may cover (a failure is bisected); unset, sized from the failure "
        "rate and gate length the queue observes.",
        4,
    )
    gate_retries: whole(0, 3) = key(0, "Runs again of a failed queue run before it is bisected (flaky tests).", 1)
    backend: choice(*BACKENDS) = key(
        "local", 'Where agents and gates run: "local" processes or a "ray" cluster.', "ray"
    )
    ray_address: address('an address without spaces, e.g. "127.0.0.1:6379"') | None = key(
        None, 'With backend = "ray": the cluster to join (ray.init(address=...)).', "127.0.0.1:6379"
    )
    ray_hub: address('a git address without spaces, e.g. "git://head-node/hub.git"') | None = key(
        None,
        "With the Ray backend: the hub repository as the nodes reach it (default: its path).",
        "git://head/hub.git",
    )

    @property
    def checks(self) -> tuple[str, ...]:
        """The `checks` commands that gate as commands."""
        return tuple(c.run for c in self.check_entries if not c.differential)

    @property
    def differential(self) -> tuple[str, ...]:
        """`checks` entries marked `differential = true`: run on the merge base, each side and the merge;
        only what is new in the merge counts (a semantic finding)."""
        return tuple(c.run for c in self.check_entries if c.differential)

    @model_validator(mode="after")
    def _tell_the_semantic_checks(self) -> ProjectSpec:
        """What the gate's differential checks need from the project (checks.semantic_verdict)."""
        for name in ("differential", "sandbox", "gate_network", "gate_env", "gate_timeout"):
            setattr(self.semantic, name, getattr(self, name))
        return self


def _known_agent(name: str, info: ValidationInfo) -> str:
    agents = (info.context or {}).get("agents")
    if agents is not None and name not in agents:
        listing = f" (agents: {', '.join(agents)})" if agents else " (the plan has no agents)"
        raise ValueError(f"unknown agent {name!r}{listing}")
    return name


def _existing_script(script: str, info: ValidationInfo) -> str:
    root = (info.context or {}).get("root")
    if root is not None and not (Path(root) / script).is_file():
        raise ValueError(f"no such file: {script}")
    return script


class AgentSpec(Table):
    """One `[agents.NAME]` table: who does the work and how Bosun starts it."""

    missing: ClassVar[dict[str, str]] = {"kind": f"must be one of {', '.join(AGENT_KINDS)}, not None"}

    name: SkipJsonSchema[str] = Field(description="The table's name (internal: never a key).")
    kind: choice(*AGENT_KINDS) = key(
        description="scripted (replays a script), command (a CLI), model (an OpenAI-compatible endpoint) or "
        "external (never started: joins by claiming).",
        example="command",
    )
    command: Command = key(
        (),
        "A command agent's argv; {task_file}, {prompt}, {unit}, {worktree}, {gate} (the project's gate command) "
        "are filled in.",
        ["my-agent", "--task-file", "{task_file}"],
    )
    preset: choice(*PRESETS, say=lambda v: f"unknown preset {v!r} (known: {', '.join(PRESETS)})") | None = key(
        None, "A command agent's CLI by name, instead of command.", "claude-code"
    )
    script: (
        Annotated[text('a scripted agent needs script = "path/to/script.toml"'), AfterValidator(_existing_script)]
        | None
    ) = key(None, "A scripted agent's script, relative to the plan.", "team.toml")
    env: EnvNames = key((), "Variables passed through to the agent; every other one is removed.", ["ANTHROPIC_API_KEY"])
    autocommit: Flag = key(
        False, "Commit what the agent left uncommitted when it exits (a preset's own default when left out).", True
    )
    base_url: text("a model agent needs it") | None = key(
        None, "A model agent's OpenAI-compatible endpoint.", "http://127.0.0.1:11434/v1"
    )
    model: text("a model agent needs it") | None = key(None, "A model agent's model.", "qwen2.5-coder")
    api_key_env: EnvName | None = key(
        None, "The variable holding a model agent's key (its name, never the key).", "OPENAI_API_KEY"
    )
    price_in: Price | None = key(None, "A model agent's price in USD per million prompt tokens.", 0.5)
    price_out: Price | None = key(None, "A model agent's price in USD per million completion tokens.", 1.5)
    budget: BudgetTable | None = key(
        None, "What this agent may spend over the session, all its units together.", {"usd": 5}
    )
    sandbox: choice(*SANDBOX_MODES) | None = key(None, "This agent's sandbox (default: the project's).", "off")
    network: Network | None = key(
        None,
        'The agent\'s network: "none", "host", or a list of "host:port" destinations (`*.` matches names below) '
        "reached only through Bosun's egress proxy (default: a preset's API hosts and the base URLs its env "
        'names, a model agent\'s base_url, else "none").',
        ["api.anthropic.com:443", "127.0.0.1:8787"],
    )
    memory: Memory | None = key(
        None, "The agent's memory cap (a cgroup, swap off: over it the agent is killed, named in the failure).", "4G"
    )
    mounts: Mounts = key(
        (), "Paths made visible inside the sandbox (~ is your home; :ro read-only).", ["~/.claude", "~/.codex:ro"]
    )
    resources: Resources = key(
        (),
        "With the Ray backend: what the agent's node must have (CPU defaults to 1).",
        {"GPU": 1},
        json_schema_extra=lambda schema: schema.update(default={}),  # a table in the file
    )

    @model_validator(mode="before")
    @classmethod
    def _from_preset(cls, data: Any) -> Any:
        """A preset is a command (and its autocommit) a user could have written."""
        if isinstance(data, dict) and data.get("preset") in PRESETS and "command" not in data:
            preset = PRESETS[data["preset"]]
            data = {**data, "command": preset.command, "autocommit": data.get("autocommit", preset.autocommit)}
        return data


def _prompt_say(value: Any) -> str:
    if isinstance(value, str) or value is None:
        return "missing prompt (what the agent should do)"
    return f"must be text saying what the agent should do, not {value!r}"


class UnitSpec(Table):
    """One `[[units]]` entry: a piece of work with its dependencies and file scope."""

    missing: ClassVar[dict[str, str]] = {"prompt": _prompt_say(None)}

    id: UnitId = key(description=f"The unit's id: {ID_RULE}.", example="parser")
    prompt: told(text(), _prompt_say) = key(
        description="What the agent should do.", example="Write a tokenizer in src/calc/parser.py, with tests."
    )
    title: told(str, lambda _v: "must be a string") = key(
        "",
        "A short name for the board (default: the id).",
        "Tokenizer and parser",
        json_schema_extra=lambda schema: schema.pop("default"),  # the id, not ""
    )
    depends_on: UnitIds = key((), "Units merged before this one starts.", ["parser"])
    scope: Scope | None = key(
        None,
        "Paths or globs the unit may change (* crosses folders, a folder covers what is below it); any file when "
        "left out. Units whose scopes overlap must be ordered by depends_on.",
        ["src/calc/parser.py", "tests/test_parser.py"],
    )
    agent: Annotated[text(), AfterValidator(_known_agent)] | None = key(
        None, "The agent that does it (default: any free agent).", "claude"
    )
    timeout: Duration = key(1800.0, "How long one attempt may take.", "20m")
    budget: BudgetTable | None = key(None, "What this unit may cost, every attempt together.", {"tokens": 200000})

    @model_validator(mode="before")
    @classmethod
    def _titled(cls, data: Any) -> Any:
        if isinstance(data, dict) and "title" not in data and isinstance(data.get("id"), str):
            data = {**data, "title": data["id"]}
        return data


class PlanFile(Table):
    """A whole `bosun.toml`: the project, the agents by name, and the units of work."""

    model_config = ConfigDict(title="bosun.toml")
    project: ProjectSpec = key(default_factory=ProjectSpec, description="The session's branches, gate and policies.")
    agents: dict[Annotated[str, StringConstraints(pattern=ID_SHAPE, max_length=64)], AgentSpec] = key(
        default_factory=dict,
        description="The agents, by name ([agents.NAME]); a unit may name one.",
        json_schema_extra={"additionalProperties": False},
    )
    units: list[UnitSpec] = key(description="The units of work ([[units]]), in plan order.", min_length=1)


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


__all__ = ["AgentSpec", "Budget", "Check", "Plan", "PlanFile", "ProjectSpec", "UnitSpec"]
