"""Reading git objects without a process per read: one long-lived `git cat-file --batch` per
repository, asked one object at a time.

The merge queue reads trees and files of every candidate (the semantic checks list four trees
and read their Python files); a `git ls-tree` or `cat-file` per read was ten processes a unit.
An object id names its content, so a reader started before an object was written still reads
it right (git looks for loose objects and re-scans packs on a miss). Only object ids and
expressions on them (`<id>^{tree}`) are asked here, never a ref name: what a ref points at is
always read by a fresh process.
"""

from __future__ import annotations

import atexit
import os
import re
import subprocess
import threading
from collections import OrderedDict
from pathlib import Path

from bosun.orchestration.errors import GitError
from bosun.orchestration.gitcmd import GIT_ENV, SAFE_CONFIG, git

MAX_READERS = 8  # repositories with a reader at once (a test run opens hundreds): the oldest is closed
CACHE_BYTES = 32 * 1024 * 1024  # per repository
TREE_MODE = 0o40000
GITLINK_MODE = 0o160000
OBJECT_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


class ObjectReader:
    """One `git cat-file --batch` on one repository (`--batch-check` with `check`: whether an
    object exists, its content never sent); safe to share between threads."""

    def __init__(self, repo: Path, check: bool = False) -> None:
        self.repo = repo
        self.check = check
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        # What an object id names never changes: answers are kept (the queue reads the same files
        # of the same trees for every candidate), up to CACHE_BYTES, the oldest dropped first.
        self._cache: OrderedDict[str, tuple[str, str, bytes]] = OrderedDict()
        self._cached_bytes = 0

    def _start(self) -> subprocess.Popen:
        return subprocess.Popen(
            ["git", *SAFE_CONFIG, "cat-file", "--batch-check" if self.check else "--batch"],
            cwd=self.repo,
            env=GIT_ENV,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )

    def read(self, spec: str) -> tuple[str, str, bytes] | None:
        """(object id, type, content) of `spec`, or None when there is no such object."""
        if "\n" in spec or not spec:
            raise ValueError(f"not an object name: {spec!r}")
        with self._lock:
            if (kept := self._cache.get(spec)) is not None:
                self._cache.move_to_end(spec)
                return kept
            for attempt in (1, 2):  # a reader that died (its repository moved, a kill) is started once more
                try:
                    found = self._ask(spec)
                    break
                except (OSError, ValueError) as exc:
                    self._stop()
                    if attempt == 2:
                        raise GitError(["cat-file", "--batch", spec], 128, str(exc)) from None
            if found is not None and OBJECT_ID.fullmatch(spec.split("^", 1)[0]):  # an id, not a name
                self._keep(spec, found)
            return found

    def _keep(self, spec: str, found: tuple[str, str, bytes]) -> None:
        size = len(found[2]) + len(spec) + 100
        if size > CACHE_BYTES // 16:
            return
        self._cache[spec] = found
        self._cached_bytes += size
        while self._cached_bytes > CACHE_BYTES:
            old_spec, old = self._cache.popitem(last=False)
            self._cached_bytes -= len(old[2]) + len(old_spec) + 100

    def _ask(self, spec: str) -> tuple[str, str, bytes] | None:
        if self._proc is None or self._proc.poll() is not None:
            self._proc = self._start()
        stdin, stdout = self._proc.stdin, self._proc.stdout
        stdin.write(spec.encode("utf-8", "surrogateescape") + b"\n")
        stdin.flush()
        header = stdout.readline()
        if not header.endswith(b"\n"):
            raise ValueError("git cat-file --batch ended")
        words = header.split()
        if len(words) != 3 or words[-1] in (b"missing", b"ambiguous"):
            return None
        size = int(words[2])
        if self.check:
            return words[0].decode(), words[1].decode(), b""
        body = stdout.read(size + 1)
        if len(body) != size + 1:
            raise ValueError("git cat-file --batch ended")
        return words[0].decode(), words[1].decode(), body[:size]

    def _stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            proc.stdin.close()
        except OSError:
            pass
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()

    def close(self) -> None:
        with self._lock:
            self._stop()

    # -- what callers ask for ------------------------------------------------------------------
    def has(self, sha: str) -> bool:
        """Whether the repository holds the object `sha` (an id)."""
        return self.read(sha) is not None

    def blobs(self, shas: list[str]) -> dict[str, bytes]:
        """The content of each blob id (a missing one raises GitError, as `git cat-file` fails)."""
        found = {}
        for sha in shas:
            got = self.read(sha)
            if got is None:
                raise GitError(["cat-file", "--batch", sha], 128, f"fatal: missing object {sha}")
            found[sha] = got[2]
        return found

    def tree_id(self, treeish: str) -> str:
        """The tree a commit or tree id names (what `git rev-parse X^{tree}` prints)."""
        got = self.read(f"{treeish}^{{tree}}")
        if got is None:
            raise GitError(["rev-parse", f"{treeish}^{{tree}}"], 128, f"fatal: not a tree: {treeish}")
        return got[0]

    def commit_id(self, treeish: str) -> str | None:
        """The commit `treeish` (an object id) peels to, or None (what `rev-parse --verify X^{commit}` says)."""
        got = self.read(f"{treeish}^{{commit}}")
        return got[0] if got is not None else None

    def reaches(self, descendant: str, ancestor: str, steps: int = 64) -> bool | None:
        """Whether `ancestor` is among `descendant`'s first `steps` commits back (itself included),
        read from the commits' parent lines; None when the walk ended without an answer (too far,
        or an object missing), for `git merge-base --is-ancestor` to settle."""
        todo, seen = [descendant], set()
        while todo and len(seen) < steps:
            sha = todo.pop()
            if sha == ancestor:
                return True
            if sha in seen:
                continue
            seen.add(sha)
            got = self.read(sha)
            if got is None or got[1] != "commit":
                return None
            header = got[2].split(b"\n\n", 1)[0]
            todo += [line[7:47].decode() for line in header.split(b"\n") if line.startswith(b"parent ")]
        return False if not todo else None

    def entries(self, tree: str) -> list[tuple[int, bytes, str]]:
        """(mode, name, id) of each entry of one tree, in the tree's order."""
        got = self.read(tree)
        if got is None or got[1] != "tree":
            raise GitError(["ls-tree", tree], 128, f"fatal: not a tree object: {tree}")
        data, at, found = got[2], 0, []
        while at < len(data):
            space = data.index(b" ", at)
            nul = data.index(b"\0", space)
            found.append((int(data[at:space], 8), data[space + 1 : nul], data[nul + 1 : nul + 21].hex()))
            at = nul + 21
        return found

    def files(self, treeish: str) -> list[tuple[str, str, bytes]]:
        """(mode as `ls-tree` prints it, id, path) of every non-tree entry below a tree, in the
        order of `git ls-tree -r` (submodules as their commit entry, not entered)."""
        found: list[tuple[str, str, bytes]] = []
        self._walk(self.tree_id(treeish), b"", found)
        return found

    def _walk(self, tree: str, prefix: bytes, found: list) -> None:
        for mode, name, sha in self.entries(tree):
            if mode == TREE_MODE:
                self._walk(sha, prefix + name + b"/", found)
            else:
                found.append((f"{mode:06o}", sha, prefix + name))

    def changed_paths(self, old: str, new: str, links: list | None = None) -> list[bytes]:
        """The paths that differ between two commits or trees, as `git diff --name-only --no-renames`
        lists them (a file that became a folder: the file and everything in the folder); `links`
        gets those of them that are gitlinks in `new`."""
        found: list[bytes] = []
        self._diff(self.tree_id(old), self.tree_id(new), b"", found, links if links is not None else [])
        return sorted(found)

    def _diff(self, old: str | None, new: str | None, prefix: bytes, found: list, links: list) -> None:
        if old == new:
            return
        before = {name: (mode, sha) for mode, name, sha in self.entries(old)} if old else {}
        after = {name: (mode, sha) for mode, name, sha in self.entries(new)} if new else {}
        for name in before.keys() | after.keys():
            a, b = before.get(name), after.get(name)
            if a == b:
                continue
            a_tree = a[1] if a and a[0] == TREE_MODE else None
            b_tree = b[1] if b and b[0] == TREE_MODE else None
            if a_tree or b_tree:
                self._diff(a_tree, b_tree, prefix + name + b"/", found, links)
            if (a and a[0] != TREE_MODE) or (b and b[0] != TREE_MODE):
                found.append(prefix + name)
            if b and b[0] == GITLINK_MODE:
                links.append(prefix + name)


