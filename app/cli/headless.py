"""Running a session without the screen: one line per event, or one JSON object per line."""

from __future__ import annotations

import asyncio
import json
import shlex
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
    orchestrator = Orchestrator(session, options)
    try:
        return asyncio.run(orchestrator.run())
    finally:
        session.store.listeners.remove(show)
