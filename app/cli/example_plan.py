"""The commented plan `bosun init` writes, from what the repository holds: its branch as `base`,
a test command from its files as the gate, and the agent CLIs installed on this machine as agents
(a commented example agent when there are none). It validates as written."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import tomlkit

from bosun.orchestration.agents.presets import PRESETS
from bosun.orchestration.gitcmd import GitRepo
from bosun.orchestration.plan.schema import SCHEMA_FILE

DEFAULT_GATE = "python -m pytest -q"

KEY_VARIABLES = {
    "claude-code": ["ANTHROPIC_API_KEY"],
    "codex": ["OPENAI_API_KEY"],
    "aider": ["OPENAI_API_KEY"],
    "gemini-cli": ["GEMINI_API_KEY"],
    "opencode": ["OPENAI_API_KEY"],
    "qwen-code": ["OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_MODEL"],
}
"""The variables each preset's CLI reads its key (and endpoint) from, passed through by `env`."""


@dataclass(frozen=True)
class RepoFacts:
    """What `bosun init` learned from the repository and this machine."""

    base: str = "main"
    gates: tuple[tuple[str, str], ...] = ()
    """(test command, the files it was chosen from)."""
    presets: tuple[str, ...] = ()
    """The presets whose CLI is on PATH."""


def read_repository(repo: GitRepo) -> RepoFacts:
    return RepoFacts(base_branch(repo), test_commands(repo.path), installed_presets())


def base_branch(repo: GitRepo) -> str:
    """The current branch; origin's default when HEAD is detached; else "main"."""
    current = repo.run("symbolic-ref", "--quiet", "--short", "HEAD", check=False)
    if current.code == 0 and current.out.strip():
        return current.out.strip()
    remote = repo.run("symbolic-ref", "--quiet", "--short", "refs/remotes/origin/HEAD", check=False)
    if remote.code == 0 and remote.out.strip().startswith("origin/"):
        return remote.out.strip().removeprefix("origin/")
    return "main"


def test_commands(root: Path) -> tuple[tuple[str, str], ...]:
    """The test command of each kind of project the folder holds, with the files that said so."""
    found = []
    python = [n for n in ("pyproject.toml", "setup.py", "setup.cfg") if (root / n).is_file()]
    python += ["tests/*.py"] if any((root / "tests").glob("*.py")) else []
    if python:
        found.append((DEFAULT_GATE, ", ".join(python)))
    if _has_test_script(root / "package.json"):
        found.append(("npm test", "package.json's test script"))
    if (root / "go.mod").is_file():
        found.append(("go test ./...", "go.mod"))
    if (root / "Cargo.toml").is_file():
        found.append(("cargo test", "Cargo.toml"))
    return tuple(found)


def _has_test_script(path: Path) -> bool:
    try:
        script = json.loads(path.read_text()).get("scripts", {}).get("test")
    except (OSError, ValueError, AttributeError):
        return False
    return isinstance(script, str) and bool(script.strip()) and "no test specified" not in script


def installed_presets() -> tuple[str, ...]:
    """The presets whose executable is on PATH."""
    return tuple(name for name, preset in PRESETS.items() if shutil.which(preset.command[0]))


def _value(value) -> str:
    return tomlkit.item(value).as_string()


def _line(code: str, comment: str) -> str:
    """`code`, its comment lined up with the others."""
    return f"{code:<34} # {comment}\n" if len(code) < 34 else f"{code}  # {comment}\n"


def _gate_lines(facts: RepoFacts) -> str:
    if not facts.gates:
        return _line(f"gate = {_value(DEFAULT_GATE)}", "run on every merged tree; exit 0 = pass") + _line(
            "", "(no test suite was found here: put your test command in)"
        )
    command = " && ".join(c for c, _ in facts.gates)
    found = "; ".join(f"{c}: {why}" for c, why in facts.gates)
    return _line(f"gate = {_value(command)}", "run on every merged tree; exit 0 = pass") + _line("", f"(found {found})")


def _agent_lines(facts: RepoFacts) -> str:
    if not facts.presets:
        clis = ", ".join(sorted({p.command[0] for p in PRESETS.values()}))
        return (
            f"# No agent CLI was found on PATH ({clis}); install one, or write your own:\n"
            "# [agents.claude]\n"
            '# kind = "command"\n'
            '# preset = "claude-code"           # or: command = ["my-agent", "--task-file", "{task_file}"]\n'
            '# env = ["ANTHROPIC_API_KEY"]      # variables passed through; every other one is removed\n'
        )
    blocks = [
        "# The agent CLIs found on this machine (`env` names the variables passed through; every other one is removed):"
    ]
    for name in facts.presets:
        preset = PRESETS[name]
        blocks.append(
            f"[agents.{preset.command[0]}]\n"
            f"# {preset.note}\n"
            'kind = "command"\n'
            f"preset = {_value(name)}\n"
            f"env = {_value(KEY_VARIABLES.get(name, []))}\n"
        )
    return "\n".join(blocks)


def example_plan(facts: RepoFacts) -> str:
    """The plan text for a repository with these facts."""
    return f"""\
#:schema {SCHEMA_FILE.as_uri()}
# bosun.toml: the work, as units with dependencies, and the agents that do it.
# Written by `bosun init` from this repository; check it with `bosun validate`, start it with
# `bosun run`. `bosun schema` prints every key with its meaning (the line above lets editors complete them).

[project]
{_line(f"base = {_value(facts.base)}", "the branch the session starts from (this repository's)")}integration = "bosun/integration"  # the branch the gate keeps green; only Bosun moves it
{_gate_lines(facts)}gate_timeout = "10m"
max_agents = 2                     # agents at work at once
merge = "manual"                   # manual: you approve each merge; auto: merge when the gate passes
handback = "auto"                  # conflicts and gate failures go back to the same agent by themselves
max_attempts = 3                   # ...up to this many attempts in all; then you decide

{_agent_lines(facts)}
# The work: one [[units]] table per piece. Units run side by side unless depends_on orders them;
# two whose scopes overlap must be ordered.
[[units]]
id = "first-task"
title = "First task"
prompt = "Say here what to build or fix, where, and how to know it works (the agent reads this)."
# scope = ["src/module.py", "tests/test_module.py"]   # paths or globs the unit may change; any file when left out
# agent = "claude"                 # optional: any free agent when left out
timeout = "20m"

# [[units]]
# id = "second-task"
# prompt = "..."
# depends_on = ["first-task"]      # starts once first-task is merged
"""


EXAMPLE_PLAN = example_plan(RepoFacts(gates=((DEFAULT_GATE, "pyproject.toml"),), presets=("claude-code", "aider")))
"""The plan for a Python repository on `main` with Claude Code and Aider installed (the docs' example)."""
