"""Gate sandboxes started ahead of time, so bwrap's set-up (namespaces, a dozen mounts: the bulk
of a sandbox's start) happens while the lane does other work instead of on the serial lane.

A warm sandbox runs nothing of the project's before `go`: its first process waits on its stdin.
It is taken only by a gate whose command line (command, environment, ports, binds) is exactly
the one it was started with, on the very same folder (device and inode: a folder made anew is
another folder); anything else discards it. Its HOME and /tmp are as fresh as a cold start's.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from bosun.orchestration.process import Child
from bosun.orchestration.sandbox import leftovers, ports

HOLD = 'IFS= read -r _ || exit 125; exec "$@" </dev/null'


def held(argv: list[str]) -> list[str]:
    """A bwrap command line whose command first waits for a line on stdin."""
    split = argv.index("--")
    return [*argv[:split + 1], "/bin/sh", "-c", HOLD, "sh", *argv[split + 1:]]


def identity(folder: Path) -> tuple[int, int] | None:
    try:
        stat = os.stat(folder)
    except OSError:
        return None
    return stat.st_dev, stat.st_ino


@dataclass
class Warm:
    """A started, waiting sandbox and what it was started for."""

    child: Child
    argv: list[str]                      # the command line it stands for (without the wait)
    folder: tuple[int, int] | None
    block: ports.PortBlock
    log: Path                            # where its output goes until `go` names the real log
    records: list[Path] = field(default_factory=list)

    def go(self, bosun_dir: Path, name: str, log_path: Path) -> bool:
        """Let it run, its output under `log_path` from the first byte; False if it cannot."""
        if self.child.proc.poll() is not None:
            return False
        try:
            os.link(self.log, log_path)
        except OSError:
            return False
        self.log.unlink(missing_ok=True)
        self.child.log_path = log_path
        self.records.append(leftovers.record(bosun_dir, name, self.child.pid, self.child.start_time,
                                             self.child.limit.path if self.child.limit else None))
        leftovers.forget(self.records.pop(0))
        self.child.started = time.monotonic()
        try:
            self.child.proc.stdin.write(b"\n")
            self.child.proc.stdin.close()
        except (OSError, ValueError):
            return False
        return True

    def discard(self) -> None:
        """End it (off the caller's thread: killing waits for the group to go)."""
        def end() -> None:
            self.child.kill()
            self.child.wait(None)
            self.log.unlink(missing_ok=True)
        threading.Thread(target=end, daemon=True, name="bosun warm discard").start()


# A session that ends leaves its last one waiting: at most MOST wait at once in a process (the
# oldest goes first), each at most IDLE_S, so a process that runs many sessions holds few.
MOST, IDLE_S = 8, 30.0
_pool: dict[tuple, Warm] = {}
_lock = threading.Lock()


def take(key: tuple) -> Warm | None:
    with _lock:
        return _pool.pop(key, None)


def put(key: tuple, warm: Warm) -> None:
    with _lock:
        doomed = [_pool.pop(key)] if key in _pool else []
        while len(_pool) >= MOST:
            doomed.append(_pool.pop(next(iter(_pool))))
        _pool[key] = warm
    for old in doomed:
        old.discard()
    timer = threading.Timer(IDLE_S, _expire, args=(key, warm))
    timer.daemon = True
    timer.start()


def _expire(key: tuple, warm: Warm) -> None:
    with _lock:
        if _pool.get(key) is not warm:
            return
        del _pool[key]
    warm.discard()


def discard_all(bosun_dir: Path | None = None) -> None:
    """Discard the warm sandboxes of one session (all with None), e.g. when it stops."""
    with _lock:
        doomed = [k for k in _pool if bosun_dir is None or k[0] == bosun_dir]
        found = [_pool.pop(k) for k in doomed]
    for warm in found:
        warm.discard()
