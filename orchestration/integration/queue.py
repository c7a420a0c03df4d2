"""The merge queue (SPEC §11): submitted units are stacked into a chain of candidate merge
commits, each on top of the one ahead of it, and gate runs test prefixes of that chain, up to
`gate_parallel` at once and `batch` new units per run.

The invariant of SPEC §2 holds at every instant: the integration branch moves only to a
candidate whose own tree passed the gate, by compare-and-swap after a recorded intent, and
every unit is one merge commit whose first parent is the commit before it (a run covering
several units lands them together: the branch goes from the old head to the last one's merge
commit in one step). A failed run is run again `gate_retries` times, then bisected over the
chain's prefixes (as many at once as there are free slots); the first failing prefix whose
predecessor passed names the culprit, which alone leaves the queue as `gate_failed`; the units
behind it get new candidates and are tested again.

Everything here runs on the event loop except git and the gates (worker threads); the chain
lives in memory and is rebuilt from the store after a crash: candidates awaiting approval that
still sit on the integration head are kept, the rest are judged again.
"""

from __future__ import annotations

import asyncio
import functools
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from bosun.orchestration.faults import fault_point
from bosun.orchestration.integration.checks import (
    command_verdict,
    merge_verdict,
    semantic_verdict,
    summary,
    warnings_of,
)
from bosun.orchestration.integration.gate import (
    GateFolder,
    GateResult,
    GateSandbox,
    candidate_commit,
    merge_check,
    run_gate,
)
from bosun.orchestration.integration.lane import IntegrationTampered
from bosun.orchestration.sandbox import active as sandboxed
from bosun.orchestration.sandbox import gate_network_of
from bosun.orchestration.scope import in_scope
from bosun.orchestration.states import (
    AWAITING_APPROVAL,
    CHECKING,
    CONFLICTED,
    GATE_FAILED,
    GATING,
    MERGED,
    OUT_OF_SCOPE,
    SUBMITTED,
)
from bosun.orchestration.store import StaleState

POLL_S = 0.2
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
    warnings: list[dict]
    passed: int | None = None
    """The gate run that passed on exactly this candidate (or on a later prefix: then covered)."""
    gate: dict | None = None


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


