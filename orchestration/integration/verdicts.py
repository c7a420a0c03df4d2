"""What the queue does with a verdict: a finished gate run (passed: its units wait for a human or
land; failed: retried, then bisected; the culprit alone leaves as `gate_failed`), and the semantic
checks that ran beside it (a blocking finding takes the unit out as `semantic_conflict`; a
warning makes its merge wait for a human)."""

from __future__ import annotations

from bosun.orchestration.integration.base_gate import BaseGates
from bosun.orchestration.integration.candidates import semantic_conflict
from bosun.orchestration.integration.chain import Entry, Run
from bosun.orchestration.integration.checks import summary, warnings_of
from bosun.orchestration.integration.gate_runs import RunVerdict, run_verdict
from bosun.orchestration.states import (
    AWAITING_APPROVAL,
    CHECKING,
    FAILED,
    GATE_FAILED,
    GATING,
    SEMANTIC_CONFLICT,
    SUBMITTED,
)
from bosun.orchestration.store import StaleState

LOST_RUNS = 2
"""How many times a run whose gate was lost starts again before it counts as failed."""


class Verdicts(BaseGates):
    """Reading gate runs and semantic checks as they finish."""

    # -- the semantic checks -------------------------------------------------------------------
    def _take_judged(self) -> None:
        """Entries whose semantic checks have finished: their verdict joins the entry's."""
        for entry in list(self.chain):
            judging = entry.judging
            if judging is None or not judging.done():
                continue
            entry.judging = None
            index = self._index(entry.candidate)
            if index is None:
                continue
            error = judging.exception() if not judging.cancelled() else None
            if error is not None or judging.cancelled():
                self._take_out(index, f"unit '{entry.unit}' ahead of it could not be checked")
                self._fail(entry.unit, (GATING,), error or "the semantic checks were stopped")
                continue
            semantic = judging.result()
            entry.verdicts = [*entry.verdicts, semantic]
            entry.warnings = warnings_of(entry.verdicts)
            if semantic["blocking"]:
                self._blocked(index, entry)

    def _blocked(self, index: int, entry: Entry) -> None:
        """A blocking semantic finding: the unit's gate stops; against the integration head it is a
        semantic conflict, against a unit ahead of it it waits for the head to move."""
        head = self.session.integration_head()
        self._take_out(index, f"unit '{entry.unit}' ahead of it does not hold together with the others")
        if entry.parent != head:
            self.held[entry.unit] = head
            why = "does not hold together with a unit ahead of it in the queue"
            self._move(entry.unit, SUBMITTED, kind="held", data={"why": why}, queue=None)
            return
        gate_run, detail = semantic_conflict(entry.unit, entry.attempt, entry.candidate, entry.parent, entry.verdicts)
        data = {"gate": detail["gate"], "findings": len(detail["findings"])}
        if self._move(entry.unit, SEMANTIC_CONFLICT, data=data, detail=detail, gate_run=gate_run, queue=None):
            self.on_verdict(entry.unit, SEMANTIC_CONFLICT, detail)

    def _move(self, unit: str, to: str, **changes) -> bool:
        try:
            self.store.transition(unit, to, (GATING,), **changes)
            return True
        except StaleState:
            return False

    def _fail(self, unit: str, states: tuple[str, ...], error) -> None:
        """A git failure (or the like) while judging: the unit fails visibly, the session goes on."""
        detail = {"reason": "error", "error": str(error)}
        try:
            self.store.transition(unit, FAILED, states + (CHECKING,), data=detail, detail=detail, queue=None)
        except StaleState:
            return
        self.on_verdict(unit, FAILED, detail)

    # -- gate runs -------------------------------------------------------------------------------
    def _finished(self, run: Run, results, error: BaseException | None) -> None:
        if run.cancelled or self.stopping:
            rows = {u.id: u for u in self.store.units()}
            for unit in run.units:
                row = rows.get(unit)
                if row is not None and (row.queue or {}).get("run") == run.label:
                    self.store.update(unit, queue=None)
            return
        index = self._index(run.top)
        verdict = run_verdict(self.session, results, error)
        if verdict.lost and index is not None and self._run_again(run, index, verdict):
            return
        entry = self.chain[index] if index is not None else None
        checks = (entry.verdicts if entry else []) + verdict.verdicts
        run_id = self._record(run, entry, verdict, checks)
        gate = {
            "passed": verdict.passed,
            "cause": verdict.cause,
            "duration_s": round(verdict.duration_s, 3),
            "commit": run.top,
            "run": run.label,
            "gate_run": run_id,
            "units": run.units,
            **verdict.counts(),
            "checks": summary(checks),
        }
        if not verdict.not_the_code:
            self.sizer.ran(verdict.duration_s)
        if index is None:
            return  # its prefix landed or left the queue meanwhile
        if verdict.passed:
            self._passed(run, index, run_id, gate, verdict.verdicts)
        else:
            self._failed(run, index, run_id, gate, verdict, checks)

    def _run_again(self, run: Run, index: int, verdict: RunVerdict) -> bool:
        """A lost gate is no verdict: the same run starts again, a few times, before it counts as a
        failure (one that is not the code: it waits for a human's `bosun regate`, costing no attempt)."""
        self.lost[run.top] = self.lost.get(run.top, 0) + 1
        if self.lost[run.top] > LOST_RUNS:
            return False
        self.store.append_event(
            "queue_gate_lost", run.units[-1], run=run.label, cause=verdict.cause, tries=self.lost[run.top]
        )
        self._start(run.slot, index, run.why)
        return True

    def _record(self, run: Run, entry: Entry | None, verdict: RunVerdict, checks: list[dict]) -> int:
        top_unit = run.units[-1]
        finished = {
            "run": run.label,
            "passed": verdict.passed,
            "why": run.why,
            "units": run.units,
            "duration_s": round(verdict.duration_s, 3),
            "cause": verdict.cause,
        }
        return self.store.add_gate_run(
            unit=top_unit,
            attempt=entry.attempt if entry else 0,
            commit_id=run.top,
            parent=run.base,
            passed=verdict.passed,
            exit_code=verdict.shown.exit_code,
            duration_s=verdict.duration_s,
            cause=verdict.cause,
            output_tail=verdict.shown.output_tail,
            checks=checks,
            covers=run.units,
            label=run.label,
            event=("queue_run_finished", top_unit, finished),
            unmark=tuple(run.units),
        )

    def _passed(self, run: Run, index: int, run_id: int, gate: dict, verdicts: list[dict]) -> None:
        self.passed[run.top] = run_id
        self.base.cleared.add(run.top)  # it may become the head: a failure on it is then the unit's
        if self.failing is not None and (self._index(self.failing) or 0) <= index:
            self.failing = None  # a prefix holding the failing one passed: it was flaky
        for entry in self.chain[: index + 1]:
            if entry.gate is None or entry is self.chain[index]:
                entry.gate = {**gate, "checks": summary(entry.verdicts + verdicts)}
        self._await_humans(index, run_id, verdicts)

    def _failed(self, run: Run, index: int, run_id: int, gate: dict, verdict: RunVerdict, checks) -> None:
        detail = {
            "reason": "gate_failed",
            "gate": gate,
            "output_tail": verdict.shown.output_tail[-3000:],
            "not_the_code": verdict.not_the_code,  # a timeout, or a gate that could not run: `bosun regate`
            "lost": verdict.lost,
            "unstartable": verdict.unstartable,
        }
        self.failed[run.top] = (run_id, gate, {**detail, "checks": checks})
        self.tries[run.top] = self.tries.get(run.top, 0) + 1
        retrying = any(r.why == "retry" and not r.cancelled for r in self.runs)
        if (
            self.failing is None
            and not retrying
            and self.tries[run.top] <= self.project.gate_retries
            and run.base not in self.base.red  # every run on it fails alike
        ):
            self.store.append_event(
                "queue_retry", run.units[-1], run=run.label, units=run.units, tries=self.tries[run.top]
            )
            del self.failed[run.top]
            self._start(run.slot, index, "retry")  # the run's own slot is free again: retry at once
            if run.base == self.session.integration_head() and self._free_slots():
                self._head_verdict(run.base)  # beside the retry, in a slot of its own
            return
        if self.failing is None or index < (self._index(self.failing) or 0):
            self.failing = run.top
        f = self._index(self.failing)
        for other in self.runs:  # behind the failure: they hold the culprit too
            i = self._index(other.top)
            if i is not None and i > f:
                self._kill(other)

    def _await_humans(self, index: int, run_id: int, verdicts: list[dict]) -> None:
        """Entries up to `index` that a human must approve wait for it now; their gate has run.
        Where the queue `parks` the first of them steps out of the chain (nothing is stacked on a
        human's decision there), and those behind it are stacked again without it."""
        waiting = [e for e in self.chain[: index + 1] if self._wait_for_human(e, run_id, verdicts)]
        if waiting and self.parks:
            first = self.chain.index(waiting[0])
            self.chain.pop(first)
            self._forget({waiting[0].candidate})
            self._cut(first, f"unit '{waiting[0].unit}' ahead of it waits for a human")

    def _wait_for_human(self, entry: Entry, run_id: int, verdicts: list[dict]) -> bool:
        """Whether `entry` waits for a human now (True also when it already did)."""
        row = self.store.unit(entry.unit)
        if row is not None and row.state == AWAITING_APPROVAL and not row.approved:
            return True
        if row is None or row.state != GATING or not self._needs_human(entry, row):
            return False
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
            return False
        return True

    def _eject(self, index: int) -> None:
        """The culprit: its own prefix failed and the one before it passed (or is the head). On a
        head not known to pass, the head's own gate is run first (base_gate.py): if the head fails
        too, the unit is not blamed but waits for it to pass."""
        entry = self.chain[index]
        red = None
        if index == 0:
            if self._head_verdict(entry.parent) is None:
                return  # the head's own run gives its verdict first
            red = self.base.red.get(entry.parent)
        run_id, gate, detail = self.failed[entry.candidate]
        row = self.store.unit(entry.unit)
        detail = {**detail, "head": row.head_commit if row else None}  # the commit the gate judged
        self.failing = None
        if red is None:
            self.store.append_event("queue_culprit", entry.unit, gate_run=run_id, run=gate.get("run"))
            self._take_out(index, f"unit '{entry.unit}' ahead of it failed the gate")
            self.sizer.failed()
            self._observed()
        else:  # not its code: no hand-back, no attempt spent (supervisor/loop.py)
            detail = {**detail, "not_the_code": True, "base_failing": True, "base": red}
            self.base.parked.add(entry.unit)
            self._take_out(index, "the integration branch itself fails the gate")
        try:
            self.store.transition(entry.unit, GATE_FAILED, (GATING,), data={"gate": gate}, detail=detail, queue=None)
        except StaleState:
            return
        self.on_verdict(entry.unit, GATE_FAILED, detail)
