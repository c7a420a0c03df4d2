"""Removing a unit's worktree is instant for the caller and can never take a newer one with it."""

from __future__ import annotations

import threading
from pathlib import Path

from conftest import git

from bosun.orchestration.gitcmd import GitRepo
from bosun.orchestration.worktrees import AgentClone


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


def test_only_awell_formed_commit_takes_absorb_s_fast_path(tmp_path):
    """absorb moves a branch without git only to what update-ref would accept: a bogus commit
    written with `hash-object --literally` (header and tree unchecked) goes the slow way."""
    import subprocess
    import zlib

    from bosun.orchestration.loose_objects import well_formed_commit

    repo = tmp_path / "r"
    repo.mkdir()
    run = lambda *a, **k: subprocess.run(["git", *a], cwd=repo, capture_output=True, text=True, check=True, **k)  # noqa: E731
    run("init", "-q")
    run("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "real")
    real = run("rev-parse", "HEAD").stdout.strip()
    bogus = run("hash-object", "-t", "commit", "--literally", "-w", "--stdin", input="not a commit\n").stdout.strip()

    def body(oid: str) -> bytes:
        return zlib.decompress((repo / ".git" / "objects" / oid[:2] / oid[2:]).read_bytes())

    assert well_formed_commit(body(real))
    assert not well_formed_commit(body(bogus))
