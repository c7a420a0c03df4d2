"""Which gate runs start when: batches behind what is covered, up to `gate_parallel` at once and
`batch` new units per run; and, once a run failed, bisection over the chain's prefixes (as many
at once as there are free slots) until the first failing prefix whose predecessor passed names
the culprit."""

from __future__ import annotations

import asyncio

from bosun.orchestration.integration.chain import QueueState, Run
from bosun.orchestration.integration.gate import GateResult
from bosun.orchestration.integration.gate_runs import run_in_slot


class Scheduling(QueueState):
    """Starting runs on free slots: batches, retries and bisection."""

    def _free_slots(self) -> list[int]:
        used = {r.slot for r in self.runs}
        return [s for s in range(self.parallel) if s not in used]

    def _schedule(self) -> None:
        if self.stopping:
            return
        if self.failing is not None:
            self._bisect()
            return
        for slot in self._free_slots():
            start = self._covered_index() + 1
            if start >= len(self.chain):
                return
            end = min(start + self.batch, len(self.chain)) - 1
            self._start(slot, end, "batch" if end > start else "gate")

    def _bisect(self) -> None:
        f = self._index(self.failing)
        if f is None:
            self.failing = None
            return
        lo = self._last_good(f)
        if f == lo + 1:  # found: the verdicts take the culprit out (Verdicts._eject)
            if not any(r.top == self.chain[f].candidate and not r.cancelled for r in self.runs):
                self._eject(f)
            return
        # Prefixes between the last good one and the failing one: as many as there are free slots,
        # spread evenly (a k-ary search), skipping those being tested.
        busy = {self._index(r.top) for r in self.runs if not r.cancelled}
        free = self._free_slots()
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
        group = covered[self._covered_group_start(end, why) :]
        marks = {unit: {"why": why, "slot": slot, "with": [u for u in covered if u != unit]} for unit in group}
        label = self.store.start_queue_run(
            top.unit, marks, slot=slot, why=why, units=covered, testing=group, commit=top.candidate, base=head
        )
        run = Run(label, slot, top.candidate, covered, head, why)
        judging = [e.judging for e in self.chain[: end + 1] if e.judging is not None]
        run.task = asyncio.ensure_future(self._gate(run, top.attempt, judging))
        self.runs.append(run)

    async def _gate(self, run: Run, attempt: int, judging: list) -> list[tuple[str, GateResult]]:
        """The run's gate, and then the semantic checks of what it covers: its verdict is read with
        theirs (they started together; a blocking finding stops the run before it is read)."""
        results = await self._thread(run_in_slot, self.session, run, attempt, lambda child: self._started(run, child))
        await asyncio.gather(*judging, return_exceptions=True)
        return results

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
