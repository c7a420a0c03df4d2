"""The long-lived object reader answers exactly what the git commands it replaces answer."""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

import pytest
from conftest import git

from bosun.orchestration.errors import GitError
from bosun.orchestration.git_objects import object_id, reader
from bosun.orchestration.gitcmd import GIT_ENV, GitRepo


def _commit(repo: Path, files: dict[str, str | None], message: str) -> str:
    for name, text in files.items():
        path = repo / name
        if path.is_dir():
            shutil.rmtree(path)
        elif text is None:
            path.unlink()
        if text is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", message)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    return repo


def test_listing_and_diffs_match_git_ls_tree_and_git_diff(repo: Path):
    """Names that sort differently as files and as folders (`a.txt`, `a/`, `a-b`, `a0`), a file
    that becomes a folder, an executable bit, a link and a deletion."""
    first = _commit(repo, {"a.txt": "1", "a/b.py": "2", "a-b": "3", "a0": "4", "x": "file", "é.py": "5"}, "one")
    os.symlink("a.txt", repo / "link")
    (repo / "a0").chmod(0o755)
    second = _commit(repo, {"x": None, "x/inner.py": "now a folder", "a/c/d.py": "6", "a-b": None}, "two")
    third = _commit(repo, {"a/b.py": "changed", "x": "a file again"}, "three")
    objects = reader(repo)
    for commit in (first, second, third):
        listed = git(repo, "ls-tree", "-r", "-z", commit).split("\0")
        mine = [f"{mode} blob {sha}\t{path.decode()}" for mode, sha, path in objects.files(commit)]
        assert mine == [entry for entry in listed if entry]
    for old, new in ((first, second), (second, third), (first, third), (third, first), (first, first)):
        diffed = [p for p in git(repo, "diff", "--name-only", "--no-renames", "-z", old, new).split("\0") if p]
        assert [p.decode() for p in objects.changed_paths(old, new)] == diffed, (old, new)
    tree = git(repo, "rev-parse", f"{second}^{{tree}}")
    assert objects.tree_id(second) == tree and objects.tree_id(tree) == tree
    assert objects.commit_id(second) == second and objects.commit_id(tree) is None


def test_an_object_written_after_the_reader_started_is_read_and_names_go_through_git(repo: Path):
    first = _commit(repo, {"a.py": "A = 1\n"}, "one")
    objects = reader(repo)
    assert [p for _, _, p in objects.files(first)] == [b"a.py"]
    second = _commit(repo, {"b.py": "B = 2\n"}, "two")  # loose objects the running reader never saw
    assert [p for _, _, p in objects.files(second)] == [b"a.py", b"b.py"]
    git(repo, "gc", "-q")  # and packed ones
    third = _commit(repo, {"c.py": "C = 3\n"}, "three")
    git(repo, "repack", "-q", "-d")
    assert [p for _, _, p in objects.files(third)] == [b"a.py", b"b.py", b"c.py"]
    assert object_id(repo, "HEAD") == third and object_id(repo, third) == third
    with pytest.raises(GitError):
        object_id(repo, "no-such-branch")
    assert objects.read("0" * 40) is None
    with pytest.raises(GitError):
        objects.blobs(["0" * 40])


def test_a_reader_whose_git_died_starts_again(repo: Path):
    first = _commit(repo, {"a.py": "A = 1\n"}, "one")
    objects = reader(repo)
    assert objects.tree_id(first)
    os.kill(objects._proc.pid, signal.SIGKILL)
    objects._proc.wait()
    assert objects.commit_id(first) == first, "asked again of a new git (nothing kept answers this)"
    assert objects.tree_id(first) == git(repo, "rev-parse", f"{first}^{{tree}}")


def test_a_branch_read_from_its_files_is_what_rev_parse_says(repo: Path, monkeypatch: pytest.MonkeyPatch):
    """`GitRepo.ref_commit` (how `bosun status` reads the integration branch) answers from the
    loose ref and the loose commit without git, and asks git for everything else: a packed ref or
    object, a branch at a tag or a tree, a link, an id of nothing, a linked work tree."""
    first = _commit(repo, {"a.py": "A = 1\n"}, "one")
    second = _commit(repo, {"b.py": "B = 2\n"}, "two")
    user = GitRepo(repo)
    heads = repo / ".git" / "refs" / "heads"
    git(repo, "branch", "loose", first)
    with monkeypatch.context() as without_git:  # a plain branch: read with no git to ask
        without_git.setitem(GIT_ENV, "PATH", "/nonexistent")
        assert user.ref_commit("refs/heads/loose") == first
        with pytest.raises(OSError):
            user.rev_parse("refs/heads/loose")
    git(repo, "tag", "-a", "-m", "a tag", "v1", second)
    (heads / "at-tag").write_text(git(repo, "rev-parse", "v1") + "\n")  # git refuses to write it
    git(repo, "branch", "packed", second)
    git(repo, "pack-refs", "--all")
    git(repo, "branch", "-f", "loose", first)  # a loose file again, over the packed one
    (heads / "at-tree").write_text(git(repo, "rev-parse", f"{first}^{{tree}}") + "\n")
    (heads / "at-nothing").write_text("1" * 40 + "\n")
    (heads / "odd").write_text(f" {first}\n")
    os.symlink(heads / "loose", heads / "linked")
    names = ["loose", "at-tag", "packed", "at-tree", "at-nothing", "odd", "linked", "none"]
    said = {name: user.rev_parse(f"refs/heads/{name}") for name in names}
    assert said["loose"] == first and said["at-tag"] == second == said["packed"]
    assert said["at-tree"] is None and said["at-nothing"] is None and said["none"] is None
    assert {name: user.ref_commit(f"refs/heads/{name}") for name in names} == said
    for name in ("at-tree", "at-nothing", "odd"):  # refs repack refuses to walk
        (heads / name).unlink()
    git(repo, "repack", "-q", "-a", "-d")
    git(repo, "prune-packed")  # the commits packed, the loose ref file kept
    assert not (repo / ".git" / "objects" / first[:2] / first[2:]).exists()
    assert user.ref_commit("refs/heads/loose") == first
    linked = repo.parent / "linked"
    git(repo, "worktree", "add", "-q", "-b", "elsewhere", str(linked), second)
    assert GitRepo(linked).ref_commit("refs/heads/elsewhere") == second  # `.git` is a file there