def object_id(repo: Path, name: str) -> str:
    """`name` itself when it is an object id, else the object it names now (a ref, `HEAD`), read
    by a fresh `git rev-parse`: refs move, objects do not."""
    if OBJECT_ID.fullmatch(name):
        return name
    result = git(["rev-parse", "--verify", "--quiet", "--end-of-options", name], repo, check=False)
    if result.code != 0:
        raise GitError(["rev-parse", name], result.code, f"fatal: not a valid object name: {name}")
    return result.out.strip()


_READERS: OrderedDict[str, ObjectReader] = OrderedDict()
_READERS_LOCK = threading.Lock()


def reader(repo: Path, check: bool = False) -> ObjectReader:
    """The reader of `repo` (its top folder or git dir), started on first use; with `check`, the
    one that only says whether an object exists (`has`)."""
    key = f"{'check:' if check else ''}{repo}"
    with _READERS_LOCK:
        found = _READERS.get(key)
        if found is None:
            found = _READERS[key] = ObjectReader(repo, check)
            while len(_READERS) > MAX_READERS:
                _, oldest = _READERS.popitem(last=False)
                threading.Thread(target=oldest.close, daemon=True, name="bosun reader close").start()
        else:
            _READERS.move_to_end(key)
        return found


def close_readers() -> None:
    """End every reader (at exit; also ends with this process, as each reads its stdin to the end)."""
    with _READERS_LOCK:
        readers = list(_READERS.values())
        _READERS.clear()
    for one in readers:
        one.close()


def _forget_in_child() -> None:
    """A forked child shares the parent's pipes: it starts readers of its own when it reads."""
    global _READERS_LOCK
    _READERS_LOCK = threading.Lock()
    _READERS.clear()


atexit.register(close_readers)
os.register_at_fork(after_in_child=_forget_in_child)
