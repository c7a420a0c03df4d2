"""Semantic checks for Python merges: static analysis (the standard `ast` module only; project
code is never run) of merges that git finds textually clean but that do not hold together:

- `duplicate_definition` / `duplicate_key`: each side added one copy of a name or registry key;
- `signature_mismatch`: a call one side brought no longer fits a callee the other side changed;
- `removed_name`: a name, member or module one side uses, that the other side removed, renamed or moved
  (also when named in a string: `import_module("pkg.mod")`, a registry's dotted path);
- `removed_base_member`: a subclass overriding or reaching a base-class member that is gone;
- `contract_change` (a warning): one side changed a value, a default, a return shape or the raised
  exceptions of a definition the other side's new code uses.

Each finding is tied to code a side changed since the merge base, so problems that were already
there, in code neither side touched, are never reported.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path

from bosun.orchestration.errors import GitError
from bosun.orchestration.git_objects import object_id, reader
from bosun.orchestration.gitcmd import GIT_ENV, SAFE_CONFIG
from bosun.orchestration.semantic.breaks import use_findings
from bosun.orchestration.semantic.duplicates import duplicate_findings
from bosun.orchestration.semantic.findings import DEFAULT_SEVERITY, KINDS, Finding
from bosun.orchestration.semantic.merge import Merge
from bosun.orchestration.semantic.strings import string_findings

__all__ = ["DEFAULT_SEVERITY", "KINDS", "Finding", "check_merge", "read_python_tree"]

SYMLINK_MODE = "120000"
GITLINK_MODE = "160000"


def check_merge(
    base: Mapping[str, str], ours: Mapping[str, str], theirs: Mapping[str, str], merged: Mapping[str, str]
) -> list[Finding]:
    """Each mapping: repo-relative posix path -> source text, Python files only (*.py).
    base = merge base, ours = integration head, theirs = unit head, merged = the candidate merge.
    Returns findings sorted by (path, line, kind), deduplicated. Never raises on a file that
    does not parse (it is skipped; a syntax error is the tests' job)."""
    merge = Merge(base, ours, theirs, merged)
    duplicates = duplicate_findings(merge)
    # A use of a name defined twice is judged against whichever copy won: the duplicate is the
    # finding, a contract or signature complaint about the winning copy only its echo.
    redefined = {f.symbol for f in duplicates if f.kind == "duplicate_definition"}
    uses = [f for side in ("ours", "theirs") for f in use_findings(merge, side) if f.symbol not in redefined]
    unique = {(f.path, f.line, f.kind, f.symbol): f for f in duplicates + uses + string_findings(merge)}
    return [unique[key] for key in sorted(unique)]


def read_python_tree(repo: Path, treeish: str) -> dict[str, str]:
    """Every `*.py` file of a commit or tree, by repo-relative path, through the repository's
    long-lived `git cat-file --batch` (git_objects.py): no process per tree or file."""
    objects = reader(repo)
    blobs: dict[str, str] = {}
    for mode, sha, raw in objects.files(object_id(repo, treeish)):
        path = raw.decode("utf-8", "replace")
        if mode not in (SYMLINK_MODE, GITLINK_MODE) and path.endswith(".py"):
            blobs[path] = sha
    contents = read_blobs(repo, sorted(set(blobs.values())))
    return {path: contents[sha] for path, sha in blobs.items()}


def read_blobs(repo: Path, shas: list[str]) -> dict[str, str]:
    """Blob texts by id, through the repository's long-lived `git cat-file --batch`."""
    return {sha: data.decode("utf-8", "replace") for sha, data in reader(repo).blobs(shas).items()}


def run_git(repo: Path, args: list[str], stdin: bytes | None = None) -> bytes:
    proc = subprocess.run(
        ["git", *SAFE_CONFIG, *args], cwd=repo, env=GIT_ENV, input=stdin, capture_output=True, check=False
    )
    if proc.returncode != 0:
        raise GitError(args, proc.returncode, proc.stderr.decode(errors="replace"))
    return proc.stdout
