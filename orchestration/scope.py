"""Unit scopes: which paths a unit may change, and whether two scopes can touch the same file.

A scope entry is a repository-relative path or glob. `*` matches across directories
(`src/*` is everything under `src/`), and a plain directory name covers what is below it.
"""

from __future__ import annotations

import re
from fnmatch import fnmatchcase

_GLOB_CHARS = re.compile(r"[*?\[]")


def scope_problem(entry: object) -> str | None:
    """Why `entry` is not a safe scope entry, or None when it is."""
    if not isinstance(entry, str) or not entry.strip():
        return "a scope entry must be a non-empty string"
    if entry.startswith(("/", "~")) or re.match(r"^[A-Za-z]:", entry) or "\\" in entry:
        return f"'{entry}' is not relative to the repository"
    parts = normalize(entry).split("/")
    if ".." in parts:
        return f"'{entry}' escapes the repository"
    if parts == [""]:
        return f"'{entry}' names no path (leave scope out to let the unit change any file)"
    if parts[0] in (".git", ".bosun"):
        return f"'{entry}' points into {parts[0]}/, which no unit may change"
    return None


def normalize(entry: str) -> str:
    """`entry` without leading, trailing or doubled slashes and `.` parts: `./src//a/` is `src/a`."""
    return "/".join(part for part in entry.split("/") if part not in ("", "."))


def matches(path: str, entry: str) -> bool:
    """Whether one changed file `path` lies inside the scope entry `entry`."""
    entry = normalize(entry)
    if fnmatchcase(path, entry):
        return True
    return not _GLOB_CHARS.search(entry) and path.startswith(entry + "/")


def in_scope(path: str, scope: tuple[str, ...] | None) -> bool:
    """Whether `path` may be changed by a unit with this scope (None: any file)."""
    return scope is None or any(matches(path, entry) for entry in scope)


def _literal_prefix(entry: str) -> str:
    found = _GLOB_CHARS.search(entry)
    return entry if found is None else entry[: found.start()]


def _literal_suffix(entry: str) -> str:
    last = max(entry.rfind(c) for c in "*?]")
    return entry[last + 1 :]


def entries_overlap(a: str, b: str) -> bool:
    """Whether some path could match both entries. Errs towards yes when unsure."""
    a, b = normalize(a), normalize(b)
    a_glob, b_glob = bool(_GLOB_CHARS.search(a)), bool(_GLOB_CHARS.search(b))
    if not a_glob and not b_glob:
        return a == b or a.startswith(b + "/") or b.startswith(a + "/")
    if not a_glob or not b_glob:
        literal, pattern = (a, b) if not a_glob else (b, a)
        if matches(literal, pattern) or _literal_prefix(pattern).startswith(literal + "/"):
            return True
        # A file below `literal`, when it names a folder (`src` against `*.py`: `src/x.py`): once
        # the pattern's literal start fits, its wildcards can match the rest (`*` crosses `/`).
        # A last part with an extension is taken to name a file, which has nothing below it.
        looks_like_file = "." in literal.rsplit("/", 1)[-1].lstrip(".")
        return not looks_like_file and (literal + "/").startswith(_literal_prefix(pattern))
    pa, pb = _literal_prefix(a), _literal_prefix(b)
    if not (pa.startswith(pb) or pb.startswith(pa)):
        return False
    sa, sb = _literal_suffix(a), _literal_suffix(b)
    return sa.endswith(sb) or sb.endswith(sa)


def scopes_overlap(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, str] | None:
    """The first pair of entries that could collide, or None."""
    for x in a:
        for y in b:
            if entries_overlap(x, y):
                return x, y
    return None
