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

from bosun.orchestration.doctor import Check, command_check
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


def agent_checks(agent: AgentSpec, repo: Path, sandboxed: bool) -> Iterator[Check]:
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
        cli = cli_check(agent)
        yield cli
        if cli.ok:
            yield credential_check(agent, repo, sandboxed)
    elif agent.kind == "command":
        yield command_check(f"agent {agent.name}", shlex.join(agent.command), f"agents.{agent.name}.command")
    elif agent.kind == "scripted":
        yield Check(f"agent {agent.name}", True, f"scripted ({agent.script}), run by Bosun's own Python")


def cli_check(agent: AgentSpec) -> Check:
    """The preset's program on PATH, asked for its version."""
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
    return Check(name, True, f"{said[0] if said else 'no version printed'} ({found})")


def credential_check(agent: AgentSpec, repo: Path, sandboxed: bool) -> Check:
    """A key passed through the agent's `env`, or a login file in the home the agent will have."""
    install, name = INSTALLS[agent.preset or ""], f"agent {agent.name} credentials"
    passed = [key for key in install.keys if key in agent.env and os.environ.get(key)]
    if passed:
        return Check(name, True, f"{passed[0]} is set and passed through env")
    logins = [login for login in install.logins if _login_visible(agent, repo, login, sandboxed)]
    if logins:
        return Check(name, True, f"logged in (~/{logins[0]})")
    unpassed = [key for key in install.keys if os.environ.get(key) and key not in agent.env]
    if unpassed:
        fix = f'add "{unpassed[0]}" to agents.{agent.name}.env (only the variables listed there reach the agent)'
        return Check(name, False, f"{unpassed[0]} is set but not passed to the agent", fix)
    fix = f'export {install.keys[0]}=... and list it in agents.{agent.name}.env = ["{install.keys[0]}"]'
    if install.logins:
        folder = install.logins[0].split("/")[0]
        fix += f', or log in with `{agent.command[0]}` and mount it: mounts = ["~/{folder}"]' if sandboxed else ""
        fix += "" if sandboxed else f", or log in once with `{agent.command[0]}`"
    return Check(name, False, "no key variable set and no login found", fix)


def _login_visible(agent: AgentSpec, repo: Path, login: str, sandboxed: bool) -> bool:
    home = Path(os.environ.get("HOME") or "/nonexistent")
    if not sandboxed:
        return (home / login).is_file()
    if (repo / ".bosun" / "homes" / agent.name / login).is_file():
        return True
    for written, _writable in agent.mounts:
        mounted = written[2:].rstrip("/") if written.startswith("~/") else None
        if mounted and (login == mounted or login.startswith(mounted + "/")) and (home / login).is_file():
            return True
    return False


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