class MergeQueue:
    """Owned by the orchestrator; `run()` is its lane task while there is something to do."""

    def __init__(self, integrator, on_verdict: Callable) -> None:
        self.integrator = integrator
        self.session = integrator.session
        self.store = integrator.store
        self.repo = integrator.repo
        self.on_verdict = on_verdict
        self.chain: list[Entry] = []
        self.runs: list[Run] = []
        self.passed: dict[str, int] = {}  # top candidate -> passing gate run id
        self.failed: dict[str, tuple] = {}  # top candidate -> (gate run id, gate dict, detail)
        self.tries: dict[str, int] = {}  # top candidate -> failed runs so far
        self.failing: str | None = None  # the smallest failing prefix being bisected
        self.held: dict[str, str] = {}  # unit -> head it clashed with something ahead on
        self.stopping = False
        self._restored = False
        self._poked = asyncio.Event()
        self._pool = ThreadPoolExecutor(THREADS, thread_name_prefix="bosun-queue")

    def _thread(self, fn, *args):
        """`fn(*args)` in one of the queue's own threads."""
        return asyncio.get_running_loop().run_in_executor(self._pool, functools.partial(fn, *args))

    # -- settings ----------------------------------------------------------------------------
    @property
    def project(self):
        return self.session.plan.project

    @property
    def parallel(self) -> int:
        return self.project.gate_parallel

    @property
    def batch(self) -> int:
        # A unit a human approves lands on its own candidate, so that one must have been tested.
        return 1 if not self.integrator.merge_when_green else self.project.batch

    def _index(self, top: str) -> int | None:
        for i, entry in enumerate(self.chain):
            if entry.candidate == top:
                return i
        return None

    def _needs_human(self, entry: Entry, row) -> bool:
        # An approval covers the warnings the human saw, not new ones found on another base.
        approved = row.approved and (not entry.warnings or entry.warnings == ((row.detail or {}).get("warnings") or []))
        if approved:
            return False
        return not self.integrator.merge_when_green or bool(entry.warnings)

    # -- the lane task -------------------------------------------------------------------------
    def _stackable(self, rows: list) -> list:
        """Submitted units the chain can take now, in plan order: not held back by a clash with a
        candidate ahead (until the head moves), and with everything they depend on merged."""
        head = self.session.integration_head()
        merged = {u.id for u in rows if u.state == MERGED}
        return [
            u
            for u in rows
            if u.state == SUBMITTED
            and self.held.get(u.id) != head
            and u.id in self.session.plan.units
            and set(self.session.plan.units[u.id].depends_on) <= merged
        ]

    def has_work(self) -> bool:
        """Whether the lane task should run: something to add, land, drop or requeue."""
        in_chain = {e.unit for e in self.chain}
        rows = self.store.units()
        if self._stackable(rows):
            return True
        for row in rows:
            if row.state in (AWAITING_APPROVAL, GATING) and row.id not in in_chain:
                return True
            if row.id in in_chain and (
                row.state not in (GATING, AWAITING_APPROVAL) or (row.state == AWAITING_APPROVAL and row.approved)
            ):
                return True
        return bool(self.runs)

    async def run(self) -> None:
        try:
            while not self.stopping:
                self._poked.clear()
                if not self._restored:
                    self._restore()
                self._sync()
                await self._land()  # first: what passed lands at once, before new work is stacked
                self._schedule()
                await self._extend()  # schedules as it stacks
                if not self.runs and self._idle():
                    return
                poked = asyncio.create_task(self._poked.wait())
                tasks = [r.task for r in self.runs]
                done, _ = await asyncio.wait([*tasks, poked], timeout=POLL_S, return_when=asyncio.FIRST_COMPLETED)
                poked.cancel()
                for run in [r for r in self.runs if r.task in done]:
                    self.runs.remove(run)
                    error = None if run.task.cancelled() else run.task.exception()
                    results = None if run.task.cancelled() or error else run.task.result()
                    self._finished(run, results, error)
        finally:
            if self.stopping:
                await self._stop_runs()

    def _idle(self) -> bool:
        if self._stackable(self.store.units()):
            return False
        rows = {u.id: u for u in self.store.units()}
        landable = any(self.passed.get(e.candidate) for e in self.chain) and self._land_to(rows) is not None
        return not landable

    def poke(self) -> None:
        """Something changed in the store (a submission, an approval): look now, not at the next poll."""
        self._poked.set()

    def stop(self) -> None:
        """The session is stopping: every gate is killed (the units are judged again on resume)."""
        self.stopping = True
        for run in self.runs:
            self._kill(run)

    async def _stop_runs(self) -> None:
        for run in self.runs:
            self._kill(run)
        tasks = [r.task for r in self.runs if r.task is not None]
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self.runs.clear()

    def _kill(self, run: Run) -> None:
        run.cancelled = True
        child = run.child
        if child is not None:
            threading.Thread(target=child.kill, daemon=True).start()

    # -- the chain -----------------------------------------------------------------------------
    def _restore(self) -> None:
        """After a start: candidates awaiting approval that still stack on the head stay; the
        rest are judged again (a crash put what was being gated back to submitted)."""
        self._restored = True
        top = self.session.integration_head()
        waiting = [u for u in self.store.units() if u.state == AWAITING_APPROVAL]
        while True:
            nxt = next((u for u in waiting if u.candidate_parent == top and u.candidate), None)
            if nxt is None:
                break
            waiting.remove(nxt)
            detail = nxt.detail or {}
            self.chain.append(
                Entry(
                    nxt.id,
                    nxt.candidate,
                    top,
                    nxt.attempts,
                    detail.get("files") or [],
                    detail.get("checks") or [],
                    detail.get("warnings") or [],
                    passed=nxt.gate_run or -1,
                    gate=detail.get("gate"),
                )
            )
            self.passed[nxt.candidate] = nxt.gate_run or -1
            top = nxt.candidate

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
        for table in (self.passed, self.failed, self.tries):
            for top in dropped & table.keys():
                del table[top]
        if self.failing in dropped:
            self.failing = None

    def _sync(self) -> None:
        """Entries a human moved away (reject, cancel, reassign, takeover of an awaiting unit) cut
        the chain there; awaiting units not in the chain are stale and judged again."""
        rows = {u.id: u for u in self.store.units()}
        for i, entry in enumerate(self.chain):
            row = rows.get(entry.unit)
            if row is None or row.state not in (GATING, AWAITING_APPROVAL) or row.candidate != entry.candidate:
                self._cut(i, f"unit '{entry.unit}' ahead of it left the queue", keep_first=True)
                break
        in_chain = {e.unit for e in self.chain}
        for row in rows.values():
            if row.state in (AWAITING_APPROVAL, GATING) and row.id not in in_chain:
                self._requeue(
                    row.id, (AWAITING_APPROVAL, GATING), "its candidate no longer sits on the integration head"
                )

    def _cap(self) -> int:
        return self.parallel * self.batch * 2

    async def _extend(self) -> None:
        """Stack submitted units (plan order) onto the chain: merge check, scope, candidate, semantic."""
        head = self.session.integration_head()
        # Never before what it depends on; what a human approved already goes first (it can land
        # as soon as its gate passes), then plan order.
        rows = sorted(self._stackable(self.store.units()), key=lambda u: (not u.approved, u.position))
        ungated = sum(1 for e in self.chain if e.candidate not in self.passed)
        for row in rows:
            if ungated >= self._cap() or self.failing is not None or self.stopping:
                return
            top = self.chain[-1].candidate if self.chain else head
            spec = self.session.plan.units[row.id]
            self.store.transition(row.id, CHECKING, (SUBMITTED,), fsync=False)
            judged = await self._thread(self._judge, row, spec, top, head, bool(self.chain))
            kind = judged[0]
            if kind == "hold":
                self.held[row.id] = head
                self.store.transition(row.id, SUBMITTED, (CHECKING,), kind="held", fsync=False, data={"why": judged[1]})
                continue
            self.held.pop(row.id, None)
            if kind in (CONFLICTED, OUT_OF_SCOPE):
                detail = judged[1]
                self.store.transition(row.id, kind, (CHECKING,), data=detail, detail=detail)
                self.on_verdict(row.id, kind, detail)
                continue
            _, candidate, changed, verdicts = judged
            self.store.transition(
                row.id,
                GATING,
                (CHECKING,),
                data={"candidate": candidate, "files": len(changed)},
                candidate=candidate,
                candidate_parent=top,
                fsync=False,
            )
            if verdicts[-1]["blocking"]:
                state = self.integrator._semantic_conflict(self.store.unit(row.id), candidate, top, verdicts)
                self.on_verdict(row.id, state.state, state.detail)
                continue
            self.chain.append(Entry(row.id, candidate, top, row.attempts, changed, verdicts, warnings_of(verdicts)))
            ungated += 1
            if any(r.task.done() for r in self.runs):
                return  # a run finished meanwhile: its verdict first
            if len(self.chain) - 1 - self._covered_index() >= self.batch:
                self._schedule()  # a full batch starts now, not after the whole stack is built
        self._schedule()

    def _judge(self, row, spec, top: str, head: str, stacked: bool):
        """In a worker thread: what stacking `row` onto `top` gives."""
        check = merge_check(self.repo, top, row.head_commit)
        if not check.clean:
            if stacked and merge_check(self.repo, head, row.head_commit).clean:
                return ("hold", "clashes with a unit ahead of it in the queue")
            return (
                CONFLICTED,
                {
                    "reason": "conflict",
                    "files": list(check.conflicts),
                    "checks": [merge_verdict(False, check.conflicts)],
                },
            )
        changed = self.repo.changed_files(top, check.tree)
        outside = [path for path in changed if not in_scope(path, spec.scope)]
        if outside:
            return (OUT_OF_SCOPE, {"reason": "out_of_scope", "files": outside, "scope": list(spec.scope or ())})
        semantic = semantic_verdict(self.repo, top, row.head_commit, check.tree, self.project.semantic, row.base_commit)
        if semantic["blocking"] and stacked:
            return ("hold", "does not hold together with a unit ahead of it in the queue")
        message = f"bosun: merge unit {row.id} ({spec.title})\n\nBosun-Unit: {row.id}\nBosun-Attempt: {row.attempts}"
        candidate = candidate_commit(self.repo, check.tree, (top, row.head_commit), message)
        return ("ok", candidate, changed, [merge_verdict(True), semantic])

    # -- runs ------------------------------------------------------------------------------------
    def _free_slot(self) -> int | None:
        used = {r.slot for r in self.runs}
        return next((s for s in range(self.parallel) if s not in used), None)

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

    def _schedule(self) -> None:
        if self.stopping:
            return
        if self.failing is not None:
            self._bisect()
            return
        while (slot := self._free_slot()) is not None:
            start = self._covered_index() + 1
            if start >= len(self.chain):
                return
            end = min(start + self.batch, len(self.chain)) - 1
            self._start(slot, end, "batch" if end > start else "gate")

    def _lo(self, f: int) -> int:
        """The last index before `f` known good: landed (-1) or a passed prefix."""
        return max([i for i in range(f) if self.chain[i].candidate in self.passed], default=-1)

    def _bisect(self) -> None:
        f = self._index(self.failing)
        if f is None:
            self.failing = None
            return
        lo = self._lo(f)
        if f == lo + 1:
            if not any(r.top == self.chain[f].candidate and not r.cancelled for r in self.runs):
                self._eject(f)
            return
        # Prefixes between the last good one and the failing one: as many as there are free slots,
        # spread evenly (a k-ary search), skipping those being tested.
        busy = {self._index(r.top) for r in self.runs if not r.cancelled}
        free = [s for s in range(self.parallel) if s not in {r.slot for r in self.runs}]
        if not free or any(i is not None and lo < i < f for i in busy):
            return
        span = f - lo - 1
        picks = sorted({lo + max(1, round((k + 1) * (f - lo) / (len(free) + 1))) for k in range(min(len(free), span))})
        picks = [p for p in picks if lo < p < f]
        units = [self.chain[i].unit for i in range(lo + 1, f + 1)]
        self.store.append_event(
            "queue_bisect", self.chain[f].unit, units=units, testing=[self.chain[p].unit for p in picks]
        )
        for slot, p in zip(free, picks):
            self._start(slot, p, "bisect")

    def _start(self, slot: int, end: int, why: str) -> None:
        head = self.session.integration_head()
        top = self.chain[end]
        covered = [e.unit for e in self.chain[: end + 1]]
        start = self._covered_group_start(end, why)
        group = covered[start:]
        marks = {unit: {"why": why, "slot": slot, "with": [u for u in covered if u != unit]} for unit in group}
        label = self.store.start_queue_run(
            top.unit, marks, slot=slot, why=why, units=covered, testing=group, commit=top.candidate, base=head
        )
        run = Run(label, slot, top.candidate, covered, head, why)
        run.task = self._thread(self._execute, run, top.attempt)
        self.runs.append(run)

    def _covered_group_start(self, end: int, why: str) -> int:
        """Where the units this run tests for the first time start (those ahead are tested with it)."""
        start = 0
        for i in range(end):
            if self.chain[i].candidate in self.passed or (
                why != "bisect" and any(r.top == self.chain[i].candidate for r in self.runs)
            ):
                start = i + 1
        return start

    def _started(self, run: Run, child) -> None:
        run.child = child
        if run.cancelled:
            child.kill()

    def _execute(self, run: Run, attempt: int) -> list[tuple[str, GateResult]]:
        """In a worker thread: the tests, then each extra check while all pass, on the run's tree in
        its slot's own folder (two gates never share a folder)."""
        project = self.project
        folder = GateFolder(self.repo, self.session.dir / "gates" / str(run.slot))
        folder.checkout(run.top)
        box = GateSandbox(
            sandboxed(self.session.plan),
            gate_network_of(project),
            self.repo.path,
            self.session.dir,
            memory=project.gate_memory,
        )
        results = []
        for index, (name, command) in enumerate([("tests", project.gate), *((c, c) for c in project.checks)]):
            if run.cancelled:
                break
            log = (
                self.session.dir
                / "logs"
                / (
                    f"gate.{run.units[-1]}.{attempt}.{run.label}.log"
                    if index == 0
                    else f"check.{run.units[-1]}.{attempt}.{run.label}.{index}.log"
                )
            )
            log.unlink(missing_ok=True)
            result = run_gate(
                command,
                folder.path,
                project.gate_timeout,
                project.gate_env,
                log,
                ceiling=self.session.dir,
                started=lambda child: self._started(run, child),
                sandbox=box,
                slot=run.slot,
            )
            results.append((name, result))
            if not result.passed:
                break
        return results

    # -- verdicts --------------------------------------------------------------------------------
    def _finished(self, run: Run, results, error: BaseException | None) -> None:
        if run.cancelled or self.stopping:
            rows = {u.id: u for u in self.store.units()}
            for unit in run.units:
                row = rows.get(unit)
                if row is not None and (row.queue or {}).get("run") == run.label:
                    self.store.update(unit, queue=None)
            return
        index = self._index(run.top)
        if error is not None or not results:
            cause = f"the gate could not run: {error}" if error else "the gate did not run"
            results = [("tests", GateResult(False, None, 0.0, cause, cause, self.session.dir / "logs"))]
        verdicts = [command_verdict(name, result) for name, result in results]
        failed = next(((n, r) for n, r in results if not r.passed), None)
        tests = results[0][1]
        shown = failed[1] if failed else tests
        cause = (
            tests.cause if failed is None or failed[0] == "tests" else f"check `{failed[0]}` failed: {failed[1].cause}"
        )
        duration = sum(r.duration_s for _, r in results)
        top_unit = run.units[-1]
        entry = self.chain[index] if index is not None else None
        checks = (entry.verdicts if entry else []) + verdicts
        finished = {
            "run": run.label,
            "passed": failed is None,
            "why": run.why,
            "units": run.units,
            "duration_s": round(duration, 3),
            "cause": cause,
        }
        run_id = self.store.add_gate_run(
            unit=top_unit,
            attempt=entry.attempt if entry else 0,
            commit_id=run.top,
            parent=run.base,
            passed=failed is None,
            exit_code=shown.exit_code,
            duration_s=duration,
            cause=cause,
            output_tail=shown.output_tail,
            checks=checks,
            covers=run.units,
            label=run.label,
            event=("queue_run_finished", top_unit, finished),
            unmark=tuple(run.units),
        )
        counts = {k: v for k, v in verdicts[0].items() if k.startswith("tests_")}
        gate = {
            "passed": failed is None,
            "cause": cause,
            "duration_s": round(duration, 3),
            "commit": run.top,
            "run": run.label,
            "gate_run": run_id,
            "units": run.units,
            **counts,
            "checks": summary(checks),
        }
        if index is None:
            return  # its prefix landed or left the queue meanwhile
        if failed is None:
            self.passed[run.top] = run_id
            if self.failing is not None and (self._index(self.failing) or 0) <= index:
                self.failing = None  # a prefix holding the failing one passed: it was flaky
            for entry in self.chain[: index + 1]:
                if entry.gate is None or entry is self.chain[index]:
                    entry.gate = {**gate, "checks": summary(entry.verdicts + verdicts)}
            self._await_humans(index, run_id, verdicts)
            return
        detail = {"reason": "gate_failed", "gate": gate, "output_tail": shown.output_tail[-3000:], "checks": checks}
        self.failed[run.top] = (run_id, gate, detail)
        self.tries[run.top] = self.tries.get(run.top, 0) + 1
        retrying = any(r.why == "retry" and not r.cancelled for r in self.runs)
        if self.failing is None and not retrying and self.tries[run.top] <= self.project.gate_retries:
            slot = run.slot  # the run's own slot is free again: retry at once
            self.store.append_event("queue_retry", top_unit, run=run.label, units=run.units, tries=self.tries[run.top])
            del self.failed[run.top]
            self._start(slot, index, "retry")
            return
        if self.failing is None or index < (self._index(self.failing) or 0):
            self.failing = run.top
        f = self._index(self.failing)
        for other in self.runs:  # behind the failure: they hold the culprit too
            i = self._index(other.top)
            if i is not None and i > f:
                self._kill(other)

    def _await_humans(self, index: int, run_id: int, verdicts: list[dict]) -> None:
        """Entries up to `index` that a human must approve wait for it now; their gate has run."""
        for entry in self.chain[: index + 1]:
            row = self.store.unit(entry.unit)
            if row is None or row.state != GATING or not self._needs_human(entry, row):
                continue
            detail = {
                **(row.detail or {}),
                "gate": entry.gate,
                "files": entry.files,
                "checks": entry.verdicts + verdicts,
                "warnings": entry.warnings,
            }
            try:
                self.store.transition(
                    entry.unit,
                    AWAITING_APPROVAL,
                    (GATING,),
                    data={"gate": entry.gate, "warnings": len(entry.warnings)},
                    detail=detail,
                    approved=0,
                )
                self.store.update(entry.unit, gate_run=run_id)
            except StaleState:
                pass

    def _eject(self, index: int) -> None:
        """The culprit: its own prefix failed and the one before it passed (or is the head)."""
        entry = self.chain[index]
        run_id, gate, detail = self.failed[entry.candidate]
        self.store.append_event("queue_culprit", entry.unit, gate_run=run_id, run=gate.get("run"))
        self.failing = None
        self.chain.pop(index)
        for table in (self.passed, self.failed, self.tries):
            table.pop(entry.candidate, None)
        self._cut(index, f"unit '{entry.unit}' ahead of it failed the gate")
        try:
            self.store.transition(entry.unit, GATE_FAILED, (GATING,), data={"gate": gate}, detail=detail, queue=None)
        except StaleState:
            return
        self.on_verdict(entry.unit, GATE_FAILED, detail)

    # -- landing -----------------------------------------------------------------------------------
    def _land_to(self, rows) -> int | None:
        """The last index that may land now: a tested prefix with nobody in it waiting for a human."""
        best = None
        for i, entry in enumerate(self.chain):
            row = rows.get(entry.unit)
            if row is None or self._needs_human(entry, row) or row.state not in (GATING, AWAITING_APPROVAL):
                break
            if entry.candidate in self.passed:
                best = i
        return best

    async def _land(self) -> None:
        rows = {u.id: u for u in self.store.units()}
        end = self._land_to(rows)
        if end is None:
            return
        landing = self.chain[: end + 1]
        run_id = self.passed[landing[-1].candidate]
        for entry in landing:  # out of reach of reject / cancel / reassign while the ref moves
            if rows[entry.unit].state == AWAITING_APPROVAL:
                try:
                    self.store.transition(entry.unit, GATING, (AWAITING_APPROVAL,), kind="merging", fsync=False)
                except StaleState:
                    return
        head = self.session.integration_head()
        new = landing[-1].candidate
        units = [(e.unit, e.candidate) for e in landing]
        details = {
            e.unit: {
                **(rows[e.unit].detail or {}),
                "gate": e.gate,
                "files": e.files,
                "checks": e.verdicts,
                "warnings": e.warnings,
            }
            for e in landing
            if e.gate is not None
        }
        intent = self.store.add_batch_intent(
            self.session.integration_ref, head, new, units, run_id if run_id and run_id > 0 else None
        )
        fault_point("queue.intent")
        moved = await self._thread(
            self.repo.update_ref,
            self.session.integration_ref,
            new,
            head,
            "bosun: merge " + ", ".join(u for u, _ in units),
        )
        fault_point("queue.moved")
        if not moved:
            self.store.close_intent(intent, "failed")
            await self._thread(self.integrator.verified_head, head)
            raise IntegrationTampered(
                f"the integration branch moved during the merge of {', '.join(u for u, _ in units)}"
            )
        self.store.finish_batch(intent, units, run_id if run_id and run_id > 0 else None, details)
        self.chain = self.chain[end + 1 :]
        landed = {c for _, c in units}
        for run in self.runs:
            if run.top in landed:
                self._kill(run)  # an earlier prefix still running: a later one already passed
        for table in (self.passed, self.failed, self.tries):
            for top in landed & table.keys():
                del table[top]
        for unit, _ in units:
            self.on_verdict(unit, MERGED, {})
