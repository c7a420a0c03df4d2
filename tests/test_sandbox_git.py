"""Git in an agent's box (issue 30): a fresh worktree's index is settled (orchestration/settle.py),
so the agent's first `git add --all` adds what it changed and nothing else. Before, every file
checked out in the same second as the index was "racily clean", `git add` added each again, and
since the box cannot touch the read-only stored copies, wrote a duplicate object of every file
of the project into the agent's own object folder.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from conftest import bosun, git, needs_tool

from bosun.orchestration.gitcmd import GitRepo
from bosun.orchestration.sandbox.probe import probe
from bosun.orchestration.worktrees import AgentClone

WORKS, WHY = probe()
needs_bwrap = needs_tool(None if WORKS else f"bubblewrap cannot work here: {WHY}")
MANY = {f"lib/m{i:02}.py": f"M{i} = {i}\n" for i in range(40)}


def _fresh_worktree(project) -> tuple[AgentClone, Path, Path]:
    repo = project([{"id": "a"}], {}, extra_files=MANY)
    bosun_dir = repo / ".bosun"
    bosun_dir.mkdir()
    clone = AgentClone(GitRepo(repo), bosun_dir)
    clone.ensure()
    worktree = clone.add_worktree("a", git(repo, "rev-parse", "main"))
    return clone, worktree, clone.path / "worktrees" / "a"


def _status(worktree: Path, admin: Path) -> str:
    env = {**os.environ, "GIT_DIR": str(admin), "GIT_WORK_TREE": str(worktree)}
    return subprocess.run(
        ["git", "status", "--porcelain"], cwd=worktree, env=env, text=True, capture_output=True, check=True
    ).stdout


def test_a_fresh_worktree_is_not_racy_and_still_shows_an_edit_made_at_once(project) -> None:
    """Every checked-out file is older, in whole seconds, than the index (git trusts its stat
    data), and an edit of the same size made right away is still seen: nothing taken on trust."""
    clone, worktree, admin = _fresh_worktree(project)
    index_second = int((admin / "index").stat().st_mtime)
    files = [p for p in worktree.rglob("*") if p.is_file() and p.name != ".git"]
    assert len(files) > 40
    racy = [str(p) for p in files if int(p.stat().st_mtime) >= index_second]
    assert not racy, f"racily clean in a fresh worktree: {racy[:5]}"
    assert _status(worktree, admin) == ""
    (worktree / "lib" / "m07.py").write_text("M7 = 8\n")  # same size, same second as the checkout
    assert _status(worktree, admin) == " M lib/m07.py\n"


@needs_bwrap
def test_the_first_git_add_in_a_box_writes_only_what_the_agent_changed(project) -> None:
    """The agent adds and commits one file at once after its box starts, then counts the objects
    in its own object folder: the new file's blob, two trees and the commit, not the project's
    40 other files again (what `git add --all` wrote there on a racy index)."""
    count = 'find "$GIT_OBJECT_DIRECTORY" -type f -path "*/[0-9a-f][0-9a-f]/*" | wc -l > written.txt'
    steps = [
        {"write": "src/a.py", "content": "A = 1\n"},
        {"commit": "a"},
        {"run": ["sh", "-c", count]},
        {"commit": "the count"},
    ]
    repo = project([{"id": "a"}], {"a": [steps]}, extra_files=MANY, sandbox="required")
    result = bosun("run", "--headless", cwd=repo)
    assert result.returncode == 0, result.stdout + result.stderr
    written = int(git(repo, "show", "bosun/integration:written.txt"))
    assert 1 <= written <= 4, f"{written} objects written by one new file's commit"


@needs_bwrap
def test_an_agent_reads_history_a_repository_borrows_from_another(project, tmp_path: Path) -> None:
    """A repository made with `git clone --shared` (or `--reference`) keeps its objects in the
    other one's folder: the agent's box shows the whole chain of borrowed objects read-only, so
    git inside reads the history (`git log`, the parent of its own commit) and commits on it."""
    origin = project([{"id": "a"}], {"a": [[{"run": ["sh", "-c", "git log --format=%s > seen.txt"]}, {"commit": "a"}]]})
    (origin / "src" / "two.py").write_text("TWO = 2\n")
    git(origin, "add", "-A")
    git(origin, "commit", "-q", "-m", "second upstream commit")
    (origin / "bosun.toml").write_text(
        (origin / "bosun.toml").read_text().replace("gate_timeout", 'sandbox = "required"\ngate_timeout')
    )
    git(origin, "commit", "-q", "-am", "the plan boxed")
    repo = tmp_path / "borrower"
    git(tmp_path, "clone", "-q", "--shared", str(origin), str(repo))
    assert not list((repo / ".git" / "objects").glob("[0-9a-f][0-9a-f]")), "the borrower holds no objects itself"
    result = bosun("run", "--headless", cwd=repo)
    assert result.returncode == 0, result.stdout + result.stderr
    seen = git(repo, "show", "bosun/integration:seen.txt").splitlines()
    assert seen == ["the plan boxed", "second upstream commit", "initial project"]
