"""Terminal escape codes out of text that is stored or printed as plain text (a task's hand-back,
`bosun status --json`); the screen renders the colours instead (Rich's `Text.from_ansi`)."""

from __future__ import annotations

import re

_ESCAPES = re.compile(
    r"""
    \x1b\[[0-?]*[ -/]*[@-~]                 # CSI: colours, cursor moves, erases
  | \x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?      # OSC: titles, links (ended by BEL or ST)
  | \x1b[P^_][^\x1b]*(?:\x1b\\)?            # DCS, PM, APC strings
  | \x1b[@-Z\\-_]                           # any other two-byte escape
  | \x9b[0-?]*[ -/]*[@-~]                   # CSI as one C1 byte
""",
    re.VERBOSE,
)


_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
"""Control characters but tab and line ends: a bell, a backspace over what was printed, a lone ESC."""
_LINE_BREAKS = re.compile(r"\s*[\r\n\x0b\x0c\x85\u2028\u2029]\s*")


def strip_ansi(text: str) -> str:
    """`text` without terminal escape sequences and control characters (tabs and line ends stay)."""
    if "\x1b" in text or "\x9b" in text:
        text = _ESCAPES.sub("", text)
    return _CONTROLS.sub("", text)


def one_line(text: str) -> str:
    """`text` stripped and on one line (its line breaks become ` | `): what a line-per-event log prints."""
    return _LINE_BREAKS.sub(" | ", strip_ansi(text).strip())


def strip_ansi_in(value):
    """A JSON-like value with every string in it stripped (dicts and lists copied, the rest as is)."""
    if isinstance(value, str):
        return strip_ansi(value)
    if isinstance(value, dict):
        return {key: strip_ansi_in(item) for key, item in value.items()}
    if isinstance(value, list):
        return [strip_ansi_in(item) for item in value]
    return value


def last_line(text: str, width: int = 160) -> str:
    """The last non-blank line of an output, without escapes, cut to `width`: what a person reads first."""
    for line in reversed(strip_ansi(text).splitlines()):
        if line.strip():
            line = line.strip()
            return line if len(line) <= width else line[: width - 1] + "…"
    return ""
