"""The gate runs in a checkout with a `.git` of its own, as on a CI machine: its tests can ask git
about the tree (HEAD, a clean `git status`, `git describe` from the user's tags, the history),
and nothing the gate does in that repository reaches the user's refs or Bosun's own git.

Real runs of `bosun run --headless` on real repositories, in bubblewrap and without it."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import bosun, first_parent_merges, git, needs_tool, write_unit

from bosun.orchestration.sandbox.probe import probe

WORKS, WHY = probe()
needs_bwrap = needs_tool(None if WORKS else f"bubblewrap cannot work here: {WHY}")

# Each run prints what git says in the gate folder (its log keeps it), then tries to reach
# further: move `main` and plant a hook and an fsmonitor command (which any git reading this
# config would run; they write to $OUT, outside any box) in its own repository, and write into the
# objects it borrows. Then the project's own check.
GATE_SH = r"""
set -u
OUT="$1"
if [ -e .git/hooks/post-checkout ] || grep -q fsmonitor .git/config; then echo "seen: planted before"; fi
echo "seen: head $(git rev-parse HEAD)"
echo "seen: status [$(git status --porcelain)]"
echo "seen: describe $(git describe --tags)"
echo "seen: subject $(git log --format=%s -1 HEAD^2)"
git update-ref refs/heads/main HEAD~1 && echo "seen: moved its own main"
printf '#!/bin/sh\necho "hook $PWD" >> %s/ran\n' "$OUT" > .git/hooks/post-checkout
chmod +x .git/hooks/post-checkout
printf '[core]\n\tfsmonitor = "echo fsmonitor >> %s/ran"\n' "$OUT" >> .git/config
BORROWED=$(head -1 .git/objects/info/alternates)
if touch "$BORROWED/planted" 2>/dev/null; then echo "seen: wrote borrowed objects"; fi
python check.py
"""


@pytest.mark.parametrize("sandbox", [pytest.param("required", marks=needs_bwrap), "off"])
def test_the_gate_sees_its_commit_in_a_repository_of_its_own(project, tmp_path: Path, sandbox: str) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (tmp_path / "gate.sh").write_text(GATE_SH)
    units = [{"id": "one"}, {"id": "two", "depends_on": ["one"]}]
    script = {"one": [write_unit("src/one.py", "ONE = 1\n")], "two": [write_unit("src/two.py", "TWO = 2\n")]}
    gate = f"sh {tmp_path / 'gate.sh'} {out}"
    repo = project(units, script, gate=gate, sandbox=sandbox, batch=1)
    git(repo, "tag", "-a", "v1.2", "-m", "release 1.2")
    main_before = git(repo, "rev-parse", "main")

    result = bosun("run", "--headless", cwd=repo, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    assert first_parent_merges(repo) == ["one", "two"]

    logs = sorted((repo / ".bosun" / "logs").glob("gate.*.log"), key=lambda p: p.stat().st_mtime)
    seen = [line[6:] for log in logs for line in log.read_text().splitlines() if line.startswith("seen: ")]
    heads = [line.split()[1] for line in seen if line.startswith("head ")]
    # One run per unit, each at the candidate that became the integration branch's next commit.
    assert heads == git(repo, "rev-list", "--first-parent", "--reverse", f"{main_before}..bosun/integration").split()
    assert seen.count("status []") == 2  # the index matches the tree: a clean checkout
    describes = [line for line in seen if line.startswith("describe ")]
    assert len(describes) == 2 and all(d.startswith("describe v1.2-") for d in describes), describes
    assert "subject write src/one.py" in seen and "subject write src/two.py" in seen
    assert seen.count("moved its own main") == 2  # the attempt really ran ...
    assert git(repo, "rev-parse", "main") == main_before  # ... in its own repository only
    assert "planted before" not in seen  # the next gate gets a fresh repository ...
    assert not (out / "ran").exists()  # ... and Bosun's git never ran the hook or fsmonitor
    if sandbox == "required":
        assert "wrote borrowed objects" not in seen  # the user's objects are read-only in the box
        assert not (repo / ".git" / "objects" / "planted").exists()
    assert git(repo, "status", "--porcelain") == ""
    assert git(repo, "fsck", "--no-dangling") == ""
