"""Running a session without the screen: one line per event, or one JSON object per line."""

from __future__ import annotations

import asyncio
import json
import shlex
import signal
import sys
from pathlib import Path
from typing import TextIO

from bosun.orchestration.event_lines import format_event
from bosun.orchestration.session import Session
from bosun.orchestration.store import Event
from bosun.orchestration.supervisor.loop import Options, Orchestrator


def run_headless(session: Session, options: Options, as_json: bool, out: TextIO = sys.stdout) -> int:
    """Print every event of this process as it happens; returns the session's exit code."""

    here, repo = Path.cwd().resolve(), session.repo.path.resolve()
    # the hint's command finds the repository from here, or is told where it is
    elsewhere = "" if repo in (here, *here.parents) else f" --repo {shlex.quote(str(repo))}"

    def show(event: Event) -> None:
        line = json.dumps(event.to_json()) if as_json else format_event(event)
        if event.kind == "waiting_for_human" and not as_json:
            line += f"  (why and what applies: bosun status {event.unit}{elsewhere})"
        out.write(line + "\n")
        out.flush()

    session.store.listeners.append(show)
    try:
        return asyncio.run(_supervised(Orchestrator(session, options)))
    finally:
        session.store.listeners.remove(show)


async def _supervised(orchestrator: Orchestrator) -> int:
    """The run, ended by `kill PID` (a service manager, a cancelled CI job) as by Ctrl+C: its task
    is cancelled, so the supervisor stops its agents and gates rather than leaving them running
    with nobody to collect them (an unsandboxed agent outlived it)."""
    run = asyncio.current_task()
    loop = asyncio.get_running_loop()
    terminated: list[bool] = []  # Ctrl+C cancels the task too: that one stays `interrupted`, exit 130
    loop.add_signal_handler(signal.SIGTERM, lambda: (terminated.append(True), run.cancel()))
    try:
        return await orchestrator.run()
    except asyncio.CancelledError:
        if terminated:
            print("bosun: stopped (SIGTERM); `bosun resume` continues the session", file=sys.stderr)
            return 143
        raise
    finally:
        loop.remove_signal_handler(signal.SIGTERM)
