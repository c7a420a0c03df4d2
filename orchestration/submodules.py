"""Submodules: a folder Bosun fills with a commit's tree gets each submodule's files too.

git's own checkout (`read-tree -u`) leaves a submodule's folder empty: a project whose tests
import a vendored library or read a data submodule would fail every gate, and its agents would
work without the code they build on. Bosun fills each submodule the commit records, at the
commit it records, from the submodule's repository in yours (`.git/modules/NAME`, where `git
submodule update --init` keeps it; or the submodule's own `.git` in your working tree), with a
private index, as the gate folder is filled: a submodule's folder holds exactly that commit's
files, and nothing a gate or an agent left there. Submodules inside submodules are filled too.

The files only: the folder has no repository of its own (`git submodule status` says it is not
initialized), so an agent's edits inside it are never committed, and a unit cannot move a
submodule to another commit that your repository does not already have.
"""

from __future__ import annotations

import functools
import os
import tempfile
from pathlib import Path
from typing import NamedTuple

from bosun.orchestration.errors import BosunError, GitError
from bosun.orchestration.git_objects import GITLINK_MODE, TREE_MODE, reader
from bosun.orchestration.gitcmd import common_dir, git

MAX_DEPTH = 4  # submodules inside submodules, this deep
FIX = "git submodule update --init --recursive"


class Submodule(NamedTuple):
    path: str  # where the commit's tree records it
    name: str  # its name in .gitmodules (its folder under .git/modules)
    commit: str


class SubmoduleMissing(BosunError):
    """A submodule's commit is not in the repository Bosun would fill it from."""


def submodules_of(repo: Path, commit: str) -> list[Submodule]:
    """The submodules `commit` (read in `repo`) records: each `.gitmodules` entry whose path is a
    gitlink in its tree."""
    objects = reader(repo)
    root = objects.entries(objects.tree_id(commit))
    named = {name: sha for mode, name, sha in root if mode != TREE_MODE}
    if b".gitmodules" not in named:
        return []
    found = []
    for name, path in _declared(repo, named[b".gitmodules"]):
        sha = _gitlink(repo, root, path)
        if sha is not None:
            found.append(Submodule(path, name, sha))
    return found


@functools.lru_cache(maxsize=64)
def _declared(repo: Path, blob: str) -> tuple[tuple[str, str], ...]:
    """(name, path) of each submodule `.gitmodules` declares, as git reads that file; a name git
    would refuse (one that climbs out of `modules/`) is left out."""
    out = git(["config", "--blob", blob, "--null", "--get-regexp", r"^submodule\..*\.path$"], repo, check=False).out
    found = []
    for entry in filter(None, out.split("\0")):
        key, _, path = entry.partition("\n")
        name = key[len("submodule.") : -len(".path")]
        if _plain(name.replace("\\", "/")) and _plain(path):
            found.append((name, path))
    return tuple(found)


def _plain(path: str) -> bool:
    """A relative path with no empty, `.` or `..` part: it stays inside the folder it is joined to."""
    return bool(path) and not path.startswith("/") and all(part not in ("", ".", "..") for part in path.split("/"))


def _gitlink(repo: Path, root: list, path: str) -> str | None:
    """The commit a gitlink at `path` records, or None when the tree holds none there."""
    objects, entries = reader(repo), root
    *folders, last = path.encode().split(b"/")
    for folder in folders:
        sha = next((s for mode, name, s in entries if name == folder and mode == TREE_MODE), None)
        if sha is None:
            return None
        entries = objects.entries(sha)
    return next((s for mode, name, s in entries if name == last and mode == GITLINK_MODE), None)


def module_dir(repo: Path, work_tree: Path | None, sub: Submodule) -> Path | None:
    """The submodule's repository: `modules/NAME` in `repo`'s git dir (a linked worktree keeps
    its own there) or its common one, else (a submodule cloned before git absorbed them) its own
    `.git` folder in your working tree."""
    try:
        own, common = _git_dir(repo), common_dir(repo)
    except GitError:  # not a repository of its own (a Ray node's stand-in for yours)
        return None
    for place in (
        own / "modules" / sub.name,
        common / "modules" / sub.name,
        work_tree / sub.path / ".git" if work_tree else None,
    ):
        if place is not None and (place / "HEAD").is_file() and not place.is_symlink():
            return place
    return None


@functools.lru_cache(maxsize=64)
def _git_dir(repo: Path) -> Path:
    return Path(git(["rev-parse", "--absolute-git-dir"], repo).out.strip())


def missing(
    repo: Path, work_tree: Path | None, commit: str, trees: Path | None = None, above: str = "", depth: int = 0
) -> list[str]:
    """One line for each submodule of `commit` (and inside them) that cannot be filled; `trees`
    is where the commit is read when not in `repo` (the agents' clone, which borrows from it)."""
    lines = []
    for sub in submodules_of(trees or repo, commit) if depth < MAX_DEPTH else ():
        home, path = module_dir(repo, work_tree, sub), above + sub.path
        if home is None:
            lines.append(f"submodule '{path}' is not initialized")
        elif not reader(home, check=True).has(sub.commit):
            lines.append(f"submodule '{path}': commit {sub.commit[:10]} is not in {home}")
        else:
            lines += missing(home, None, sub.commit, above=path + "/", depth=depth + 1)
    return lines


def fill(
    repo: Path,
    work_tree: Path | None,
    commit: str,
    folder: Path,
    trees: Path | None = None,
    above: str = "",
    depth: int = 0,
) -> None:
    """Fill `folder` (just checked out at `commit`) with each submodule's files at its recorded
    commit; a submodule that cannot be filled raises SubmoduleMissing, naming it and the fix.
    `repo` holds the submodules' repositories; `work_tree` is its working tree, if any."""
    for sub in submodules_of(trees or repo, commit) if depth < MAX_DEPTH else ():
        home = module_dir(repo, work_tree, sub)
        if home is None or not reader(home, check=True).has(sub.commit):
            problem = missing(repo, work_tree, commit, trees, above, depth)[0]
            raise SubmoduleMissing(f"{problem}: `{FIX}` in your repository")
        target = folder / sub.path
        if not target.is_dir() or not target.resolve().is_relative_to(folder.resolve()):
            continue  # the checkout made a folder for each gitlink; a link or a file is not one
        handle, index = tempfile.mkstemp(prefix="bosun-submodule-", suffix=".index")
        os.close(handle)
        os.unlink(index)  # a fresh index: nothing earlier is trusted about the folder's files
        env = {"GIT_DIR": str(home), "GIT_WORK_TREE": str(target), "GIT_INDEX_FILE": index}
        try:
            git(["read-tree", "--reset", "-u", sub.commit], target, env=env)
            git(["clean", "-ffdxq"], target, env=env)
        finally:
            Path(index).unlink(missing_ok=True)
        fill(home, None, sub.commit, target, above=above + sub.path + "/", depth=depth + 1)
