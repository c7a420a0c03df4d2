"""`bosun doctor`'s lines for one agent: its CLI installed and its version, its key or login
where the agent will see it (a variable only through its `env` list; a login file only in the
home it gets: `.bosun/homes/AGENT` or a mount when sandboxed), or its model endpoint answering.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bosun.orchestration.doctor import BOX_FIX, Check, SandboxedAs, command_check, in_box
from bosun.orchestration.plan import AgentSpec


@dataclass(frozen=True)
class Install:
    """How a preset's CLI is installed and how it proves who the user is."""

    how: str
    keys: tuple[str, ...]  # any one of these variables is a credential
    logins: tuple[str, ...] = ()  # files under the home a login leaves


INSTALLS = {
    "claude-code": Install(
        "npm install -g @anthropic-ai/claude-code",
        ("ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN"),
        (".claude/.credentials.json",),
    ),
    "codex": Install("npm install -g @openai/codex", ("OPENAI_API_KEY", "CODEX_API_KEY"), (".codex/auth.json",)),
    "gemini-cli": Install(
        "npm install -g @google/gemini-cli", ("GEMINI_API_KEY", "GOOGLE_API_KEY"), (".gemini/oauth_creds.json",)
    ),
    "opencode": Install(
        "npm install -g opencode-ai",
        ("OPENCODE_CONFIG_CONTENT", "ANTHROPIC_API_KEY", "OPENAI_API_KEY", "OPENROUTER_API_KEY"),
        (".local/share/opencode/auth.json",),
    ),
    "qwen-code": Install("npm install -g @qwen-code/qwen-code", ("OPENAI_API_KEY",), (".qwen/oauth_creds.json",)),
    "aider": Install(
        "pipx install aider-chat (or pip install aider-chat)",
        ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "OPENROUTER_API_KEY", "DEEPSEEK_API_KEY"),
    ),
}


def agent_checks(agent: AgentSpec, repo: Path, box: SandboxedAs | None, setup: bool = False) -> Iterator[Check]:
    """The agent's program (its CLI's version, also asked in a real box when it runs in one), its
    credentials or its endpoint. `setup`: the plan's setup may make a program inside the project."""
    sandboxed = box is not None
    if agent.kind == "model":
        yield endpoint_check(agent)
        if agent.api_key_env and not os.environ.get(agent.api_key_env):
            yield Check(
                f"agent {agent.name} key",
                False,
                f"{agent.api_key_env} (its api_key_env) is not set",
                f"export {agent.api_key_env}=... before bosun run",
            )
    elif agent.kind == "command" and agent.preset in INSTALLS:
        cli = cli_check(agent, box)
        yield cli
        if cli.ok:
            yield credential_check(agent, repo, sandboxed)
    elif agent.kind == "command":
        name, key = f"agent {agent.name}", f"agents.{agent.name}.command"
        yield command_check(name, shlex.join(agent.command), key, repo, setup=setup, box=box)  # in a worktree
    elif agent.kind == "scripted":
        yield Check(f"agent {agent.name}", True, f"scripted ({agent.script}), run by Bosun's own Python")


