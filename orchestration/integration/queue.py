"""The merge queue, the one way units reach the integration branch: submitted units
are stacked into a chain of candidate merge commits, each on top of the one ahead of it, and gate
runs test prefixes of that chain, up to `gate_parallel` at once and `batch` new units per run
(one slot and batches of one is the plain one-at-a-time lane).

Every candidate is judged the same way: its semantic checks start with its gate's tests, not
before them; a blocking finding stops the run and the unit goes to `semantic_conflict`, a warning
makes its merge wait for a human, and the run's verdict is read with the checks' verdicts.
With one gate slot and automatic merges nothing is stacked on a human's decision: a unit whose
gate passed and that waits for a human (a warning) steps out of the chain (parked); approved, it
lands on its own tested candidate if that still sits on the head, or is judged again. Under
manual merge every unit waits for a human, and units stack on the pending approvals.

The invariant holds at every instant: the integration branch moves only to a
candidate whose own tree passed the gate, by compare-and-swap after a recorded intent, and
every unit is one merge commit whose first parent is the commit before it (a run covering
several units lands them together: the branch goes from the old head to the last one's merge
commit in one step). A failed run is run again `gate_retries` times, then bisected over the
chain's prefixes; the culprit alone leaves the queue as `gate_failed`; the units behind it get
new candidates and are tested again.

Everything here runs on the event loop except git, the semantic checks and the gates (worker
threads); the chain lives in memory and is rebuilt from the store after a crash: candidates
awaiting approval that still sit on the integration head are kept, the rest are judged again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from bosun.orchestration.integration.bottleneck import SHAPE_KEY, shape_text
from bosun.orchestration.integration.candidates import Refused, semantic_of, stack
from bosun.orchestration.integration.chain import Entry
from bosun.orchestration.integration.checks import merge_verdict
from bosun.orchestration.integration.landing import move_branch
from bosun.orchestration.integration.verdicts import Verdicts
from bosun.orchestration.session import Session
from bosun.orchestration.states import AWAITING_APPROVAL, CHECKING, GATING, MERGED, SUBMITTED
from bosun.orchestration.store import StaleState

POLL_S = 0.2


@dataclass(frozen=True)
class Verdict:
    """How integrating one unit ended: the state it reached and why."""

    state: str
    detail: dict


class MergeQueue(Verdicts):
    """Owned by the orchestrator; `run()` is its integration task while there is something to do."""

    def __init__(self, session: Session, *, merge_when_green: bool, on_verdict: Callable) -> None:
        super().__init__(session, merge_when_green=merge_when_green, on_verdict=on_verdict)
        self._restored = False
        self._poked = asyncio.Event()
        self._judging_slots: asyncio.Semaphore | None = None
        self._shape: str | None = None
        self.team: int | None = None
        """How many agents can work at once (the supervisor's max_agents and the external ones)."""

    # -- the integration task --------------------------------------------------------------------
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
        """Whether the task should run: something to add, land, drop or requeue."""
        in_chain = {e.unit for e in self.chain}
        rows = self.store.units()
        if self._stackable(rows) or any(e.judging is not None for e in self.chain) or self.base.task is not None:
            return True
        if self._revivable(rows):
            return True
        # An approval in the chain is work only once it can land: approved behind a unit that still
        # waits for its human, the task would end at once (nothing to do) and be started again.
        for row in rows:
            if row.state in (AWAITING_APPROVAL, GATING) and row.id not in in_chain:
                if not self._parked(row) or row.approved:
                    return True
            if row.id in in_chain and (
                row.state not in (GATING, AWAITING_APPROVAL)
                or (row.state == AWAITING_APPROVAL and row.approved and self._landable({u.id: u for u in rows}))
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
                self._take_judged()
                self._take_base()
                await self._land()  # first: what passed lands at once, before new work is stacked
                await self._land_approved()
                self._revive()
                self._schedule()
                await self._extend()  # schedules as it stacks
                self._keep_shape()
                if not self.runs and self.base.task is None and self._idle():
                    return
                await self._wait()
        finally:
            if self.stopping:
                await self.stop_runs()

    async def _wait(self) -> None:
        """Until a run or a semantic check finishes, something is poked, or a poll goes by; then
        read the checks' verdicts before the runs' (a run is read with the checks of its units)."""
        poked = asyncio.create_task(self._poked.wait())
        judging = [e.judging for e in self.chain if e.judging is not None]
        base = [self.base.task] if self.base.task is not None else []
        await asyncio.wait(
            [*(r.task for r in self.runs), *judging, *base, poked], timeout=POLL_S, return_when=asyncio.FIRST_COMPLETED
        )
        poked.cancel()
        self._take_judged()
        self._take_base()
        for run in [r for r in self.runs if r.task.done()]:
            self.runs.remove(run)
            error = None if run.task.cancelled() else run.task.exception()
            results = None if run.task.cancelled() or error else run.task.result()
            self._finished(run, results, error)

    def _idle(self) -> bool:
        if self._stackable(self.store.units()) or any(e.judging is not None for e in self.chain):
            return False
        rows = {u.id: u for u in self.store.units()}
        return not self._landable(rows)

    def _landable(self, rows: dict) -> bool:
        """Whether a tested prefix of the chain can land now (`rows`: the units by id)."""
        return any(self.passed.get(e.candidate) for e in self.chain) and self._land_to(rows) is not None

    def _keep_shape(self) -> None:
        """Keep the slots and the batch size in use where `status` and the screen read them
        (bottleneck.py), when they change: at the start, on a new size, on a reload."""
        shape = shape_text(self.parallel, self.batch, self.team)
        if shape != self._shape:
            self._shape = shape
            self.store.set_meta(SHAPE_KEY, shape)

    def poke(self) -> None:
        """Something changed in the store (a submission, an approval): look now, not at the next poll."""
        self._poked.set()

    def stop(self) -> None:
        """The session is stopping: every gate is killed (the units are judged again on resume)."""
        self.stopping = True
        for run in self.runs:
            self._kill(run)
        self._stop_base()

    async def stop_runs(self) -> None:
        """Every run killed and waited for, and the semantic checks let go (their threads end alone)."""
        for run in self.runs:
            self._kill(run)
        for entry in self.chain:
            if entry.judging is not None:
                entry.judging.cancel()
        self._stop_base()
        tasks = [r.task for r in self.runs if r.task is not None] + ([self.base.task] if self.base.task else [])
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self.runs.clear()
        self.base.task = self.base.child = None

    # -- the chain -----------------------------------------------------------------------------
    def _parked(self, row) -> bool:
        """A unit that waits for a human outside the chain (`parks`: nothing is stacked on a
        human's decision); approved, it lands or is judged again (`_land_approved`)."""
        return self.parks and row.state == AWAITING_APPROVAL

    def _restore(self) -> None:
        """After a start: candidates awaiting approval that still stack on the head stay; the
        rest are judged again (a crash put what was being gated back to submitted). Where the queue
        `parks` them they all stay where they are, each waiting for its human."""
        self._restored = True
        self._seed_base()
        merged = sum(1 for u in self.store.units() if u.state == MERGED)
        culprits = sum(1 for e in self.store.events() if e.kind == "queue_culprit")
        durations = [r.duration_s for r in self.store.gate_runs()[-10:] if r.exit_code is not None]
        self.sizer.seed(merged, culprits, durations)
        if self.parks:
            return
        top = self.session.integration_head()
        waiting = [u for u in self.store.units() if u.state == AWAITING_APPROVAL]
        judged = {r.id: r.commit_id for r in self.store.gate_runs() if r.passed}
        while True:
            nxt = next((u for u in waiting if u.candidate_parent == top and u.candidate), None)
            # Only a candidate a passing run tested itself: a batch's run that passed on a candidate
            # above it says nothing of it alone (it may fail without what is stacked on it).
            if nxt is None or judged.get(nxt.gate_run) != nxt.candidate:
                break
            waiting.remove(nxt)
            detail = nxt.detail or {}
            known = [detail.get(key) or [] for key in ("files", "checks", "warnings")]
            self.chain.append(Entry(nxt.id, nxt.candidate, top, nxt.attempts, *known, gate=detail.get("gate")))
            self.passed[nxt.candidate] = nxt.gate_run
            top = nxt.candidate

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
            if row.state in (AWAITING_APPROVAL, GATING) and row.id not in in_chain and not self._parked(row):
                self._requeue(
                    row.id, (AWAITING_APPROVAL, GATING), "its candidate no longer sits on the integration head"
                )

    def _cap(self) -> int:
        return self.parallel * self.batch * 2

    async def _extend(self) -> None:
        """Stack submitted units onto the chain (merge check, scope, candidate); each one's semantic
        checks start at once, and so does a gate run as soon as a batch is full or a slot free."""
        head = self.session.integration_head()
        # Never before what it depends on; what a human approved already goes first (it can land
        # as soon as its gate passes), then the unit with the longest chain waiting behind it, then
        # plan order.
        from bosun.orchestration.graph import critical_first  # networkx: only where a queue runs

        stackable = critical_first(self.session.graph, self._stackable(self.store.units()))
        rows = sorted(stackable, key=lambda u: not u.approved)
        ungated = sum(1 for e in self.chain if e.candidate not in self.passed)
        for row in rows:
            if ungated >= self._cap() or self.failing is not None or self.stopping:
                return
            if not await self._stack(row, head):
                continue
            ungated += 1
            if any(r.task.done() for r in self.runs):
                return  # a run finished meanwhile: its verdict first
            if len(self.chain) - 1 - self._covered_index() >= self.batch:
                self._schedule()  # a full batch starts now, not after the whole stack is built
        self._schedule()

    async def _stack(self, row, head: str) -> bool:
        """Put `row` on the chain with its candidate and start its semantic checks; False when it
        cannot stack (conflicted, out of scope, held back, or judging it failed)."""
        top = self.chain[-1].candidate if self.chain else head
        spec = self.session.plan.units[row.id]
        self.store.transition(row.id, CHECKING, (SUBMITTED,), fsync=False)
        try:
            stacked = await self._thread(stack, self.repo, row, spec, top, head, self.project.copy_files)
        except Exception as exc:  # a git failure while judging: the unit fails visibly, the session goes on
            self._fail(row.id, (), exc)
            return False
        if isinstance(stacked, Refused):
            self._refused(row.id, stacked, head)
            return False
        self.held.pop(row.id, None)
        self.store.transition(
            row.id,
            GATING,
            (CHECKING,),
            data={"candidate": stacked.candidate, "files": len(stacked.files)},
            candidate=stacked.candidate,
            candidate_parent=top,
            fsync=False,
        )
        entry = Entry(row.id, stacked.candidate, top, row.attempts, stacked.files, [merge_verdict(True)], [])
        entry.judging = asyncio.ensure_future(self._semantic(row, top, stacked.tree))
        self.chain.append(entry)
        return True

    async def _semantic(self, row, top: str, tree: str) -> dict:
        if self._judging_slots is None:  # the analysers are heavy: a few at once, beside the gates
            self._judging_slots = asyncio.Semaphore(max(2, self.parallel))
        async with self._judging_slots:
            return await self._thread(semantic_of, self.repo, row, top, tree, self.project.semantic)

    def _refused(self, unit: str, refused: Refused, head: str) -> None:
        if refused.state is None:  # clashes with a unit ahead only: again once the head moves
            self.held[unit] = head
            self.store.transition(unit, SUBMITTED, (CHECKING,), kind="held", fsync=False, data=refused.detail)
            return
        self.held.pop(unit, None)
        self.store.transition(unit, refused.state, (CHECKING,), data=refused.detail, detail=refused.detail)
        self.on_verdict(unit, refused.state, refused.detail)

    # -- landing -----------------------------------------------------------------------------------
    def _land_to(self, rows) -> int | None:
        """The last index that may land now: a tested prefix with nobody in it waiting for a human."""
        best = None
        for i, entry in enumerate(self.chain):
            row = rows.get(entry.unit)
            if (
                row is None
                or entry.judging is not None
                or self._needs_human(entry, row)
                or row.state not in (GATING, AWAITING_APPROVAL)
            ):
                break
            if entry.candidate in self.passed:
                best = i
        return best

    async def _land_approved(self) -> None:
        """Where the queue `parks`, a unit a human approved outside the chain: it lands when its own
        candidate passed on the head as it is now (those in the chain are then judged again on the
        new head); otherwise it is judged again, approved, and lands once its gate passes."""
        if not self.parks:
            return
        in_chain = {e.unit for e in self.chain}
        head = self.session.integration_head()
        for row in self.store.units():
            if row.state != AWAITING_APPROVAL or not row.approved or row.id in in_chain:
                continue
            gate = (row.detail or {}).get("gate") or {}
            if row.candidate_parent != head or gate.get("commit") != row.candidate or not gate.get("passed"):
                self._requeue(row.id, (AWAITING_APPROVAL,), "approved: judged again on the integration head")
                continue
            try:
                self.store.transition(row.id, GATING, (AWAITING_APPROVAL,), kind="merging", fsync=False)
            except StaleState:
                continue
            await move_branch(self.session, self._thread, head, [(row.id, row.candidate)], row.gate_run, {})
            self._cut(0, f"unit '{row.id}' was approved and merged ahead of it")
            self.on_verdict(row.id, MERGED, {})
            return  # the head moved: the others are judged against the new one

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
        head = self.session.integration_head()
        await move_branch(self.session, self._thread, head, units, run_id if run_id and run_id > 0 else None, details)
        self.chain = self.chain[end + 1 :]
        landed = {c for _, c in units}
        for run in self.runs:
            if run.top in landed:
                self._kill(run)  # an earlier prefix still running: a later one already passed
        self._forget(landed)
        self.sizer.merged(len(units))
        self._observed()
        for unit, _ in units:
            self.on_verdict(unit, MERGED, {})
