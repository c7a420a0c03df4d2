"""`bosun init` reads the repository: its branch as `base`, a test command from its files as the
gate, the agent CLIs installed on this machine as agents. What it writes validates, keeps its
comments, and a first `bosun run` of it works once the plan has an agent."""

from __future__ import annotations

import json
import os
import shutil
import sys
import tomllib
from pathlib import Path

import pytest
from conftest import bosun, git, toml_script, write_unit

from bosun.orchestration.agents.presets import PRESETS
from bosun.orchestration.plan import load_plan


def repo_with(tmp_path: Path, files: dict[str, str], branch: str = "main") -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", branch)
    for name, content in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(content)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "initial")
    return repo


def path_with(tmp_path: Path, *executables: str) -> dict[str, str]:
    """PATH holding git, this Python and the named (fake) agent CLIs, and none of the real ones."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name in executables:
        (bin_dir / name).write_text("#!/bin/sh\nexit 0\n")
        (bin_dir / name).chmod(0o755)
    dirs = [str(bin_dir), str(Path(sys.executable).parent), str(Path(shutil.which("git")).parent)]
    return {"PATH": os.pathsep.join(dirs)}


def init(repo: Path, env: dict[str, str]) -> str:
    result = bosun("init", cwd=repo, env=env)
    assert result.returncode == 0, result.stderr
    text = (repo / "bosun.toml").read_text()
    assert text.startswith("#:schema file://") and text.splitlines()[0].endswith("bosun.schema.json")
    validate = bosun("validate", cwd=repo, env=env)
    assert validate.returncode == 0, validate.stderr
    return text


PYTEST_SUITE = {
    "pyproject.toml": '[project]\nname = "calc"\nversion = "0"\n',
    "src/calc.py": "def add(a, b):\n    return a + b\n",
    "tests/test_calc.py": (
        "import sys, pathlib\nsys.path.insert(0, str(pathlib.Path(__file__).parent.parent / 'src'))\n"
        "from calc import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n"
    ),
}


def test_a_master_repository_with_a_pytest_suite_gets_a_plan_whose_first_run_works(tmp_path: Path) -> None:
    repo = repo_with(tmp_path, PYTEST_SUITE, branch="master")
    env = path_with(tmp_path)
    text = init(repo, env)
    plan = load_plan(repo / "bosun.toml")
    assert plan.project.base == "master" and plan.project.gate == "python -m pytest -q"
    assert plan.agents == {} and list(plan.units) == ["first-task"]
    assert "# No agent CLI was found on PATH" in text and '# preset = "claude-code"' in text
    assert "# manual: you approve each merge" in text  # the explanatory comments are there
    # The user adds an agent (here a scripted one) below the units the way they would, by hand.
    (repo / "team.toml").write_text(toml_script({"first-task": [write_unit("src/mul.py", "MUL = 2\n")]}))
    with (repo / "bosun.toml").open("a") as plan_file:
        plan_file.write('\n[agents.ada]\nkind = "scripted"\nscript = "team.toml"\n')
    run = bosun("run", "--headless", "--json", "--auto-approve", cwd=repo, env=env, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr
    events = [json.loads(line) for line in run.stdout.splitlines()]
    assert any(e["kind"] == "merged" and e["unit"] == "first-task" for e in events), [e["kind"] for e in events]
    assert git(repo, "show", "bosun/integration:src/mul.py") == "MUL = 2"


@pytest.mark.parametrize(
    "files, gate",
    [
        ({"setup.py": "from setuptools import setup\nsetup()\n"}, "python -m pytest -q"),
        ({"tests/test_x.py": "def test_x():\n    pass\n"}, "python -m pytest -q"),
        ({"package.json": json.dumps({"scripts": {"test": "vitest run"}})}, "npm test"),
        ({"go.mod": "module example.com/x\n\ngo 1.22\n"}, "go test ./..."),
        ({"Cargo.toml": '[package]\nname = "x"\nversion = "0.1.0"\n'}, "cargo test"),
        (
            {"go.mod": "module example.com/x\n", "pyproject.toml": '[project]\nname = "x"\n'},
            "python -m pytest -q && go test ./...",
        ),
    ],
    ids=["setup.py", "tests folder", "package.json", "go.mod", "Cargo.toml", "python and go"],
)
def test_the_gate_is_the_test_command_the_project_holds(tmp_path: Path, files: dict, gate: str) -> None:
    repo = repo_with(tmp_path, {"README.md": "x\n", **files})
    init(repo, path_with(tmp_path))
    assert load_plan(repo / "bosun.toml").project.gate == gate


def test_npm_s_placeholder_test_script_is_no_test_suite(tmp_path: Path) -> None:
    placeholder = {"scripts": {"test": 'echo "Error: no test specified" && exit 1'}}
    repo = repo_with(tmp_path, {"package.json": json.dumps(placeholder)})
    text = init(repo, path_with(tmp_path))
    assert load_plan(repo / "bosun.toml").project.gate == "python -m pytest -q"
    assert "no test suite was found here" in text


def test_the_agent_clis_on_path_become_agents(tmp_path: Path) -> None:
    repo = repo_with(tmp_path, {"README.md": "x\n"})
    text = init(repo, path_with(tmp_path, "claude", "gemini"))
    plan = load_plan(repo / "bosun.toml")
    assert {n: a.preset for n, a in plan.agents.items()} == {"claude": "claude-code", "gemini": "gemini-cli"}
    assert plan.agents["claude"].command == PRESETS["claude-code"].command
    assert plan.agents["claude"].env == ("ANTHROPIC_API_KEY",)
    assert "No agent CLI was found" not in text
    assert tomllib.loads(text)["project"]["base"] == "main"


def test_a_detached_head_takes_origin_s_default_branch(tmp_path: Path) -> None:
    origin = repo_with(tmp_path, {"README.md": "x\n"}, branch="trunk")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(origin), str(clone))
    git(clone, "checkout", "-q", "--detach")
    init(clone, path_with(tmp_path))
    assert load_plan(clone / "bosun.toml").project.base == "trunk"
