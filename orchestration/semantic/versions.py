"""The four versions of a merge (base, ours, theirs, merged) as git trees: their ids, listings and
files, written into plain folders through a private index, and which files a narrowed check reads.
Nothing here touches a work tree, a hook or the repository's config."""

from __future__ import annotations

import functools
import shlex
import subprocess
from pathlib import Path

from bosun.orchestration.errors import GitError
from bosun.orchestration.git_objects import object_id, reader
from bosun.orchestration.gitcmd import GIT_ENV, SAFE_CONFIG

VERSIONS = ("base", "ours", "theirs", "merged")
SYMLINK = "120000"


def git(repo: Path, args: list[str], env: dict[str, str] | None = None, stdin: bytes | None = None) -> str:
    proc = subprocess.run(
        ["git", *SAFE_CONFIG, *args],
        cwd=repo,
        env={**GIT_ENV, **(env or {})},
        input=stdin,
        capture_output=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)}: {proc.stderr.decode(errors='replace').strip()}")
    return proc.stdout.decode("utf-8", "replace")


def tree_ids(repo: Path, treeishes: dict[str, str]) -> dict[str, str]:
    """The tree of each version, through the repository's long-lived `git cat-file --batch`."""
    try:
        objects = reader(repo)
        return {v: objects.tree_id(object_id(repo, treeishes[v])) for v in VERSIONS}
    except GitError as exc:
        raise RuntimeError(str(exc)) from None


@functools.lru_cache(maxsize=64)
def tree_listing(repo: Path, tree: str) -> tuple[tuple[str, str, str], ...]:
    """(path, blob id, mode) of every file in a tree (a tree id names its content: safe to keep).
    A path that is not UTF-8 keeps its bytes as surrogates, so that it can be handed back to git."""
    try:
        listed = reader(repo).files(object_id(repo, tree))
    except GitError as exc:
        raise RuntimeError(f"git ls-tree {tree}: {exc}") from None
    return tuple((path.decode("utf-8", "surrogateescape"), blob, mode) for mode, blob, path in listed)


def materialise(repo: Path, treeish: str, folder: Path, only: list[str] | None = None) -> None:
    """Write exactly the files of `treeish` (or those of them in `only`) into `folder` (created),
    through a private index."""
    folder.mkdir(parents=True, exist_ok=True)
    index = folder.parent / f".{folder.name}.index"
    env = {"GIT_INDEX_FILE": str(index)}
    try:
        git(repo, ["read-tree", treeish], env=env)
        if only is None:
            git(repo, ["checkout-index", "-a", "-f", f"--prefix={folder}/"], env=env)
        elif only:
            git(
                repo,
                ["checkout-index", "-f", "-z", "--stdin", f"--prefix={folder}/"],
                env=env,
                stdin="\0".join(only).encode("utf-8", "surrogateescape") + b"\0",
            )
    finally:
        index.unlink(missing_ok=True)


def changed_files(repo: Path, old: str, new: str) -> list[str]:
    """The paths that differ between two trees (what `git diff --name-only --no-renames` lists)."""
    try:
        objects = reader(repo)
        paths = objects.changed_paths(object_id(repo, old), object_id(repo, new))
    except GitError as exc:
        raise RuntimeError(str(exc)) from None
    return [p.decode("utf-8", "replace") for p in paths]


NARROW_SHARE = 0.8  # a run on this share of a tree's files or more checks the whole tree (and caches it)
NARROW_CHARS = 100_000  # and so does a list of files this long in bytes (one argument is at most 128 kB)


def fits_one_argument(paths) -> bool:
    """Whether `paths`, as `Analyser.on_files` quotes them, fit well inside one shell argument."""
    return sum(len(shlex.quote("./" + p).encode("utf-8", "surrogateescape")) + 1 for p in paths) <= NARROW_CHARS


def narrowed_files(repo: Path, trees: dict[str, str], only: frozenset[str]) -> dict[str, tuple[str, ...]] | None:
    """The files of `only` each version holds, or None when checking each whole tree is as good."""
    files = {}
    for version in VERSIONS:
        present = {path for path, _ in read_files(repo, trees[version], (".py",))}
        files[version] = tuple(sorted(only & present))
        if version == "merged" and (
            len(files[version]) >= NARROW_SHARE * len(present) or not fits_one_argument(files[version])
        ):
            return None
    return files


def read_files(repo: Path, tree: str, endings: tuple[str, ...]) -> frozenset[tuple[str, str]]:
    return frozenset((path, blob) for path, blob, _ in tree_listing(repo, tree) if path.endswith(endings))


def same_as_a_side(repo: Path, reads: tuple[str, ...], trees: dict[str, str]) -> bool:
    """Whether the merge holds exactly one side's files of the kinds an analyser reads (`reads`)."""
    if not reads:
        return False
    merged = read_files(repo, trees["merged"], reads)
    return any(merged == read_files(repo, trees[side], reads) for side in ("ours", "theirs"))
