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


def take_in(source: Path, target: Path) -> set[str]:
    """Copy the loose objects of `source` whose content hashes to their name into `target` (an
    objects folder); anything else is left behind.
    Returns the ids of the commits taken in."""
    commits: set[str] = set()
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
                body = zlib.decompress(data)
            except (OSError, zlib.error):
                continue
            digest = (hashlib.sha1 if len(name) == 40 else hashlib.sha256)(body).hexdigest()
            if digest != name:
                continue
            dest.parent.mkdir(exist_ok=True)
            # Two agents' absorbs may take in the same object at once: a temporary file each.
            tmp = dest.parent / f"tmp_obj_{os.getpid()}_{threading.get_ident()}_{loose.name}"
            tmp.write_bytes(data)
            os.chmod(tmp, 0o444)
            os.replace(tmp, dest)
            if well_formed_commit(body):
                commits.add(name)
    return commits


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
