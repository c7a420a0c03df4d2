"""`bosun log UNIT`: an agent's output for one attempt, read as the Output tab reads it (what the
model said, each tool call and its result, errors), or as written (`--raw`); `--follow` keeps
printing while the attempt runs, from the project's setup on."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from bosun.app.cli.repo_session import opened
from bosun.orchestration.agents.log_tail import LogTail
from bosun.orchestration.agents.transcript import MARKS, Transcript
from bosun.orchestration.ansi import strip_ansi
from bosun.orchestration.errors import BosunError
from bosun.orchestration.session import Session
from bosun.orchestration.states import AGENT_STATES
from bosun.orchestration.status import attempt_shown

POLL_S = 0.25


def cmd_log(args: argparse.Namespace) -> int:
    with opened(args, validate=False) as session:
        log, attempt = _log_of(session, args.unit, args.attempt)
        printer = _Printer(LogTail(log), raw=args.raw)
        try:
            while not log.is_file() and args.follow and _still_running(session, args.unit, attempt):
                time.sleep(POLL_S)  # claimed: its worktree is being prepared, the log starts with setup
            _exists(session, log, args.unit, attempt)
            printer.add()
            while args.follow and _still_running(session, args.unit, attempt):
                time.sleep(POLL_S)
                printer.add()
        except KeyboardInterrupt:
            pass
        printer.add(last=True)
    return 0


def _log_of(session: Session, unit: str, asked: int | None) -> tuple[Path, int]:
    row = session.store.unit(unit)
    if row is None:
        raise BosunError(f"bosun log: no unit '{unit}' in this session (bosun status lists them)")
    latest = attempt_shown(row)
    if latest == 0 and session.agent_log(unit, 1).is_file():
        latest = 1  # the project's setup failed: no attempt was counted, its output is the first one's
    if latest == 0:
        raise BosunError(f"bosun log: '{unit}' has not been started yet (it is {row.state})")
    attempt = latest if asked is None else asked
    if not 1 <= attempt <= latest:
        raise BosunError(f"bosun log: '{unit}' has attempts 1 to {latest}, not {attempt}")
    return session.agent_log(unit, attempt), attempt


def _exists(session: Session, log: Path, unit: str, attempt: int) -> None:
    if log.is_file():
        return
    row = session.store.unit(unit)
    agent = session.plan.agents.get(row.owner or row.agent or "") if row is not None else None
    if agent is not None and agent.kind == "external":
        raise BosunError(
            f"bosun log: '{unit}' is the work of '{agent.name}', an agent Bosun does not start: no output is kept"
        )
    raise BosunError(f"bosun log: attempt {attempt} of '{unit}' left no output yet ({log} is missing)")


def _still_running(session: Session, unit: str, attempt: int) -> bool:
    row = session.store.unit(unit)
    return row is not None and attempt_shown(row) == attempt and row.state in AGENT_STATES


class _Printer:
    """Prints what the log gained: as written (`raw`), or whole lines as a transcript, the model's
    words streamed in pieces printed once whole (a piece `continues` the one before)."""

    def __init__(self, tail: LogTail, raw: bool) -> None:
        self.tail, self.raw = tail, raw
        self.transcript = Transcript()
        self.words: str | None = None  # the model's words so far, not yet printed

    def add(self, last: bool = False) -> None:
        if self.raw:
            sys.stdout.buffer.write(self.tail.read_bytes())
        else:
            for line in self.tail.lines(last):
                self._print(line)
            if last:
                self._say(None)
        sys.stdout.flush()

    def _print(self, line: str) -> None:
        for entry in self.transcript.feed(line):
            if entry.kind == "text":
                self._say(entry.text, entry.continues)
                continue
            self._say(None)
            _show(MARKS[entry.kind], strip_ansi(entry.text) if entry.kind == "plain" else entry.text)

    def _say(self, words: str | None, continues: bool = False) -> None:
        """Keep the model's words until they are whole: `None` prints what is kept."""
        if words is not None and continues and self.words is not None:
            self.words += words
            return
        if self.words is not None:
            _show(MARKS["text"], self.words)
        self.words = words


def _show(mark: str, text: str) -> None:
    print(mark + text.replace("\n", "\n" + " " * len(mark)))
