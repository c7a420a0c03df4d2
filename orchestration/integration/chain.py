"""The merge queue's chain of candidates and what it knows about them: each entry's candidate
merge commit sits on the one ahead of it (the first on the integration head); gate runs test
prefixes of the chain. Cutting the chain sends the units behind the cut back to be stacked again."""

from __future__ import annotations

import asyncio
import functools
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from bosun.orchestration.integration.batch_size import BatchSizer
from bosun.orchestration.session import Session
from bosun.orchestration.states import AWAITING_APPROVAL, GATING, SUBMITTED
from bosun.orchestration.store import StaleState

THREADS = 40
"""The queue's own worker threads (made on demand): the loop's default pool has min(32, cores + 4)
threads, which agents waiting on their processes can fill, and the queue must never wait on them."""


@dataclass
class Entry:
    """One unit in the chain: its candidate merge commit sits on the entry ahead (or the head)."""

    unit: str
    candidate: str
    parent: str
    attempt: int
    files: list[str]
    verdicts: list[dict]
    """The merge check's verdict, then the semantic checks' once they are in."""
    warnings: list[dict]
    judging: asyncio.Future | None = None
    """The semantic checks while they run beside the gate; None once their verdict is in `verdicts`."""
    gate: dict | None = None
    """The passed gate run that covers this candidate (its own, or a later prefix's)."""
    taken_in: bool = False
    """A run testing it was already stopped to take in units stacked behind it (once per candidate)."""


@dataclass
class Run:
    """One gate run on the prefix of the chain ending at `top`."""

    label: str
    slot: int
    top: str
    units: list[str]
    base: str
    why: str
    task: asyncio.Task | None = None
    child: object | None = None
    cancelled: bool = False
    started: float = field(default_factory=time.monotonic)


@dataclass
class BaseGate:
    """What the queue knows of the integration head's own gate (base_gate.py)."""

    cleared: set[str] = field(default_factory=set)
    """Heads on which a failure is the unit's: they passed the gate (every head Bosun moved the
    branch to did), or their own run gave no verdict (the unit is judged as it always was)."""
    red: dict[str, dict] = field(default_factory=dict)
    """Heads whose own tree failed the gate -> what the run said (commit, cause, log)."""
    red_under: str = ""
    """The gate as the plan said when they failed: a reload that changes it judges them again."""
    parked: set[str] = field(default_factory=set)
    """Units this queue set waiting for the head to pass (a person's regate of one is seen)."""
    commit: str | None = None
    task: asyncio.Future | None = None
    child: object | None = None


