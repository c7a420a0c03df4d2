"""What an agent said last, read from the end of its log: the model's closing messages when the log
is a CLI's structured stream (what a person asks first: why did it stop?), else its last lines."""

from __future__ import annotations

from bosun.orchestration.agents.transcript import Transcript
from bosun.orchestration.ansi import strip_ansi


def said_last(text: str) -> tuple[list[str], list[str]]:
    """The model's messages (pieces of one joined), and the errors and plain lines, in order."""
    transcript, said, other = Transcript(), [], []
    for line in text.splitlines():
        for entry in transcript.feed(line):
            if entry.kind == "text":
                if entry.continues and said:
                    said[-1] += entry.text
                else:
                    said.append(entry.text)
            elif entry.kind in ("plain", "error") and entry.text.strip():
                other.append(strip_ansi(entry.text).rstrip())
    return said, other


def why_it_stopped(text: str, exit_code: int, width: int = 200) -> str | None:
    """One line for a failure without a commit: the model's last message, or with a non-zero exit
    the last error or line (a missing file, a refused login) when the model said nothing."""
    said, other = said_last(text)
    words = said[-1] if said else (other[-1] if other and exit_code else None)
    if not words or not words.strip():
        return None
    words = " ".join(words.split())
    return words if len(words) <= width else words[: width - 1] + "…"
