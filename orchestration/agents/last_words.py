"""What an agent said last, read from the end of its log: the model's closing messages when the log
is a CLI's structured stream (what a person asks first: why did it stop?), else its last lines."""

from __future__ import annotations

from bosun.orchestration.agents.transcript import Transcript
from bosun.orchestration.ansi import last_line, strip_ansi


def said_last(text: str) -> tuple[list[str], list[str]]:
    """The model's messages (pieces of one joined), and the errors and plain lines, in order."""
    said, other = [], []
    for kind, words in _entries(text):
        (said if kind == "text" else other).append(words)
    return said, other


def why_it_stopped(text: str, exit_code: int, width: int = 200) -> str | None:
    """One line for a failure without a commit: what the model said last, or with a non-zero exit
    the last error or line after it (a rate limit, a missing file, a refused login)."""
    entries = _entries(text)
    if exit_code:
        words = entries[-1][1] if entries else None
    else:
        words = next((w for kind, w in reversed(entries) if kind == "text"), None)
    return (last_line(" ".join(words.split()), width) or None) if words else None


def _entries(text: str) -> list[tuple[str, str]]:
    """("text", the model's words) and ("other", an error or a plain line), in the log's order."""
    transcript, out = Transcript(), []
    for line in text.splitlines():
        for entry in transcript.feed(line):
            if entry.kind == "text":
                if entry.continues and out and out[-1][0] == "text":
                    out[-1] = ("text", out[-1][1] + entry.text)
                else:
                    out.append(("text", entry.text))
            elif entry.kind in ("plain", "error") and entry.text.strip():
                out.append(("other", strip_ansi(entry.text).rstrip()))
    return out
