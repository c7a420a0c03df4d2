"""Which gate runs start when: batches behind what is covered, up to `gate_parallel` at once and
`batch` new units per run; and, once a run failed, bisection over the chain's prefixes (as many
at once as there are free slots) until the first failing prefix whose predecessor passed names
the culprit."""

from __future__ import annotations

import asyncio
import os
import time

from bosun.orchestration.integration.chain import QueueState, Run
from bosun.orchestration.integration.gate import GateResult
from bosun.orchestration.integration.gate_runs import run_in_slot

TAKE_IN = 1 / 3
"""With one gate slot, a run younger than this share of the gate's length is stopped and started
again with the units stacked behind it meanwhile (once per candidate): its own units wait that much
longer, the new ones a whole gate less."""
TAKE_IN_FIRST_S = 0.5
"""The same, in seconds, before any run has finished (the gate's length not known yet)."""
TAKE_IN_OFF = "BOSUN_QUEUE_TAKE_IN"
"""Set to `off`, no run is stopped to take units in: for tests that need a run's units fixed."""


class Scheduling(QueueState):
    """Starting runs on free slots: batches, retries and bisection."""

    def _free_slots(self) -> list[int]:
        """Slots no run uses; the integration head's own run (base_gate.py) takes one too."""
        used = {r.slot for r in self.runs}
        free = [s for s in range(self.parallel) if s not in used]
        return free[:-1] if self.base.task is not None else free

    def _schedule(self) -> None:
        if self.stopping:
            return
        if self.failing is not None:
            self._bisect()
            return
        self._take_in()
        for slot in self._free_slots():
            start = self._covered_index() + 1
            if start >= len(self.chain):
                return
            end = min(start + self.batch, len(self.chain)) - 1
            self._start(slot, end, "batch" if end > start else "gate")

    def _take_in(self) -> None:
        """One gate slot busy with a run that started moments ago, units stacked behind it since and
        room in its batch: the run stops, and the next one (once it has ended) covers them all. Only
        a plain run (not a retry or a bisection), and once per candidate, so nobody waits twice."""
        if self.parallel != 1 or len(self.runs) != 1 or os.environ.get(TAKE_IN_OFF) == "off":
            return
        run = self.runs[0]
        end = self._index(run.top)
        if run.cancelled or run.why not in ("gate", "batch") or end is None or end + 1 >= len(self.chain):
            return
        group = self.chain[self._covered_group_start(end, run.why) : end + 1]
        if len(group) >= self.batch or any(e.taken_in for e in group):
            return
        young = TAKE_IN * self.sizer.gate_s if self.sizer.gate_s else TAKE_IN_FIRST_S
        if time.monotonic() - run.started > young:
            return
        for entry in group:
            entry.taken_in = True
        newcomers = [e.unit for e in self.chain[end + 1 : end + 1 + self.batch - len(group)]]
        self.store.append_event("queue_take_in", run.units[-1], run=run.label, units=run.units, taking=newcomers)
        self._kill(run)

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
        for _, result in results:  # what the gate's network allow-list refused (issue 26)
            for destination, reason in result.denied:
                self.store.append_event(
                    "egress_denied", run.units[-1], gate=run.label, destination=destination, reason=reason
                )
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
