"""Naming a finding: what each side of a merge changed near a diagnostic only the merge has."""

from __future__ import annotations

from pathlib import Path

from bosun.orchestration.semantic.diagnostics import Diagnostic
from bosun.orchestration.semantic.findings import Finding


def related(diagnostic: Diagnostic, changed: list[str], limit: int = 3) -> list[str]:
    """The files a side changed that most likely produced the diagnostic: the file itself, then
    files named (by path, name or stem) in its message, then other files of the same language."""
    if not changed:
        return []
    message = diagnostic.message
    suffix = Path(diagnostic.path).suffix

    def rank(path: str) -> int:
        if path == diagnostic.path:
            return 0
        stem = Path(path).stem
        if path in message or Path(path).name in message or (len(stem) > 2 and stem in message):
            return 1
        return 2 if Path(path).suffix == suffix else 3

    return sorted(changed, key=lambda p: (rank(p), p))[:limit]


def describe(side: str, files: list[str], total: int) -> str:
    if not files:
        return f"{side} changed nothing near it"
    more = f" (+{total - len(files)} more)" if total > len(files) else ""
    return f"{side} changed {', '.join(files)}{more}"


def finding_of(analyser, diagnostic: Diagnostic, ours: list[str], theirs: list[str]) -> Finding:
    rule = diagnostic.rule or analyser.program
    our_part = describe("the integration branch", related(diagnostic, ours), len(ours))
    their_part = describe("the unit's branch", related(diagnostic, theirs), len(theirs))
    message = (
        f"{analyser.name}: {rule}: {diagnostic.message} (new in the merge, in neither side: {our_part}; {their_part})"
    )
    return Finding(
        analyser.kind,
        diagnostic.path,
        max(diagnostic.line, 1),
        rule,
        " ".join(message.split()),
        our_part.removeprefix("the integration branch "),
        their_part.removeprefix("the unit's branch "),
    )
