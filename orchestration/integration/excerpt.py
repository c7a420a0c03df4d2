"""What a gate's verdict keeps of its output: the 4 KB shown with a failure in the Gate tab and the
unit's story, and handed back to the agent. The end of the log, but not a coverage table that
closes it (istanbul's text reporter under nyc, c8, Jest or Vitest; `node --test` with coverage),
which would fill all of it; and when a TAP stream reports failures, its `not ok` lines first,
since they can be thousands of lines above the end (node-tap prints each test file's stream)."""

from __future__ import annotations

import re
from pathlib import Path

from bosun.orchestration.process import tail

EXCERPT_BYTES = 4000
READ_BYTES = 64_000
"""How much of the log's end is read to find where a coverage table starts."""
SCAN_BYTES = 8_000_000
"""A longer log is not searched for its `not ok` lines (the excerpt is then the end alone)."""
MAX_FAILURES = 12


def _in_table(line: str) -> bool:
    """A coverage table's row, rule or title (`# ` is `node --test`'s prefix), or a blank line."""
    text = line.removeprefix("#").strip()
    return (
        not text
        or line.count("|") >= 2
        or set(text) <= set("-=+| ")
        or re.search(r"(?i)\bcoverage (report|summary)\b", text) is not None
    )


def cut_coverage(text: str) -> tuple[str, int]:
    """`text` without the coverage table it ends with, and how many lines were cut (0: none)."""
    lines = text.rstrip("\n").split("\n")
    end = len(lines)
    while end and _in_table(lines[end - 1]):
        end -= 1
    rows = sum(1 for line in lines[end:] if line.count("|") >= 2)
    if rows < 3:  # a line or two with bars is output, not a table
        return text, 0
    return "\n".join(lines[:end]) + "\n", len(lines) - end


def _failures(log: Path) -> list[str]:
    """The TAP stream's `not ok` lines (subtests indented as printed), the first MAX_FAILURES."""
    try:
        if log.stat().st_size > SCAN_BYTES:
            return []
        with open(log, encoding="utf-8", errors="replace") as handle:
            found = [line.rstrip() for line in handle if re.match(r"\s*not ok \d+", line)]
    except OSError:
        return []
    return found[:MAX_FAILURES] + ([f"... and {len(found) - MAX_FAILURES} more"] if len(found) > MAX_FAILURES else [])


def excerpt(log: Path) -> str:
    """The gate's output as its verdict keeps it (at most EXCERPT_BYTES, cut at line starts)."""
    body, cut = cut_coverage(tail(log, READ_BYTES))
    failed = re.search(r"^# fail(?:ed)? [1-9]", body, re.MULTILINE) is not None  # node --test, node-tap
    head = "\n".join(_failures(log)) + "\n...\n" if failed else ""
    note = f"[a coverage report of {cut} lines follows]\n" if cut else ""
    room = max(EXCERPT_BYTES - len(head) - len(note), EXCERPT_BYTES // 2)
    end = body[-room:]
    if len(body) > room and "\n" in end:
        end = end.split("\n", 1)[1]
    return head[: EXCERPT_BYTES // 2] + end + note
