"""Removing a unit's worktree is instant for the caller and can never take a newer one with it."""

from __future__ import annotations

import threading
from pathlib import Path

from bosun.orchestration.gitcmd import GitRepo
from bosun.orchestration.worktrees import AgentClone

from conftest import git


def test_a_removed_worktree_is_gone_at_once_and_a_new_one_survives_the_cleanup(tmp_path: Path):
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "big").mkdir()
    for n in range(300):
        (repo / "big" / f"f{n}.txt").write_text("x\n" * 50)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "many files")
    clone = AgentClone(GitRepo(repo), tmp_path / ".bosun")
    clone.ensure()
    head = git(repo, "rev-parse", "HEAD")
    first = clone.add_worktree("u", head)
    (first / "scratch.txt").write_text("from the first attempt")
    clone.remove_worktree("u")
    assert not first.exists(), "gone for the caller at once"
    second = clone.add_worktree("u", head)
    for thread in threading.enumerate():
        if thread.name == "bosun trash":
            thread.join(timeout=30)
    assert (second / "big" / "f299.txt").exists() and not (second / "scratch.txt").exists()
    assert not clone.has_changes("u"), "the new worktree is intact and still linked to the clone"
    assert not any((tmp_path / ".bosun" / "trash").iterdir())
