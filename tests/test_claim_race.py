"""Eight `bosun claim` processes started at once on a fresh claim-mode repository: the shared
state is created once, every process either wins a unit with its task or loses cleanly, and no
claim is left stranded by a process that failed after winning (issue 16)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import git, toml_plan

AGENTS = 8


@pytest.mark.parametrize("round_", range(3))
def test_racing_claims_on_a_fresh_repository_each_win_whole_or_lose_cleanly(tmp_path, round_):
    repo = tmp_path / "repo"
    (repo / "src").mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    agents = {f"w{i}": {"kind": "external"} for i in range(AGENTS)}
    units = [{"id": f"u{i}", "scope": [f"src/u{i}.py"]} for i in range(4)]
    (repo / "bosun.toml").write_text(toml_plan(units, agents, mode="claim", lease="5m"))
    (repo / "check.py").write_text("")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "plan")
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "bosun.app.cli.main", "claim", "--agent", f"w{i}"],
            cwd=repo,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=os.environ.copy(),
        )
        for i in range(AGENTS)
    ]
    results = [(p.wait(timeout=120), p.stdout.read(), p.stderr.read()) for p in procs]
    assert all(code in (0, 1) for code, _, _ in results), [err for code, _, err in results if code not in (0, 1)]
    won = [json.loads(out) for code, out, _ in results if code == 0]
    assert len(won) == 4 and len({w["unit"] for w in won}) == 4, "each unit won exactly once"
    for task in won:
        assert os.path.isdir(task["worktree"]) and os.path.exists(task["task_file"])
    board = subprocess.run(
        [sys.executable, "-m", "bosun.app.cli.main", "board", "--json"], cwd=repo, capture_output=True, text=True
    )
    claims = json.loads(board.stdout)["claims"]
    assert sorted(c["unit"] for c in claims) == sorted(w["unit"] for w in won), "no claim without its task"
    assert {c["epoch"] for c in claims} == {w["token"] for w in won}
