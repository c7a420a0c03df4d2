"""Child processes (agents, gates) in their own process group, with a timeout that kills the group.

Runs in a worker thread: `wait()` blocks, `kill()` may be called from any thread.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

BASE_ALLOWED = ("PATH", "HOME", "LANG", "TERM")


def scrubbed_env(allowed: tuple[str, ...] = (), extra: dict[str, str] | None = None) -> dict[str, str]:
    """Only PATH, HOME, LANG, TERM and the names in `allowed` survive; every secret is dropped."""
    env = {k: os.environ[k] for k in (*BASE_ALLOWED, *allowed) if k in os.environ}
    env.update(extra or {})
    return env


@dataclass(frozen=True)
class Finished:
    """How a child process ended."""

    exit_code: int | None
    timed_out: bool
    killed: bool
    duration_s: float


def process_start_time(pid: int) -> str | None:
    """The kernel's start time of `pid`, to tell a live child from a reused pid after a crash."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def kill_group(pid: int, start: str | None = None) -> None:
    """Kill the process group led by `pid`, if that process is still the one we started."""
    if start is not None and process_start_time(pid) != start:
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        if sig == signal.SIGTERM:
            time.sleep(0.2)


class Child:
    """A started child process whose output goes to a log file."""

    def __init__(self, argv: list[str], cwd: Path, env: dict[str, str], log_path: Path) -> None:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log_path = log_path
        self._log = open(log_path, "ab")
        self.started = time.monotonic()
        self.killed = False
        self.timed_out = False
        self.proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self.pid = self.proc.pid
        self.start_time = process_start_time(self.pid)

    def kill(self) -> None:
        self.killed = True
        kill_group(self.pid)

    def wait(self, timeout: float | None) -> Finished:
        """Block until the child exits (no polling: `Popen.wait` with a timeout sleeps in steps of
        up to 50 ms); a timer kills the whole group if it runs past `timeout`."""
        timer = None
        if timeout is not None:
            timer = threading.Timer(timeout, self._time_out)
            timer.daemon = True
            timer.start()
        code = self.proc.wait()
        if timer is not None:
            timer.cancel()
        # The leader is gone; take down anything it left running in its group.
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self._log.close()
        ended = self.timed_out or self.killed
        return Finished(None if ended else code, self.timed_out, self.killed, time.monotonic() - self.started)

    def _time_out(self) -> None:
        self.timed_out = True
        kill_group(self.pid)


def tail(path: Path, max_bytes: int = 4000) -> str:
    """The end of a log, decoded leniently, cut at a line start."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - max_bytes))
            data = handle.read()
    except OSError:
        return ""
    text = data.decode("utf-8", errors="replace")
    if size > max_bytes and "\n" in text:
        text = text.split("\n", 1)[1]
    return text
