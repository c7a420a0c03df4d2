"""A real third-party coding-agent CLI, Aider, driven by Bosun end to end: Bosun starts it in the
unit's worktree with the aider preset, Aider asks a real HTTP server on 127.0.0.1 (recorded
completions), edits the file and commits, and Bosun gates and merges the commit."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest
from conftest import ROOT, bosun, first_parent_merges, git, tool_missing
from fake_openai import FakeOpenAI, completion
from stubs.clis import run_preset


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


# Issue 25: Aider has no shell tool under --yes-always (it declines the commands it suggests), so
# the preset passes the project's gate as --test-cmd with --auto-test: after each edit Aider runs
# the tests in its worktree, inside Bosun's sandbox, and sends a failure back to the model.
GATE = f"PYTHONDONTWRITEBYTECODE=1 {sys.executable} -m pytest -q -p no:cacheprovider test_calc.py"
FAILING_PROJECT = {
    "src/calc.py": "VALUE = 1\n",
    "test_calc.py": "from src.calc import VALUE\n\n\ndef test_value():\n    assert VALUE == 42\n",
}


def test_aider_runs_the_projects_tests_and_the_model_fixes_the_failure(project, aider: Path, tmp_path: Path) -> None:
    def answer(body: dict):
        text = json.dumps(body.get("messages", []))
        if "commit message" in text.lower():
            return 200, completion("Set VALUE"), {}
        if "1 failed" in text:  # the real pytest output of the first edit, sent back by Aider
            return 200, completion("src/calc.py\n```python\nVALUE = 42\n```\n"), {}
        return 200, completion("src/calc.py\n```python\nVALUE = 41\n```\n"), {}

    with FakeOpenAI(route=answer) as server:
        env = {
            "OPENAI_API_KEY": "sk-test",
            "OPENAI_API_BASE": server.base_url,
            "AIDER_MODEL": "openai/test-model",
            "AIDER_EDIT_FORMAT": "whole",
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        }
        out = run_preset(
            project,
            tmp_path,
            aider,
            preset="aider",
            env=env,
            scope=["src/calc.py"],
            prompt="Make the tests pass",
            extra_files=FAILING_PROJECT,
            gate=GATE,
            timeout=300,
        )
    assert out.result.returncode == 0, out.explain()
    assert first_parent_merges(out.repo) == ["calc"]
    assert git(out.repo, "show", "bosun/integration:src/calc.py") == "VALUE = 42"
    asked = [json.dumps(r["body"]["messages"]) for r in server.requests]
    edits = [text for text in asked if "commit message" not in text.lower()]
    # The first edit (41) failed the real tests; the model's next request held pytest's failure.
    assert len(edits) == 2, out.explain()
    assert "1 failed" not in edits[0] and "1 failed" in edits[1] and "assert 41 == 42" in edits[1], edits[1][-2000:]
    # Aider ran the fixed tests too: they passed, so it sent nothing more and committed the fix.
    assert "Added" in out.log and "1 passed" in out.log, out.log[-3000:]