def cli_check(agent: AgentSpec, box: SandboxedAs | None = None) -> Check:
    """The preset's program on PATH, asked for its version (in the agent's box too, with `box`)."""
    program, install = agent.command[0], INSTALLS[agent.preset or ""]
    name = f"agent {agent.name} ({agent.preset})"
    found = shutil.which(program)
    if found is None:
        return Check(name, False, f"{program} is not installed", install.how)
    try:
        done = subprocess.run(
            [found, "--version"], capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Check(name, False, f"{found} --version failed: {exc}", f"reinstall: {install.how}")
    said = (done.stdout.strip() or done.stderr.strip()).splitlines()
    if done.returncode != 0:
        return Check(name, False, f"{found} --version exited {done.returncode}", f"reinstall: {install.how}")
    if box is not None and "/" not in program and (inside := in_box(program, shlex.join(agent.command), box)):
        return Check(name, False, f"{program} ({found}) runs here but not in {box.label}: {inside}", BOX_FIX)
    return Check(name, True, f"{said[0] if said else 'no version printed'} ({found})")


def credential_check(agent: AgentSpec, repo: Path, sandboxed: bool) -> Check:
    """A key passed through the agent's `env`, or a login file in the home the agent will have."""
    install, name = INSTALLS[agent.preset or ""], f"agent {agent.name} credentials"
    codex_home = _codex_home(agent, repo, sandboxed) if agent.preset == "codex" else None
    own_key = _codex_provider_key(codex_home / "config.toml") if codex_home is not None else None
    keys = (own_key,) if own_key else install.keys  # the endpoint its config chose reads only that one
    passed = [key for key in keys if key in agent.env and os.environ.get(key)]
    if passed:
        return Check(name, True, f"{passed[0]} is set and passed through env")
    if codex_home is not None and not own_key and (codex_home / "auth.json").is_file():
        return Check(name, True, f"logged in ({codex_home / 'auth.json'})")
    logins = [login for login in install.logins if not own_key and _login_visible(agent, repo, login, sandboxed)]
    if logins:
        return Check(name, True, f"logged in (~/{logins[0]})")
    unpassed = [key for key in keys if os.environ.get(key) and key not in agent.env]
    if unpassed:
        fix = f'add "{unpassed[0]}" to agents.{agent.name}.env (only the variables listed there reach the agent)'
        return Check(name, False, f"{unpassed[0]} is set but not passed to the agent", fix)
    fix = f'export {keys[0]}=... and list it in agents.{agent.name}.env = ["{keys[0]}"]'
    if install.logins and not own_key:
        folder = install.logins[0].split("/")[0]
        fix += f', or log in with `{agent.command[0]}` and mount it: mounts = ["~/{folder}"]' if sandboxed else ""
        fix += "" if sandboxed else f", or log in once with `{agent.command[0]}`"
    return Check(name, False, "no key variable set and no login found", fix)


def _codex_home(agent: AgentSpec, repo: Path, sandboxed: bool) -> Path | None:
    """Where the agent's Codex keeps its config and login: the `CODEX_HOME` it is given (through its
    `env`, and mounted when sandboxed), else `.codex` in the home it gets, if it has a config."""
    value = os.environ.get("CODEX_HOME") if "CODEX_HOME" in agent.env else None
    if not value:
        config = _in_agents_home(agent, repo, ".codex/config.toml", sandboxed)
        return config.parent if config is not None else None
    home = Path(value).expanduser()
    if sandboxed and not any(_covers(Path(written).expanduser(), home) for written, _writable in agent.mounts):
        return None
    return home


def _covers(mount: Path, path: Path) -> bool:
    return path == mount or mount in path.parents


def _codex_provider_key(config: Path) -> str | None:
    """The variable the key of the endpoint Codex's config chose is read from (`model_provider`,
    then that `[model_providers.X]`'s `env_key`): a user's own endpoint is not OPENAI_API_KEY's."""
    import tomllib

    try:
        data = tomllib.loads(config.read_text())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    providers, chosen = data.get("model_providers"), data.get("model_provider")
    provider = providers.get(chosen) if isinstance(providers, dict) and isinstance(chosen, str) else None
    key = provider.get("env_key") if isinstance(provider, dict) else None
    return key if isinstance(key, str) and key else None


def _login_visible(agent: AgentSpec, repo: Path, login: str, sandboxed: bool) -> bool:
    return _in_agents_home(agent, repo, login, sandboxed) is not None


def _in_agents_home(agent: AgentSpec, repo: Path, relative: str, sandboxed: bool) -> Path | None:
    """Where the file at `relative` under the home the agent gets is (the user's own home, or when
    sandboxed `.bosun/homes/AGENT` or a mounted `~/...`), if it is there."""
    home = Path(os.environ.get("HOME") or "/nonexistent")
    if not sandboxed:
        return home / relative if (home / relative).is_file() else None
    if (own := repo / ".bosun" / "homes" / agent.name / relative).is_file():
        return own
    for written, _writable in agent.mounts:
        mounted = written[2:].rstrip("/") if written.startswith("~/") else None
        if mounted and (relative == mounted or relative.startswith(mounted + "/")) and (home / relative).is_file():
            return home / relative
    return None


def endpoint_check(agent: AgentSpec, timeout_s: float = 3.0) -> Check:
    """The model endpoint answers at all (any HTTP status: a 401 still proves it is there)."""
    import httpx

    name, url = f"agent {agent.name} endpoint", (agent.base_url or "").rstrip("/")
    if not url:
        return Check(name, False, "no base_url", f"set agents.{agent.name}.base_url")
    try:
        status = httpx.get(f"{url}/models", timeout=timeout_s).status_code
    except httpx.HTTPError as exc:
        return Check(
            name, False, f"{url} does not answer: {exc}", f"start the endpoint or fix agents.{agent.name}.base_url"
        )
    return Check(name, True, f"{url} answers (HTTP {status} for /models)")
