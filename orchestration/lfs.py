"""Git LFS files: a folder Bosun fills with a commit's tree gets their content, not their pointers.

Bosun's git ignores your global config, where `git lfs install` puts the LFS filter, and the
agents' clone has none: worktrees and gate folders held each LFS file's pointer (three lines
naming its hash), so tests reading a fixture or a model kept in LFS failed on every gate. Bosun
now copies each pointer's content from your repository's LFS store (`.git/lfs/objects`, what `git
lfs pull` fills), by the hash the pointer names; git-lfs itself is not needed for that, and
nothing is downloaded. A pointer whose content is not in the store stays a pointer (`bosun
doctor` counts them).

The files only, as for submodules: each is marked `skip-worktree` in the folder's index, so
`git status` there is clean and an agent's `git add` never commits the content as an ordinary
file (an agent's edit to an LFS file is therefore not committed).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
import tempfile
from pathlib import Path
from typing import NamedTuple

from bosun.orchestration.errors import GitError
from bosun.orchestration.git_objects import reader
from bosun.orchestration.gitcmd import common_dir, git

POINTER_SIZES = range(126, 146)  # a pointer's three lines, its size 1 to 20 digits: only these are read
OID = re.compile(r"[0-9a-f]{64}")
POINTER = re.compile(rb"version https://git-lfs\.github\.com/spec/v1\noid sha256:([0-9a-f]{64})\nsize (\d+)\n")


class Pointer(NamedTuple):
    path: str
    oid: str
    size: int
    executable: bool


def store_of(repo: Path) -> Path | None:
    """The repository's LFS object store, or None when it has never held an LFS object (or is no
    repository: a Ray node's stand-in for yours)."""
    try:
        store = common_dir(repo) / "lfs" / "objects"
    except GitError:
        return None
    return store if store.is_dir() else None


def in_use(repo: Path, worktree: Path) -> bool:
    """Whether a unit may meet LFS files: your repository has an LFS store, or the worktree's
    top `.gitattributes` hands paths to LFS (a first LFS file, before any store)."""
    if store_of(repo) is not None:
        return True
    try:
        return "filter=lfs" in (worktree / ".gitattributes").read_text(errors="replace")
    except OSError:
        return False


AGENT_CONFIG = """# bosun: Git LFS for this agent (written at each start)
[lfs]
\tstorage = {storage}
[filter "lfs"]
\tclean = git-lfs clean -- %f
\tsmudge = git-lfs smudge -- %f
\tprocess = git-lfs filter-process
\trequired = true
# bosun: end
"""


def agent_config(text: str, storage: Path | None) -> str:
    """An agent's own gitconfig with Bosun's LFS block (where git-lfs stores what the agent adds,
    and git-lfs's filter, which the agent's git would otherwise find only in the system config)
    in place of the one before; without `storage`, without it."""
    start, end = text.find("# bosun: Git LFS"), text.find("# bosun: end\n")
    if start >= 0 and end > start:
        text = text[:start] + text[end + len("# bosun: end\n") :]
    if storage is None:
        return text
    quoted = '"' + str(storage).replace("\\", "\\\\").replace('"', '\\"') + '"'  # a `#` or `;` would start a comment
    return text + AGENT_CONFIG.format(storage=quoted)


def pointers(listing: Path, commit: str) -> list[Pointer]:
    """The LFS pointers in `commit`'s tree (read in `listing`): every file of a pointer's size that
    is one (pointers with extension lines are not: git-lfs itself writes none)."""
    out = git(["ls-tree", "-r", "-l", "-z", "--full-tree", commit], listing).out
    found, objects = [], reader(listing)
    for entry in filter(None, out.split("\0")):
        meta, _, path = entry.partition("\t")
        mode, kind, sha, size = meta.split()
        if kind != "blob" or mode not in ("100644", "100755") or int(size) not in POINTER_SIZES or "\ufffd" in path:
            continue  # (a name that is not UTF-8 could not be named back to git: left a pointer)
        got = objects.read(sha)
        match = POINTER.fullmatch(got[2]) if got is not None else None
        if match is not None:
            found.append(Pointer(path, match[1].decode(), int(match[2]), mode == "100755"))
    return found


def fill(repo: Path, commit: str, folder: Path, index_env: dict[str, str], listing: Path | None = None) -> None:
    """Put each LFS file's content (from `repo`'s store) in `folder`, just checked out at `commit`,
    and mark it skip-worktree in the index `index_env` names. A pointer whose content is not in
    the store stays as it is (`bosun doctor` counts them)."""
    store = store_of(repo)
    if store is None:
        return
    filled = []
    for pointer in pointers(listing or repo, commit):
        source, target = content(store, pointer), folder / pointer.path
        if source is not None and _holds_pointer(target, pointer) and target.resolve().is_relative_to(folder.resolve()):
            _copy(source, target, pointer.executable)
            filled.append(pointer.path)
    if filled:
        paths = "".join(f"{path}\0" for path in filled)
        git(["update-index", "--skip-worktree", "-z", "--stdin"], folder, env=index_env, stdin=paths)


