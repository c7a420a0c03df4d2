"""The gate folder's own `.git`: the tests see a checkout as a CI machine gives them one.

Test suites and build tools ask git about the tree they run in (`git ls-files`, `git describe`,
setuptools-scm and hatch-vcs versions, `git status` in a packaging test). The gate folder holds
the candidate's tree with a repository of its own: HEAD detached at the candidate, the index the
checkout wrote (so `git status` is clean), the user's tags, and the user's objects borrowed
read-only through `objects/info/alternates`. Nothing in it leads back to the user's refs: what the
gate writes there (a commit, a moved ref, a hook, a config) stays in a folder Bosun deletes before
the next checkout, and Bosun's own git never reads it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from bosun.orchestration.gitcmd import GitRepo, common_dir, object_folders
from bosun.orchestration.safe_files import remove_tree

CONFIG = "[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = false\n"


def drop(folder: Path) -> None:
    """Remove the folder's `.git`, whatever the last gate left there (a file, a link, a tree)."""
    dot = folder / ".git"
    if dot.is_symlink() or dot.is_file():
        dot.unlink()
    elif dot.exists():
        remove_tree(dot)  # also what the gate made unwritable (`chmod -R a-w .git`)


def write(folder: Path, repo: GitRepo, commit: str, index: Path) -> None:
    """Give `folder` (just checked out at `commit` through `index`) a repository of its own."""
    dot = folder / ".git"
    for sub in ("objects/info", "objects/pack", "refs/heads", "refs/tags", "info"):
        (dot / sub).mkdir(parents=True, exist_ok=True)
    (dot / "HEAD").write_text(commit + "\n")
    (dot / "config").write_text(CONFIG)
    (dot / "objects" / "info" / "alternates").write_text("".join(f"{p}\n" for p in objects_of(repo)))
    (dot / "packed-refs").write_text("".join(f"{oid} {ref}\n" for oid, ref in tags(repo)))
    shutil.copyfile(index, dot / "index")


def objects_of(repo: GitRepo) -> tuple[Path, ...]:
    """The folders holding the user's objects: its `objects`, and those it borrows in turn. The
    gate's box shows exactly these, read-only; never a path read from the gate's own folder."""
    return object_folders(common_dir(repo.path) / "objects")


_TAGS: dict[Path, tuple[tuple, list[tuple[str, str]]]] = {}


def tags(repo: GitRepo) -> list[tuple[str, str]]:
    """The user's tags (object id, ref), asked of git only when its tag files changed: a gate run
    costs no process for them."""
    common = common_dir(repo.path)
    seen = _signature(common)
    cached = _TAGS.get(common)
    if cached is not None and cached[0] == seen:
        return cached[1]
    out = repo.run("for-each-ref", "--format=%(objectname) %(refname)", "refs/tags").out
    found = [tuple(line.split(" ", 1)) for line in out.splitlines() if " " in line]
    _TAGS[common] = (seen, found)
    return found


def _signature(common: Path) -> tuple:
    """What changes when a tag is made, moved or deleted: packed-refs and the folders of loose tags."""
    marks = []
    for path in [common / "packed-refs", *_folders(common / "refs" / "tags")]:
        try:
            stat = path.stat()
        except OSError:
            continue
        marks.append((str(path), stat.st_mtime_ns, stat.st_size, stat.st_ino))
    return tuple(marks)


def _folders(root: Path) -> list[Path]:
    return [Path(here) for here, _, _ in os.walk(root)]
