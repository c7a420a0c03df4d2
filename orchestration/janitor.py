"""Folders deleted in the background, by one thread for the whole process.

Bosun renames a worktree or an agent's sandbox folder out of the way at once (the caller may
make a new one in its place) and deletes it later: `rmtree` of a project's checkout takes
milliseconds per folder. A thread started for each deletion cost ~1 ms of its caller's time to
start (the orchestration benchmark counts two or three a unit); one thread takes them in turn.
What a process had no time to delete is in `.bosun/trash/`, emptied at the next start.
"""

from __future__ import annotations

import os
import queue
import threading
from pathlib import Path

from bosun.orchestration.safe_files import remove_tree

_pending: queue.SimpleQueue[Path] = queue.SimpleQueue()
_started = threading.Lock()
_running = False


def remove_later(folder: Path) -> None:
    """Delete `folder` (and everything in it) soon, in the janitor's thread."""
    global _running
    with _started:
        if not _running:
            threading.Thread(target=_work, daemon=True, name="bosun janitor").start()
            _running = True
    _pending.put(folder)


def _work() -> None:
    while True:
        remove_tree(_pending.get())


def _forget_in_child() -> None:
    """A forked child has no janitor thread of its parent's: it starts its own when it needs one."""
    global _pending, _started, _running
    _pending, _started, _running = queue.SimpleQueue(), threading.Lock(), False


os.register_at_fork(after_in_child=_forget_in_child)
