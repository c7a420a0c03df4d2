"""The Timeline tab's figures, computed off the event loop: the report's engine
(orchestration/report) reads the whole event log, which takes a while in a long session, so it
runs on one worker thread with its own connection to the store (a connection belongs to the
thread that opened it), at most once every TIMELINE_EVERY_S however fast events arrive."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from bosun.orchestration.report.lanes import Timeline, timeline
from bosun.orchestration.report.record import read_session
from bosun.orchestration.session import Session
from bosun.orchestration.store import Store

TIMELINE_EVERY_S = 0.4
"""The timeline is recomputed at most this often (a few times a second)."""


class TimelineFeed:
    """Coalesces store changes into at most one computation at a time, and one every TIMELINE_EVERY_S."""

    def __init__(self, session: Session, later: Callable[[float, Callable[[], None]], None]) -> None:
        self.session = session
        self.later = later
        """Schedules a call after a delay on the event loop (the screen's set_timer)."""
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bosun-timeline")
        self.store: Store | None = None
        self.pending = False
        self.dirty = False
        self.last = 0.0
        self.asked: int | None = None
        """The last event when the pending computation was asked for."""
        self.seen: tuple[int, bool] | None = None
        """The last event and whether the session was live when the shown timeline was read."""
        self.computed = 0
        """How many times the timeline was computed and shown."""
        self.shown = asyncio.Event()
        """Set each time a timeline is shown (tests and benchmarks wait on it)."""

    def due(self, show: Callable[[Timeline], None], seq: int) -> None:
        """The store changed (its last event is `seq`): compute soon, unless a computation is due or
        running (then once more after it). A finished session's timeline without new events stays."""
        if self.seen == (seq, False):
            return
        if self.pending:
            self.dirty |= seq != self.asked  # (a repaint with no new event asks for the same read)
            return
        self.pending, self.asked = True, seq
        wait = max(self.last + TIMELINE_EVERY_S - time.monotonic(), 0.001)
        self.later(wait, lambda: asyncio.ensure_future(self._compute(show)))

    async def _compute(self, show: Callable[[Timeline], None]) -> None:
        self.last = time.monotonic()
        try:
            seq, data = await asyncio.get_running_loop().run_in_executor(self.pool, self._read)
        finally:
            self.pending = False
        self.computed += 1
        self.seen = (seq, data.live)
        show(data)
        self.shown.set()
        if self.dirty:
            self.dirty = False
            self.due(show, -1)

    async def shown_after(self, count: int) -> None:
        """Until the timeline has been shown more than `count` times."""
        while self.computed <= count:
            self.shown.clear()
            await self.shown.wait()

    def _read(self) -> tuple[int, Timeline]:
        """(the last event before the read, the timeline): later events may be in it too."""
        if self.store is None:
            self.store = Store(self.session.store.path)
        seq = self.store.last_seq()
        return seq, timeline(read_session(self.session, store=self.store))

    def close(self) -> None:
        """Close the thread's connection in its thread, then the thread."""
        if self.store is not None:
            self.pool.submit(self.store.close)
        self.pool.shutdown(wait=False)
