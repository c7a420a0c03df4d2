"""What every command starts from: the repository it was given (or the current one), its plan
file, and its session in `.bosun/`, opened and closed around the command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from bosun.orchestration.errors import BosunError
from bosun.orchestration.gitcmd import GitRepo

if TYPE_CHECKING:  # the session module loads the plan parser: only when a command opens one
    from bosun.orchestration.session import Session


def repo_of(args: argparse.Namespace) -> GitRepo:
    return GitRepo.discover((args.repo or Path.cwd()).resolve())


@contextmanager
def opened(args: argparse.Namespace, validate: bool = True) -> Iterator[Session]:
    """The session in the repository's `.bosun/`, closed afterwards. A command that only reads
    passes `validate=False`: its plan is then validated only if it reads `session.plan`."""
    from bosun.orchestration.session import open_session

    session = open_session(repo_of(args), validate)
    try:
        yield session
    finally:
        session.close()


def plan_path(repo: GitRepo, given: Path | None) -> Path:
    if given is None:
        return repo.path / "bosun.toml"
    return given if given.is_absolute() else (Path.cwd() / given)


def need_terminal(args: argparse.Namespace) -> None:
    """Refuse before anything is written when the screen cannot be shown."""
    if not args.headless and not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise BosunError(
            f"bosun {args.command}: the supervisor screen needs a terminal; add --headless to print events instead"
        )


def run_screen(session, options) -> int:
    """The supervisor screen; the human ends the session, so the supervisor waits for decisions."""
    from bosun.app.tui.app import BosunApp  # Textual loads only for the screen

    options.wait = True
    result = BosunApp(session, options).run()
    code = 1 if result is None else result
    if code != 0:
        print(left_behind(session), file=sys.stderr)
    return code


def left_behind(session) -> str:
    """What a quit leaves for later, and how to go on: one line per unit that is not done. A unit
    whose agent the supervisor stopped says so (its store state still reads running until a
    supervisor starts again); an external agent's or a person's claim goes on."""
    from bosun.orchestration.states import AGENT_STATES, DONE_STATES
    from bosun.orchestration.supervisor.recovery import claim_outlives_supervisor

    if not session.store.path.exists() or session.store.get_meta("reset_by"):  # `bosun reset` ended the screen
        return "bosun: the session was reset (archived under .bosun/archive/); `bosun run` starts a new one"
    left = [u for u in session.store.units() if u.state not in DONE_STATES]
    if not left:
        return "bosun: every unit is merged or cancelled; `bosun land` moves your branch"
    lines = [f"bosun: {len(left)} unit(s) not merged; `bosun resume` continues the session:"]

    def said(u) -> str:
        if u.state in AGENT_STATES and not claim_outlives_supervisor(u, session.plan):
            return "stopped: starts again on resume"
        return u.state.replace("_", " ")

    lines += [f"  {u.id:<18} {said(u)}" + (f" ({u.owner or u.agent})" if u.owner or u.agent else "") for u in left]
    return "\n".join(lines)


def command_outcome(session, command_id: int, within_s: float) -> str | None:
    """What the running supervisor made of a queued command ('done', 'done: ...', 'refused: ...'),
    or None if it has not taken it within `within_s` (it stays queued)."""
    import time

    deadline = time.monotonic() + within_s
    while (result := session.store.command_result(command_id)) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    return result