def pointers_back(repo: Path, commit: str, folder: Path, env: dict[str, str], listing: Path | None = None) -> None:
    """Undo `fill` for `commit`'s LFS files: the pointer written back (from the index) and the
    skip-worktree mark cleared, so a merge in `folder` sees the files as git left them."""
    if store_of(repo) is None:
        return
    paths = "".join(f"{pointer.path}\0" for pointer in pointers(listing or repo, commit))
    if paths:
        git(["update-index", "--no-skip-worktree", "-z", "--stdin"], folder, env=env, stdin=paths)
        git(["checkout-index", "--force", "-z", "--stdin"], folder, env=env, stdin=paths)


def _holds_pointer(target: Path, pointer: Pointer) -> bool:
    """Whether the file is the pointer itself, as a checkout writes it: only that is replaced (a
    merge's conflict markers, or an edit, are not)."""
    text = f"version https://git-lfs.github.com/spec/v1\noid sha256:{pointer.oid}\nsize {pointer.size}\n"
    try:
        return not target.is_symlink() and target.stat().st_size == len(text) and target.read_text() == text
    except (OSError, UnicodeDecodeError):
        return False


def content(store: Path, pointer: Pointer) -> Path | None:
    """The file holding a pointer's content in the store, if it is there whole."""
    source = store / pointer.oid[:2] / pointer.oid[2:4] / pointer.oid
    try:
        return source if source.stat().st_size == pointer.size and source.is_file() else None
    except OSError:
        return None


def take_in(agents: Path, repo: Path) -> None:
    """Move the LFS objects an agent's git-lfs stored (`agents`: an agent's own store, or the
    clone's) into `repo`'s store, each one's hash checked against its name as it is copied, so
    the pointers its commits hold lead to content you have. The agent made that folder: only real
    folders are walked and only regular files read (a link or a pipe in their place is left)."""
    try:
        store = common_dir(repo) / "lfs" / "objects"
    except GitError:
        return
    for found in _stored(agents):
        oid = found.name
        target = store / oid[:2] / oid[2:4] / oid
        if target.exists():
            if not os.path.samefile(found, target):  # never your own copy, however it was reached
                found.unlink(missing_ok=True)
        elif _copy_checked(found, target, oid):
            found.unlink(missing_ok=True)


def _stored(top: Path) -> list[Path]:
    """`top/ab/cd/abcd...`: each a regular file in real folders, links not followed (`top` and
    the folder above it, the agent's `lfs`, included)."""
    if top.is_symlink() or top.parent.is_symlink():
        return []
    found = []
    for first in _entries(top, lambda e: len(e.name) == 2 and e.is_dir(follow_symlinks=False)):
        for second in _entries(first, lambda e: len(e.name) == 2 and e.is_dir(follow_symlinks=False)):
            for leaf in _entries(second, lambda e: e.is_file(follow_symlinks=False)):
                if OID.fullmatch(leaf.name) and leaf.name[:4] == first.name + second.name:
                    found.append(leaf)
    return found


def _entries(folder: Path, keep) -> list[Path]:
    try:
        with os.scandir(folder) as listing:
            return [Path(entry.path) for entry in listing if keep(entry)]
    except OSError:  # gone, or not a folder (a link to one is not followed: scandir of the top only)
        return []


def _copy_checked(source: Path, target: Path, oid: str) -> bool:
    """Copy `source` to `target` only if what was read hashes to `oid`: opened without following
    a link nor blocking on a pipe, and read only if it is a regular file."""
    try:
        handle = os.open(source, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return False
    with os.fdopen(handle, "rb") as reading:
        if not stat.S_ISREG(os.fstat(reading.fileno()).st_mode):
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        with tempfile.NamedTemporaryFile(dir=target.parent, prefix=".bosun-lfs-", delete=False) as writing:
            while chunk := reading.read(1 << 20):
                digest.update(chunk)
                writing.write(chunk)
        if digest.hexdigest() != oid:
            os.unlink(writing.name)
            return False
        os.chmod(writing.name, 0o644)
        os.replace(writing.name, target)  # two takers of the same object each replace it whole
        return True


def _copy(source: Path, target: Path, executable: bool) -> None:
    """Replace `target` with a copy of `source`, never a link to it (the folder is writable to
    tests and agents; the store is yours)."""
    temporary = target.with_name(f".{target.name}.bosun-lfs")
    shutil.copyfile(source, temporary)
    os.chmod(temporary, 0o755 if executable else 0o644)
    os.replace(temporary, target)
