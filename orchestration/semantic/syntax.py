"""A merge whose Python no longer parses: git joined two edits that each parse into a file that
does not (an `if` one side added whose body the other side dedented, a bracket opened on one side
and closed on a line the other side removed). Reported when the merged file fails to parse while
that file parses (or does not exist) on both sides."""

from __future__ import annotations

import warnings
from collections.abc import Mapping

from bosun.orchestration.semantic.findings import Finding


def syntax_error(text: str) -> tuple[int, str] | None:
    """(line, message) of the first syntax error, or None when the text parses."""
    source = text.removeprefix("\ufeff")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(source, "<merged>", "exec", dont_inherit=True, flags=0x400)  # ast.PyCF_ONLY_AST
    except SyntaxError as exc:
        return max(exc.lineno or 1, 1), exc.msg
    except (ValueError, RecursionError, MemoryError) as exc:
        return 1, str(exc) or type(exc).__name__
    return None


def syntax_findings(
    base: Mapping[str, str], ours: Mapping[str, str], theirs: Mapping[str, str], merged: Mapping[str, str]
) -> list[Finding]:
    findings = []
    for path in sorted(merged):
        text = merged[path]
        if text in (ours.get(path), theirs.get(path), base.get(path)):
            continue  # as one version had it: whatever is wrong with it is not the merge's doing
        error = syntax_error(text)
        if error is None:
            continue
        if any(side.get(path) is not None and syntax_error(side[path]) is not None for side in (ours, theirs)):
            continue  # a side already did not parse: the merge inherited it
        line, reason = error
        findings.append(
            Finding(
                "syntax_error",
                path,
                line,
                path,
                f"{path} does not parse after the merge ({reason}, line {line}), although it parses on both sides: "
                "git joined edits from each side into invalid Python",
                "changed it" if ours.get(path) != base.get(path) else "left it as it was",
                "changed it" if theirs.get(path) != base.get(path) else "left it as it was",
            )
        )
    return findings
