"""Loose git objects written by an agent in its sandbox, taken into Bosun's clone one by one, each
only when its content hashes to its name (nothing else an agent leaves there is trusted)."""

from __future__ import annotations

import hashlib
import os
import re
import threading
import zlib
from pathlib import Path

OBJECT_ID = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
OBJECT_MAX = 1 << 30
"""The largest object taken in, inflated (git's own `core.bigFileThreshold` is half of it)."""
INFLATE_BUDGET = 4 << 30
"""Inflated bytes one take-in reads at most: a file of zeros compresses a thousandfold, and an
agent could leave many."""
CHUNK = 1 << 20
COMMIT_MAX = 16 << 20
"""A commit object larger than this is stored but never taken for a commit a branch may name."""


def take_in(source: Path, target: Path) -> set[str]:
    """Copy the loose objects of `source` whose content hashes to their name into `target` (an
    objects folder); anything else is left behind.
    Returns the ids of the commits taken in."""
    commits: set[str] = set()
    budget = [INFLATE_BUDGET]
    for fan in source.iterdir() if source.is_dir() else ():
        if len(fan.name) != 2 or fan.is_symlink() or not fan.is_dir():
            continue
        for loose in fan.iterdir():
            name = fan.name + loose.name
            if not OBJECT_ID.match(name) or loose.is_symlink() or not loose.is_file():
                continue
            dest = target / fan.name / loose.name
            if dest.exists():
                continue
            try:
                data = loose.read_bytes()
            except OSError:
                continue
            if (found := verified(data, name, budget)) is None:
                continue
            dest.parent.mkdir(exist_ok=True)
            # Two agents' absorbs may take in the same object at once: a temporary file each.
            tmp = dest.parent / f"tmp_obj_{os.getpid()}_{threading.get_ident()}_{loose.name}"
            tmp.write_bytes(data)
            os.chmod(tmp, 0o444)
            os.replace(tmp, dest)
            if found[0] == b"commit" and found[1] <= COMMIT_MAX and well_formed_commit(zlib.decompress(data)):
                commits.add(name)
    return commits


def verified(data: bytes, name: str, budget: list[int]) -> tuple[bytes, int] | None:
    """The object's kind and inflated size when `data` inflates to an object hashing to `name`, as
    big as its header says; None otherwise. Inflated a chunk at a time, hashed as it goes and dropped, within
    OBJECT_MAX and what is left of `budget` (taken from it): a bomb costs neither memory nor
    minutes."""
    inflate = zlib.decompressobj()
    digest = hashlib.sha1() if len(name) == 40 else hashlib.sha256()
    first, size, pending = b"", 0, data
    try:
        while pending or not inflate.eof:
            piece = inflate.decompress(pending, CHUNK)
            pending = inflate.unconsumed_tail
            if not piece:
                break
            first, size = first or piece[:64], size + len(piece)
            budget[0] -= len(piece)
            if size > OBJECT_MAX + 64 or budget[0] < 0:
                return None
            digest.update(piece)
    except zlib.error:
        return None
    header = first.partition(b"\0")[0]
    kind, _, length = header.partition(b" ")
    if not inflate.eof or not length.isdigit() or len(header) + 1 + int(length) != size:
        return None
    return (kind, size) if digest.hexdigest() == name else None


def well_formed_commit(body: bytes) -> bool:
    """What `update-ref` checks before it points a branch at an object: a commit whose header
    length is true and whose content starts with its tree (a `--literally` bogus one is not)."""
    header, _, content = body.partition(b"\0")
    kind, _, size = header.partition(b" ")
    return (
        kind == b"commit"
        and size.isdigit()
        and int(size) == len(content)
        and re.match(rb"tree [0-9a-f]{40}\n", content) is not None
    )
