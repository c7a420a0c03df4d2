"""Where a plan's problems are: `file:line: where: what`, lines found by searching the text,
since tomllib gives no positions. A table's keys are looked up inside that table only."""

from __future__ import annotations

import re
from pathlib import Path

_HEADER = re.compile(r"^\s*\[\[?\s*[^\[\]=]+?\s*\]\]?\s*(#.*)?$")


class Problems:
    """Collects problems as `file:line: where: what`, finding lines by searching the text.

    A table's keys are searched between its header and the next header, so a key is found
    in its own table rather than in the first table that happens to use the same name.
    """

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = text.splitlines()
        self.items: list[str] = []
        self.headers = [n for n, line in enumerate(self.lines, 1) if _HEADER.match(line)]
        self.depends_line: dict[str, int | None] = {}

    def line_of(self, pattern: str, start: int = 0, end: int | None = None) -> int | None:
        """The first line (1-based) matching `pattern` among lines start+1 .. end."""
        regex = re.compile(pattern)
        for number, line in enumerate(self.lines[start:end], start + 1):
            if regex.search(line):
                return number
        return None

    def section(self, header: int | None) -> tuple[int, int | None]:
        """The (start, end) for line_of covering the table whose header is on line `header`;
        the part before the first header when `header` is None."""
        if header is None:
            return 0, (self.headers[0] - 1 if self.headers else None)
        later = [n for n in self.headers if n > header]
        return header - 1, (later[0] - 1 if later else None)

    def key_line(self, key: str, header: int | None) -> int | None:
        """The line of `key = ...` inside the table whose header is on line `header`."""
        return self.line_of(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=", *self.section(header))

    def add(self, where: str, what: str, line: int | None = None) -> None:
        place = f"{self.path.name}:{line}" if line else self.path.name
        self.items.append(f"{place}: {where}: {what}")
