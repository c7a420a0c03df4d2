"""Submodules: a folder Bosun fills with a commit's tree gets each submodule's files too.

git's own checkout (`read-tree -u`) leaves a submodule's folder empty: a project whose tests
import a vendored library or read a data submodule would fail every gate, and its agents would
work without the code they build on. Bosun fills each submodule the commit records, at the
commit it records, from the submodule's repository in yours (`.git/modules/NAME`, where `git
submodule update --init` keeps it, and nowhere else: never a repository the tree itself points
at), with a private index and a `git clean`, as the gate folder is filled: a submodule's folder
holds exactly that commit's files, and nothing a gate or an agent left there. Submodules inside
submodules are filled too. One that cannot be filled (not initialized, its commit not there) is
left empty, as git leaves it; `bosun run` warns and `bosun doctor` says which.

The files only: the folder has no repository of its own (`git submodule status` says it is not
initialized), so an agent's edits inside it are never committed, and a unit cannot move a
submodule to another commit that your repository does not already have.
"""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path
from typing import NamedTuple

from bosun.orchestration.errors import GitError
from bosun.orchestration.git_objects import GITLINK_MODE, TREE_MODE, reader
from bosun.orchestration.gitcmd import common_dir, git

MAX_DEPTH = 4  # submodules inside submodules, this deep
FIX = "git submodule update --init --recursive"


class Submodule(NamedTuple):
    path: str  # where the commit's tree records it
    name: str  # its name in .gitmodules (its folder under .git/modules)
    commit: str


def submodules_of(repo: Path, commit: str, cached: bool = True) -> list[Submodule]:
    """The submodules `commit` (read in `repo`) records: each `.gitmodules` entry whose path is a
    gitlink in its tree. `cached`: through the repository's long-lived reader (yours, the clone's:
    the queue reads them anyway); a submodule's repository is asked by a process of its own."""
    if not cached:
        return _listed(repo, commit)
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


def _listed(repo: Path, commit: str) -> list[Submodule]:
    """`submodules_of` by `git ls-tree` (two or three processes, only for a tree with .gitmodules)."""
    shown = git(["ls-tree", "-z", commit, "--", ".gitmodules"], repo).out.split("\0")[0]
    if not shown.startswith(("100644 blob ", "100755 blob ")):
        return []
    declared = dict((path, name) for name, path in _declared(repo, shown.split()[2]))
    if not declared:
        return []
    found = []
    for entry in filter(None, git(["ls-tree", "-z", commit, "--", *declared], repo).out.split("\0")):
        meta, _, path = entry.partition("\t")
        mode, _, sha = meta.split()
        if mode == "160000" and path in declared:
            found.append(Submodule(path, declared[path], sha))
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


def module_dir(repo: Path, sub: Submodule) -> Path | None:
    """The submodule's repository: `modules/NAME` in `repo`'s git dir (a linked worktree keeps its
    own there) or in its common one; None when it is in neither (or `repo` is no repository: a
    Ray node's stand-in for yours)."""
    try:
        places = (_git_dir(repo) / "modules" / sub.name, common_dir(repo) / "modules" / sub.name)
    except GitError:
        return None
    return next((p for p in places if (p / "HEAD").is_file() and not p.is_symlink()), None)


@functools.lru_cache(maxsize=64)
def _git_dir(repo: Path) -> Path:
    return Path(git(["rev-parse", "--absolute-git-dir"], repo).out.strip())


def _has(home: Path, commit: str) -> bool:
    return git(["cat-file", "-e", f"{commit}^{{commit}}"], home, check=False).code == 0


def missing(repo: Path, commit: str, trees: Path | None = None) -> list[str]:
    """One line for each submodule of `commit` (and inside them) that cannot be filled; `trees`
    is where the commit is read when not in `repo` (the agents' clone, which borrows from it)."""
    return _walk(repo, commit, None, trees or repo, "", 0)


def fill(repo: Path, commit: str, folder: Path, trees: Path | None = None) -> list[str]:
    """Fill `folder` (just checked out at `commit`) with each submodule's files at its recorded
    commit, from `repo`'s submodule repositories. Returns a line for each that could not be."""
    return _walk(repo, commit, folder, trees or repo, "", 0)


def _walk(repo: Path, commit: str, folder: Path | None, trees: Path, above: str, depth: int) -> list[str]:
    lines: list[str] = []
    for sub in submodules_of(trees, commit, cached=depth == 0) if depth < MAX_DEPTH else ():
        home, path = module_dir(repo, sub), above + sub.path
        if home is None:
            lines.append(f"submodule '{path}' is not initialized")
            continue
        if not _has(home, sub.commit):
            lines.append(f"submodule '{path}': commit {sub.commit[:10]} is not in {home}")
            continue
        target = folder / sub.path if folder is not None else None
        if target is not None:
            if not target.is_dir() or not target.resolve().is_relative_to(folder.resolve()):
                continue  # the checkout made a folder for each gitlink; a link or a file is not one
            _checkout(home, sub.commit, target)
        lines += _walk(home, sub.commit, target, home, path + "/", depth + 1)
    return lines


def _checkout(home: Path, commit: str, target: Path) -> None:
    """`target` holds exactly `commit`'s files: a fresh index (nothing earlier is trusted about
    the folder), then whatever else is there removed."""
    with tempfile.TemporaryDirectory(prefix="bosun-submodule-") as scratch:
        env = {"GIT_DIR": str(home), "GIT_WORK_TREE": str(target), "GIT_INDEX_FILE": str(Path(scratch) / "index")}
        git(["read-tree", "--reset", "-u", commit], target, env=env)
        git(["clean", "-ffdxq"], target, env=env)
