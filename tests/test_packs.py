"""Fetching a unit's commit into the user's repository through Bosun's own pack: exactly the
objects it lacks, every one checked by `unpack-objects --strict`, as git's own pack was."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import git

from bosun.orchestration import packs
from bosun.orchestration.errors import GitError
from bosun.orchestration.git_objects import reader
from bosun.orchestration.gitcmd import GitRepo
from bosun.orchestration.worktrees import AgentClone


@pytest.fixture
def clone(tmp_path: Path) -> AgentClone:
    repo = tmp_path / "repo"
    (repo / "pkg").mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    for n in range(5):
        (repo / "pkg" / f"m{n}.py").write_text(f"M{n} = {n}\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    clone = AgentClone(GitRepo(repo), tmp_path / ".bosun")
    clone.ensure()
    return clone


def _agent_commit(clone: AgentClone, files: dict[str, str]) -> str:
    worktree = clone.add_worktree("u1", git(clone.user.path, "rev-parse", "HEAD"))
    for name, text in files.items():
        (worktree / name).parent.mkdir(parents=True, exist_ok=True)
        (worktree / name).write_text(text)
    clone.commit_all("u1", "the agent's work")
    head = clone.branch_head("u1")
    assert head is not None
    return head


def test_only_what_the_user_lacks_travels_and_lands_checked(clone: AgentClone):
    user = clone.user.path
    head = _agent_commit(clone, {"pkg/m1.py": "M1 = 'changed'\n", "pkg/new/deep.py": "D = 1\n"})
    found = packs.missing(reader(clone.path), reader(user, check=True), head)
    assert found is not None
    kinds = sorted(kind for kind, _ in found.values())
    # the commit, the root tree, pkg/, pkg/new/ and the two new blobs: nothing the user has
    assert kinds == ["blob", "blob", "commit", "tree", "tree", "tree"]
    clone.fetch_into_user(head, "refs/bosun/units/u1")
    assert git(user, "rev-parse", "refs/bosun/units/u1") == head
    assert git(user, "cat-file", "-t", head) == "commit"
    subprocess.run(["git", "fsck", "--strict", "--no-dangling"], cwd=user, check=True, capture_output=True)
    again = packs.missing(reader(clone.path), reader(user, check=True), head)
    assert again == {}, "a second fetch finds nothing missing"
    clone.fetch_into_user(head, "refs/bosun/units/u1")


def test_a_pack_git_refuses_is_refused_whoever_built_it(clone: AgentClone, tmp_path: Path):
    """A tree with a `.git` entry (what --strict exists to stop) is taken neither from Bosun's
    pack nor from git's: the fetch fails and the user's repository has no such ref."""
    user = clone.user.path
    blob = (
        subprocess.run(
            ["git", "hash-object", "-w", "--stdin"], cwd=clone.path, input=b"evil\n", capture_output=True, check=True
        )
        .stdout.decode()
        .strip()
    )
    bad_tree = (
        subprocess.run(
            ["git", "mktree"],
            cwd=clone.path,
            input=f"100644 blob {blob}\t.git\n".encode(),
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .strip()
    )
    bad = git(clone.path, "commit-tree", bad_tree, "-m", "sneaky")
    assert packs.missing(reader(clone.path), reader(user, check=True), bad) is not None
    with pytest.raises(GitError):
        clone.fetch_into_user(bad, "refs/bosun/units/u1")
    assert subprocess.run(["git", "cat-file", "-e", bad], cwd=user).returncode != 0
    assert subprocess.run(["git", "rev-parse", "--verify", "-q", "refs/bosun/units/u1"], cwd=user).returncode != 0


def test_a_large_change_is_left_to_git(clone: AgentClone, monkeypatch):
    monkeypatch.setattr(packs, "MAX_OBJECTS", 2)
    head = _agent_commit(clone, {f"pkg/n{i}.py": f"N = {i}\n" for i in range(5)})
    assert packs.missing(reader(clone.path), reader(clone.user.path, check=True), head) is None
    clone.fetch_into_user(head, "refs/bosun/units/u1")
    assert git(clone.user.path, "rev-parse", "refs/bosun/units/u1") == head
