"""`bosun demo --headless`: the whole story on a real throwaway repository (the run is shared with
the install test: the demo as the installed wheel plays it)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import bosun, first_parent_merges, git


@pytest.mark.slow
def test_demo_runs_to_all_merged_showing_every_decision(demo_from_wheel) -> None:
    _, result, keep = demo_from_wheel
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    kinds = {e["kind"] for e in events}
    assert {"conflicted", "gate_failed", "handed_back", "failed", "reassigned", "approved", "merged"} <= kinds
    assert [e for e in events if e["kind"] == "reassigned"][0]["unit"] == "cli"
    merged = first_parent_merges(keep)
    assert sorted(merged) == sorted(
        ["tokens", "nodes", "version", "exports", "parser", "format", "evaluate", "cli", "docs"]
    )
    # The calculator the team built works on the integration branch.
    git(keep, "checkout", "-q", "bosun/integration")
    run = __import__("subprocess").run(
        ["python", "-m", "calc", "(1+2)*3"], cwd=keep / "src", capture_output=True, text=True
    )
    assert run.stdout.strip() == "(1 + 2) * 3 = 9"


def test_demo_refuses_a_non_empty_keep_directory(tmp_path: Path) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "file").write_text("mine")
    result = bosun("demo", "--headless", "--keep", str(tmp_path / "full"), cwd=tmp_path)
    assert result.returncode == 2 and "empty" in result.stderr
    assert (tmp_path / "full" / "file").read_text() == "mine"