class QueueState:
    """The chain, the runs on it and the verdicts so far; the queue's parts share it."""

    def __init__(self, session: Session, *, merge_when_green: bool, on_verdict: Callable) -> None:
        self.session = session
        self.store = session.store
        self.repo = session.repo
        self.merge_when_green = merge_when_green
        self.on_verdict = on_verdict
        self.chain: list[Entry] = []
        self.runs: list[Run] = []
        self.passed: dict[str, int] = {}  # top candidate -> passing gate run id
        self.failed: dict[str, tuple] = {}  # top candidate -> (gate run id, gate dict, detail)
        self.tries: dict[str, int] = {}  # top candidate -> failed runs so far
        self.lost: dict[str, int] = {}  # top candidate -> runs lost so far (no verdict)
        self.failing: str | None = None  # the smallest failing prefix being bisected
        self.held: dict[str, str] = {}  # unit -> head it clashed with something ahead on
        self.base = BaseGate()
        self.stopping = False
        self.sizer = BatchSizer()
        self._sized: int | None = None  # the batch size last told in an event
        self._pool = ThreadPoolExecutor(THREADS, thread_name_prefix="bosun-queue")

    def _thread(self, fn, *args):
        """`fn(*args)` in one of the queue's own threads."""
        return asyncio.get_running_loop().run_in_executor(self._pool, functools.partial(fn, *args))

    @property
    def project(self):
        return self.session.plan.project

    @property
    def parallel(self) -> int:
        return self.project.gate_parallel

    @property
    def parks(self) -> bool:
        """Whether a unit that waits for its human steps out of the chain (is parked): with one gate
        slot under automatic merges, where a human's decision (a warning) is the exception nothing
        should wait on. Under manual merge every unit waits for a human: the next ones stack on the
        pending approvals, tested once and landing as they are approved, instead of being tested
        again each time an approval moves the head."""
        return self.parallel == 1 and self.merge_when_green

    @property
    def batch(self) -> int:
        """How many new units one run may cover: the plan's `batch`, else what the queue observes."""
        if not self.merge_when_green:
            return 1  # a unit a human approves lands on its own candidate, so that one must have been tested
        return self.project.batch or self.sizer.size()

    def _observed(self) -> None:
        """Tell the session when the batch size the queue chose changes (not when the plan pins it)."""
        if self.project.batch is not None or not self.merge_when_green:
            return
        sized = self.sizer.describe()
        if sized["size"] != self._sized:
            self._sized = sized["size"]
            self.store.append_event("queue_batch_size", None, **sized)

    def _index(self, top: str | None) -> int | None:
        for i, entry in enumerate(self.chain):
            if entry.candidate == top:
                return i
        return None

    def _needs_human(self, entry: Entry, row) -> bool:
        # An approval covers the warnings the human saw, not new ones found on another base.
        approved = row.approved and (not entry.warnings or entry.warnings == ((row.detail or {}).get("warnings") or []))
        if approved:
            return False
        return not self.merge_when_green or bool(entry.warnings)

    def _covered_index(self) -> int:
        """The last index a run covers or has covered: new runs start behind it."""
        last = -1
        for i, entry in enumerate(self.chain):
            if (
                entry.candidate in self.passed
                or entry.candidate in self.failed
                or any(r.top == entry.candidate and not r.cancelled for r in self.runs)
            ):
                last = i
        return last

    def _last_good(self, f: int) -> int:
        """The last index before `f` known good: landed (-1) or a passed prefix."""
        return max([i for i in range(f) if self.chain[i].candidate in self.passed], default=-1)

    def _kill(self, run: Run) -> None:
        run.cancelled = True
        child = run.child
        if child is not None:
            threading.Thread(target=child.kill, daemon=True).start()

    def _forget(self, candidates: set[str]) -> None:
        """What was known about these candidates' prefixes: they left the chain."""
        for table in (self.passed, self.failed, self.tries, self.lost):
            for top in candidates & table.keys():
                del table[top]
        if self.failing in candidates:
            self.failing = None

    def _requeue(self, unit_id: str, states: tuple[str, ...], why: str) -> None:
        try:
            self.store.transition(
                unit_id, SUBMITTED, states, kind="requeued", data={"why": why}, queue=None, fsync=False
            )
        except StaleState:
            pass

    def _cut(self, index: int, why: str, keep_first: bool = False) -> None:
        """Drop the chain from `index` on: those units get new candidates (their base changed);
        with `keep_first`, the unit at `index` left by itself (a human moved it) and stays as it is."""
        for entry in self.chain[index + 1 if keep_first else index :]:
            self._requeue(entry.unit, (GATING, AWAITING_APPROVAL), why)
        dropped = {e.candidate for e in self.chain[index:]}
        self.chain = self.chain[:index]
        self.held.clear()  # what they clashed with may have left: judge them again
        for run in self.runs:
            if run.top in dropped:
                self._kill(run)
        self._forget(dropped)

    def _take_out(self, index: int, why: str) -> Entry:
        """The entry at `index` leaves the chain by itself (a verdict against it); those behind it
        are stacked again, and any run that tested it is stopped."""
        entry = self.chain.pop(index)
        for run in self.runs:
            if run.top == entry.candidate:
                self._kill(run)
        self._forget({entry.candidate})
        self._cut(index, why)
        return entry
