"""Diagnostics of real analysers (type checkers, compilers, linters), parsed from their text
output into one shape, and keyed so that the same problem is recognised in another version of
the project although its line moved.

Formats read (one diagnostic a line; other lines are ignored):

- `path:line:col: severity: message [code]` (mypy, gcc/clang, `cargo check --message-format short`,
  flake8/ruff concise, eslint's `unix` formatter);
- `path:line:col: severity[code] message` (ty's concise output);
- `path:line[:col]: message` (go vet / go build, and most other tools);
- `path(line,col): error TS2345: message` (tsc);
- `SEVERITY path:line:col[-col]: message [code]` (pyrefly's min-text);
- `  path:line:col - error: message (reportRule)` (pyright, basedpyright).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

SEVERITY_WORDS = r"(?:fatal error|error|warning|note|info|hint|help)"

_TSC = re.compile(
    r"^(?P<path>[^\s(][^(]*?)\((?P<line>\d+),(?P<col>\d+)\): (?P<sev>error|warning|message) "
    r"(?P<code>TS\d+): (?P<msg>.*)$"
)
_PYREFLY = re.compile(
    r"^\s*(?P<sev>ERROR|WARN|WARNING|INFO) (?P<path>\S+?):(?P<line>\d+):(?P<col>\d+)(?:-[\d:]+)?: "
    r"(?P<msg>.*?)(?: \[(?P<code>[\w.-]+)\])?$"
)
_BRACKET_SEV = re.compile(
    r"^(?P<path>[^\s:][^:]*?):(?P<line>\d+):(?P<col>\d+): "
    rf"(?P<sev>{SEVERITY_WORDS})\[(?P<code>[\w./-]+)\]:? (?P<msg>.*)$"
)
_PYRIGHT = re.compile(
    r"^\s*(?P<path>[^\s:][^:]*?):(?P<line>\d+):(?P<col>\d+) - (?P<sev>error|warning|information): "
    r"(?P<msg>.*?)(?: \((?P<code>report\w+)\))?$"
)
_GENERIC = re.compile(
    r"^(?P<path>[^\s:][^:]*?):(?P<line>\d+)(?::(?P<col>\d+))?:\s*"
    rf"(?:(?P<sev>{SEVERITY_WORDS}):\s*)?(?P<msg>.*\S)\s*$"
)
_TRAILING_CODE = re.compile(r"\s+\[(?P<code>[\w./-]+)\]$")
_LEADING_CODE = re.compile(r"^(?P<code>[A-Z]+\d+|E\d{4})\b:?\s*")
_LOCATION = re.compile(r"(?:\b(?:line|lines|col|column)\s+\d+(?:-\d+)?)|(?::\d+(?::\d+)?(?=\W|$))|(?:\(\d+,\d+\))")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Diagnostic:
    path: str  # repo-relative, posix
    line: int
    col: int
    rule: str  # the tool's code for the problem (TS2345, arg-type, ...), or "" when it gives none
    message: str
    severity: str = "error"

    @property
    def key(self) -> tuple[str, str, str]:
        """What identifies the problem across versions of the project: file, rule and the message
        with every line and column reference taken out (lines shift when either side edits)."""
        return self.path, self.rule, normalise(self.message)

    def to_json(self) -> dict:
        return {
            "path": self.path,
            "line": self.line,
            "col": self.col,
            "rule": self.rule,
            "message": self.message,
            "severity": self.severity,
        }


def normalise(message: str) -> str:
    return _SPACES.sub(" ", _LOCATION.sub("", message)).strip()


def relative(path: str, root: str) -> str:
    """A reported path made repo-relative: tools print absolute paths, `./x`, or paths under the
    folder they ran in (which differs for each version of the tree)."""
    path = path.replace("\\", "/").strip()
    root = root.rstrip("/") + "/"
    if path.startswith(root):
        path = path[len(root) :]
    else:  # a temporary folder resolved through a symlink (/tmp -> /private/tmp) or similar
        marker = root.rstrip("/").rsplit("/", 1)[-1] + "/"
        if marker != "/" and f"/{marker}" in path:
            path = path.split(f"/{marker}", 1)[1]
    while path.startswith("./"):
        path = path[2:]
    return path


def parse_line(line: str, root: str = "") -> Diagnostic | None:
    """One line of an analyser's output as a diagnostic, or None when it is not one."""
    text = line.rstrip("\r\n")
    text = text[5:] if text.startswith("vet: ") else text  # go vet's type-checking failures
    if not text.strip() or len(text) > 4000:
        return None
    for pattern in (_TSC, _PYREFLY, _PYRIGHT, _BRACKET_SEV, _GENERIC):
        match = pattern.match(text)
        if match:
            break
    else:
        return None
    fields = match.groupdict()
    message = fields["msg"].strip()
    code = fields.get("code") or ""
    if not code:
        trailing = _TRAILING_CODE.search(message)
        if trailing:
            code, message = trailing.group("code"), message[: trailing.start()]
        else:
            leading = _LEADING_CODE.match(message)
            if leading:
                code, message = leading.group("code"), message[leading.end() :]
    path = relative(fields["path"], root) if root else fields["path"].removeprefix("./")
    if path.startswith(("http:", "https:")) or " " in path.strip():
        return None
    severity = (fields.get("sev") or "error").lower().replace("warn", "warning").replace("warninging", "warning")
    if severity in ("note", "info", "information", "hint", "help", "message"):
        return None  # context for another diagnostic, not a problem of its own
    return Diagnostic(
        path,
        int(fields["line"]),
        int(fields.get("col") or 0),
        code,
        message.strip(),
        "warning" if severity.startswith("warn") else "error",
    )


def parse(output: str, root: str = "") -> list[Diagnostic]:
    """Every diagnostic in an analyser's output; `root` is the folder it ran in (taken off paths)."""
    found = []
    for line in output.splitlines():
        diagnostic = parse_line(line, root)
        if diagnostic is not None:
            found.append(diagnostic)
    return found


def new_in_merge(
    base: list[Diagnostic], ours: list[Diagnostic], theirs: list[Diagnostic], merged: list[Diagnostic]
) -> list[Diagnostic]:
    """Diagnostics of the merged tree that neither side nor the base had: for each key, the merge's
    count beyond the most any other version had (a problem both sides already show is not the
    merge's doing, and neither is a second copy when one already existed everywhere)."""
    before = Counter(d.key for d in base)
    for side in (ours, theirs):
        for key, count in Counter(d.key for d in side).items():
            before[key] = max(before[key], count)
    seen: Counter = Counter()
    new = []
    for diagnostic in sorted(merged, key=lambda d: (d.path, d.line, d.col)):
        seen[diagnostic.key] += 1
        if seen[diagnostic.key] > before[diagnostic.key]:
            new.append(diagnostic)
    return new
