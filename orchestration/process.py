"""Child processes (agents, gates) in their own process group, with a timeout that kills the group.

Runs in a worker thread: `wait()` blocks, `kill()` may be called from any thread. Every child is
forked by one long-lived launcher thread: a sandbox started with `--die-with-parent` is killed
when the *thread* that forked it exits, and the worker threads of `asyncio.to_thread` come and
go; the launcher lives as long as the supervisor, so a sandbox dies exactly when it does.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from bosun.orchestration.sandbox.limits import Group

BASE_ALLOWED = ("PATH", "HOME", "LANG", "TERM")


def scrubbed_env(allowed: tuple[str, ...] = (), extra: dict[str, str] | None = None) -> dict[str, str]:
    """Only PATH, HOME, LANG, TERM and the names in `allowed` survive; every secret is dropped."""
    env = {k: os.environ[k] for k in (*BASE_ALLOWED, *allowed) if k in os.environ}
    env.update(extra or {})
    return env


class Finished(NamedTuple):
    """How a child process ended (a NamedTuple: `bosun status` imports this module, and
    `dataclasses` costs it ~10 ms of imports)."""

    exit_code: int | None
    timed_out: bool
    killed: bool
    duration_s: float
    forks_refused: int = 0  # by its process limit (sandbox/limits.py)
    over_memory: str | None = None  # the memory cap ("4G") when the kernel killed it for going over


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


class _Launcher:
    """The one thread that forks every child, alive for the whole life of this process."""

    def __init__(self) -> None:
        self._requests = None  # a queue.SimpleQueue, made with the thread: reading a session starts none
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def call(self, fn: Callable, *args, **kwargs):
        if threading.current_thread() is self._thread:
            return fn(*args, **kwargs)
        import queue
        from concurrent.futures import Future

        with self._lock:
            if self._requests is None:
                self._requests = queue.SimpleQueue()
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._serve, daemon=True, name="bosun launcher")
                self._thread.start()
        future: Future = Future()
        self._requests.put((future, fn, args, kwargs))
        return future.result()

    def _serve(self) -> None:
        while True:
            future, fn, args, kwargs = self._requests.get()
            try:
                future.set_result(fn(*args, **kwargs))
            except BaseException as exc:  # handed to the caller, never lost in this thread
                future.set_exception(exc)


LAUNCHER = _Launcher()


class Child:
    """A started child process whose output goes to a log file. `on_start` is handed the child once
    it runs (to record it); `on_end` runs once after it ended and its group was killed. With a
    `limit` (a cgroup, sandbox/limits.py) it runs inside it, and what is left there is killed too."""

    def __init__(
        self,
        argv: list[str],
        cwd: Path,
        env: dict[str, str],
        log_path: Path,
        *,
        on_start: Callable[[Child], None] | None = None,
        on_end: Callable[[], None] | None = None,
        limit: Group | None = None,
    ) -> None:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log_path = log_path
        self._log = open(log_path, "ab")
        self.started = time.monotonic()
        self.killed = False
        self.timed_out = False
        self._on_end = on_end
        self.limit = limit
        try:
            self.proc = LAUNCHER.call(
                subprocess.Popen,
                limit.wrap(argv) if limit else argv,
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except BaseException:
            self._log.close()
            if limit is not None:
                limit.close()
            if on_end is not None:
                on_end()
            raise
        self.pid = self.proc.pid
        self.start_time = process_start_time(self.pid)
        if on_start is not None:
            on_start(self)

    def kill(self) -> None:
        self.killed = True
        self._kill_all()

    def _kill_all(self) -> None:
        kill_group(self.pid)
        if self.limit is not None:  # what left the process group (setsid) is still in the cgroup
            self.limit.kill()

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
        refused = self.limit.close() if self.limit is not None else 0
        over = self.limit.memory if self.limit is not None and self.limit.oom_kills else None
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self._log.close()
        if self._on_end is not None:
            on_end, self._on_end = self._on_end, None
            on_end()
        ended = self.timed_out or self.killed
        duration = time.monotonic() - self.started
        return Finished(None if ended else code, self.timed_out, self.killed, duration, refused, over)

    def _time_out(self) -> None:
        self.timed_out = True
        self._kill_all()


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
