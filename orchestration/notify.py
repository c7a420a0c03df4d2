"""Telling people away from the screen that a unit waits for them: the plan's `notify` command
gets the `waiting_for_human` event as JSON on its stdin (a phone push, a chat message), run off
the loop with the scrubbed environment plus `notify_env`, a 10 s limit, its output logged."""

from __future__ import annotations

import json
import subprocess
import threading
from pathlib import Path

from bosun.orchestration.process import scrubbed_env

TIMEOUT_S = 10.0


def run_notify(
    command: str, env_names: tuple[str, ...], event: dict, log_path: Path, cwd: Path | None = None
) -> threading.Thread:
    """Start the command in a thread; a slow or failing hook never holds up the session."""

    def run() -> None:
        try:
            done = subprocess.run(
                ["/bin/sh", "-c", command],
                input=json.dumps(event),
                capture_output=True,
                cwd=cwd,
                text=True,
                timeout=TIMEOUT_S,
                env=scrubbed_env(env_names),
                start_new_session=True,
            )
            outcome = f"exit {done.returncode}\n{done.stdout}{done.stderr}"
        except subprocess.TimeoutExpired:
            outcome = f"timed out after {TIMEOUT_S:g}s"
        except OSError as exc:
            outcome = f"could not run: {exc}"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "a", encoding="utf-8") as log:
            log.write(f"{event.get('unit')} {event.get('state')}: {outcome.rstrip()}\n")

    thread = threading.Thread(target=run, daemon=True, name="bosun notify")
    thread.start()
    return thread
