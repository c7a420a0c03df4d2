"""Command templates for the coding-agent CLIs people already use.

Each preset is a plain `command` a user could have written; `autocommit` makes Bosun commit
what the CLI left uncommitted when it exits, since not every CLI commits by itself.
The environment each CLI needs (its API key, its endpoint) is passed only through the agent's
`env` list. Each asks for the CLI's structured stream, which `usage.py` reads tokens and cost
from. Every preset turns its CLI's own permission prompts off, so it can run the project's
build and tests: Bosun's sandbox is what confines it (unsandboxed, Bosun says so in the agent's
log). Every preset is run with its real CLI, at the version .ci/run pins, by
tests/test_cli_*.py (README: Coding-agent CLIs).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Preset:
    """A command template with the plan's placeholders."""

    command: tuple[str, ...]
    autocommit: bool
    note: str
    env: tuple[tuple[str, str], ...] = ()
    """Defaults the CLI runs with (its calls home turned off); a variable the agent's `env` passes wins."""


PRESETS: dict[str, Preset] = {
    "claude-code": Preset(
        (
            "claude",
            "-p",
            "{prompt}",
            "--output-format",
            "stream-json",
            "--verbose",
            "--permission-mode",
            "bypassPermissions",
        ),
        True,
        "Claude Code in print mode, its permission prompts off (it may run the project's tests) and "
        "confined by Bosun's sandbox; pass ANTHROPIC_API_KEY (and ANTHROPIC_BASE_URL) through env",
        # IS_SANDBOX: Claude Code refuses bypassPermissions as root unless told it is in a sandbox.
        (("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1"), ("DISABLE_AUTOUPDATER", "1"), ("IS_SANDBOX", "1")),
    ),
    "codex": Preset(
        ("codex", "exec", "--json", "--sandbox", "danger-full-access", "--skip-git-repo-check", "{prompt}"),
        True,
        "OpenAI Codex CLI, non-interactive, confined by Bosun's sandbox rather than its own (which "
        "cannot write there); pass its provider's key through env, its config by mounting ~/.codex",
    ),
    "aider": Preset(
        (
            "aider",
            "--yes-always",
            "--no-stream",
            "--no-check-update",
            "--no-show-model-warnings",
            "--analytics-disable",
            "--no-gitignore",
            "--no-pretty",
            # Aider has no shell tool under --yes-always (it declines the commands it suggests):
            # it runs the project's gate command after each edit and sends a failure back to the model.
            "--test-cmd",
            "{gate}",
            "--auto-test",
            "--message",
            "{prompt}",
        ),
        False,
        "Aider commits its own edits and runs the project's gate command after each edit (a failure goes "
        "back to the model, up to 3 times), confined by Bosun's sandbox; pass its key and settings "
        "(AIDER_MODEL, OPENAI_API_BASE) through env",
    ),
    "gemini-cli": Preset(
        ("gemini", "--yolo", "--skip-trust", "--output-format", "stream-json", "-p", "{prompt}"),
        True,
        "Gemini CLI, non-interactive, the fresh worktree trusted; pass GEMINI_API_KEY (and "
        "GOOGLE_GEMINI_BASE_URL) through env, its settings by mounting ~/.gemini",
    ),
    "opencode": Preset(
        ("opencode", "run", "--format", "json", "{prompt}"),
        True,
        "opencode's non-interactive run; pass its provider's key through env, its config as "
        "OPENCODE_CONFIG_CONTENT or by mounting ~/.config/opencode",
        tuple(
            (f"OPENCODE_DISABLE_{name}", "1")
            for name in ("MODELS_FETCH", "AUTOUPDATE", "DEFAULT_PLUGINS", "LSP_DOWNLOAD", "SHARE")
        ),
    ),
    "qwen-code": Preset(
        ("qwen", "--yolo", "--output-format", "stream-json", "{prompt}"),
        True,
        "Qwen Code, non-interactive; pass OPENAI_API_KEY, OPENAI_BASE_URL, OPENAI_MODEL through env",
        (("QWEN_USAGE_STATISTICS_ENABLED", "false"),),
    ),
}


VENDOR_HOSTS: dict[str, tuple[str, ...]] = {
    "claude-code": ("api.anthropic.com:443",),
    "codex": ("api.openai.com:443", "chatgpt.com:443", "auth.openai.com:443"),
    "aider": ("api.openai.com:443", "api.anthropic.com:443"),
    "gemini-cli": (
        "generativelanguage.googleapis.com:443",
        "cloudcode-pa.googleapis.com:443",
        "oauth2.googleapis.com:443",
    ),
    "opencode": ("api.anthropic.com:443", "api.openai.com:443"),
    "qwen-code": ("dashscope.aliyuncs.com:443", "dashscope-intl.aliyuncs.com:443", "chat.qwen.ai:443"),
}
"""Each preset's default network (with the endpoints its env points it at): its vendor's API hosts."""

_URL = re.compile(r"https?://[^\s\"'<>`]+")


def pointed_at(values: dict[str, str]) -> list[str]:
    """The http(s) URLs a CLI is pointed at through its environment: base URL variables
    (ANTHROPIC_BASE_URL, OPENAI_BASE_URL, GOOGLE_GEMINI_BASE_URL, ...), URLs inside a config given
    in a variable (OPENCODE_CONFIG_CONTENT), and the provider base_urls of $CODEX_HOME/config.toml."""
    found = [url for value in values.values() for url in _URL.findall(value)]
    codex_home = values.get("CODEX_HOME")
    if codex_home:
        try:
            config = tomllib.loads((Path(codex_home) / "config.toml").read_text())
        except (OSError, ValueError):
            config = {}
        providers = config.get("model_providers")
        for provider in providers.values() if isinstance(providers, dict) else ():
            if isinstance(provider, dict) and isinstance(provider.get("base_url"), str):
                found.append(provider["base_url"])
    return found
