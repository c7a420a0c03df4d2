"""Running a real coding-agent CLI through Bosun's preset against a stub on 127.0.0.1.

The CLIs are npm packages installed at pinned versions into `.agent-clis/` by `.ci/run`
(`BOSUN_AGENT_CLIS` names another such folder). A test skips, saying how to install, when its
CLI is missing — except under CI, where a missing CLI fails: CI must prove every preset.
The folder is mounted read-only into the agent's sandbox (a checkout under /home or /tmp is hidden
there otherwise); the preset's default network allow-list names the stub, from the base URL its env passes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from conftest import ROOT, bosun, tool_missing

from bosun.orchestration.sandbox.probe import probe

PINNED = {  # the versions .ci/run installs; bump both together
    "claude": "@anthropic-ai/claude-code@2.1.332",
    "codex": "@openai/codex@0.171.0",
    "gemini": "@google/gemini-cli@0.61.0",
    "opencode": "opencode-ai@1.18.33",
    "qwen": "@qwen-code/qwen-code@0.24.4",
}


def clis_dir() -> Path:
    return Path(os.environ.get("BOSUN_AGENT_CLIS") or ROOT / ".agent-clis")


def cli(name: str) -> Path:
    """The CLI's program in the npm folder; skips (or fails under CI) when it is not installed."""
    program = clis_dir() / "node_modules" / ".bin" / name
    if program.exists():
        return program
    tool_missing(f"{name} is not installed at {program} (npm install --prefix .agent-clis {PINNED[name]}; .ci/run)")


@dataclass
class Outcome:
    repo: Path
    result: subprocess.CompletedProcess
    log: str
    status: dict
    events: list[dict]

    def explain(self) -> str:
        return f"stdout:\n{self.result.stdout[-4000:]}\nstderr:\n{self.result.stderr[-4000:]}\nagent log:\n{self.log[-6000:]}"  # noqa: E501

    def unit(self, unit_id: str) -> dict:
        return next(u for u in self.status["units"] if u["id"] == unit_id)

    def agent(self, name: str) -> dict:
        return next(a for a in self.status["agents"] if a["name"] == name)


def run_preset(
    project,
    tmp_path: Path,
    program: Path,
    *,
    preset: str,
    env: dict[str, str],
    prompt: str,
    scope: list[str],
    extra_files: dict | None = None,
    mounts: list[str] = (),
    timeout: float = 180,
    **project_keys,
) -> Outcome:
    """One unit, one agent `cli` on `preset` with `env` passed through, run headless with auto merge
    (`project_keys`: more of the plan's `[project]`, e.g. `setup`)."""
    agents = {
        "cli": {
            "kind": "command",
            "preset": preset,
            "env": sorted(env),
            "mounts": [f"{clis_dir().resolve()}:ro", *mounts],
        }
    }
    units = [{"id": "calc", "scope": scope, "prompt": prompt}]
    repo = project(units, {}, agents=agents, extra_files=extra_files, **project_keys)
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    run_env = {"PATH": f"{program.parent}:{os.environ['PATH']}", "HOME": str(home), **env}
    result = bosun("run", "--headless", "--json", cwd=repo, env=run_env, timeout=timeout)
    logs = sorted((repo / ".bosun" / "logs").glob("calc.*.log"))
    log = "\n".join(p.read_text(errors="replace") for p in logs)
    status = json.loads(bosun("status", "--json", cwd=repo, env=run_env).stdout or "{}")
    events = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    # The CLI ran in Bosun's bubblewrap box wherever this machine has one (sandbox = "auto").
    assert status.get("sandbox", {}).get("active") == probe()[0], status.get("sandbox")
    return Outcome(repo, result, log, status, events)


# The project's tests, run by a CLI's own shell tool (issue 25): a project with one passing test,
# and the command the stub asks the CLI to run; its output lands in src/result.txt, which Bosun
# commits (autocommit), so the test reads it on the integration branch as well as in the stub.
TESTED_PROJECT = {
    "src/calc.py": "VALUE = 42\n",
    "test_calc.py": "from src.calc import VALUE\n\n\ndef test_value():\n    assert VALUE == 42\n",
}
RUN_TESTS = (
    f"PYTHONDONTWRITEBYTECODE=1 {sys.executable} -m pytest -q -p no:cacheprovider test_calc.py "
    "> src/result.txt 2>&1; cat src/result.txt"
)
