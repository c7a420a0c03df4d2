"""A real third-party coding-agent CLI, Aider, driven by Bosun end to end: Bosun starts it in the
unit's worktree with the aider preset, Aider asks a real HTTP server on 127.0.0.1 (recorded
completions), edits the file and commits, and Bosun gates and merges the commit."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from conftest import ROOT, bosun, first_parent_merges, git, tool_missing
from fake_openai import FakeOpenAI, completion


def aider_bin() -> Path | None:
    for candidate in (os.environ.get("BOSUN_AIDER"), shutil.which("aider"), ROOT / ".venv-aider" / "bin" / "aider"):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


@pytest.fixture
def aider() -> Path:
    found = aider_bin()
    if found is None:
        tool_missing("aider is not installed (python3 -m venv .venv-aider && .venv-aider/bin/pip install aider-chat)")
    return found


def route(body: dict):
    """Aider asks for the edit, then for a commit message."""
    text = json.dumps(body.get("messages", [])).lower()
    if "commit message" in text:
        return 200, completion("Make calc return the answer"), {}
    return 200, completion("src/calc.py\n```python\nVALUE = 42\n```\n", 900, 60), {}


def test_bosun_drives_real_aider_to_an_edit_a_commit_and_a_merge(project, aider: Path, tmp_path: Path) -> None:
    env_names = [
        "OPENAI_API_KEY",
        "OPENAI_API_BASE",
        "AIDER_MODEL",
        "AIDER_EDIT_FORMAT",
        "LITELLM_LOCAL_MODEL_COST_MAP",
    ]
    agents = {"aider": {"kind": "command", "preset": "aider", "env": env_names}}
    with FakeOpenAI(route=route) as server:
        repo = project(
            [{"id": "calc", "scope": ["src/calc.py"], "prompt": "Set VALUE to 42 in src/calc.py"}],
            {},
            agents=agents,
            extra_files={"src/calc.py": "VALUE = 1\n"},
        )
        home = tmp_path / "home"
        home.mkdir()
        env = {
            "PATH": f"{aider.parent}:{os.environ['PATH']}",
            "HOME": str(home),
            "OPENAI_API_KEY": "sk-test",
            "OPENAI_API_BASE": server.base_url,
            "AIDER_MODEL": "openai/test-model",
            "AIDER_EDIT_FORMAT": "whole",
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        }
        result = bosun("run", "--headless", "--json", cwd=repo, env=env, timeout=300)
    log = next((repo / ".bosun" / "logs").glob("calc.1.log")).read_text()
    assert result.returncode == 0, result.stdout + result.stderr + log
    assert first_parent_merges(repo) == ["calc"]
    assert git(repo, "show", "bosun/integration:src/calc.py") == "VALUE = 42"
    # Aider itself made the commit, under the message it asked the model for.
    assert git(repo, "log", "-1", "--format=%s", "refs/bosun/units/calc") == "Make calc return the answer"
    submitted = [e for e in map(json.loads, result.stdout.splitlines()) if e["kind"] == "submitted"][0]
    assert submitted["usage"]["prompt_tokens"] >= 900  # parsed from Aider's "Tokens: ... sent" line
    prompts = [json.dumps(r["body"]["messages"]) for r in server.requests]
    assert any("Set VALUE to 42" in p for p in prompts)
