"""A pack of exactly the objects one commit brings that a repository lacks, built in Bosun's own
process from the long-lived object readers (git_objects.py), for `git unpack-objects --strict` to
check and take in: what `git pack-objects --revs` fed it, without that process, for the few
objects a unit's commits add. Large changes are left to git (None), which packs them with deltas.
"""

from __future__ import annotations

import hashlib
import re
import struct
import zlib

from bosun.orchestration.git_objects import GITLINK_MODE, ObjectReader

TYPE_CODES = {"commit": 1, "tree": 2, "blob": 3, "tag": 4}
MAX_OBJECTS = 2000
MAX_BYTES = 64 * 1024 * 1024
_LINK = re.compile(rb"^(?:tree|parent|object) ([0-9a-f]{40}|[0-9a-f]{64})$", re.MULTILINE)


def links(kind: str, body: bytes) -> list[str]:
    """The objects an object names: a commit its tree and parents, a tag its object, a tree its
    entries (a submodule's commit is not in this repository, so not followed)."""
    if kind in ("commit", "tag"):
        return [m.decode() for m in _LINK.findall(body.split(b"\n\n", 1)[0])]
    if kind != "tree":
        return []
    named, at = [], 0
    while at < len(body):
        space = body.index(b" ", at)
        nul = body.index(b"\0", space)
        if int(body[at:space], 8) != GITLINK_MODE:
            named.append(body[nul + 1 : nul + 21].hex())
        at = nul + 21
    return named


def missing(source: ObjectReader, target: ObjectReader, commit: str) -> dict[str, tuple[str, bytes]] | None:
    """Every object reachable from `commit` in `source` that `target` (a `check` reader) lacks,
    stopping wherever `target` has one (what it has, it has with all it links to). None when
    they are too many or too large for this, or when `source` lacks one (then git decides)."""
    if len(commit) != 40:  # a SHA-256 repository: its trees hold 32-byte ids; left to git
        return None
    found: dict[str, tuple[str, bytes]] = {}
    size, todo = 0, [commit]
    while todo:
        sha = todo.pop()
        if sha in found or target.has(sha):
            continue
        got = source.read(sha)
        if got is None or got[1] not in TYPE_CODES:
            return None
        found[sha] = (got[1], got[2])
        size += len(got[2])
        if len(found) > MAX_OBJECTS or size > MAX_BYTES:
            return None
        todo += links(got[1], got[2])
    return found


def pack(objects: dict[str, tuple[str, bytes]]) -> bytes:
    """A version 2 pack holding `objects` whole (no deltas), with its SHA-1 trailer."""
    parts = [b"PACK", struct.pack(">II", 2, len(objects))]
    for kind, body in objects.values():
        size = len(body)
        header = bytearray([(TYPE_CODES[kind] << 4) | (size & 0x0F)])
        size >>= 4
        while size:
            header[-1] |= 0x80
            header.append(size & 0x7F)
            size >>= 7
        parts += [bytes(header), zlib.compress(body, 1)]
    data = b"".join(parts)
    return data + hashlib.sha1(data).digest()
