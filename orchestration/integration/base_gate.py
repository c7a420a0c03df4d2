"""The integration head's own gate. Every head Bosun moves the branch to passed the gate, but the
commit a session starts from never ran it: a test already broken there, or an environment the
gate cannot run in, fails every unit's run alike. So before a unit is named the culprit of a
failure on a head not known to pass, the gate runs on that head itself, in a gate slot (beside
the failed run's retry where one is free, else once the retry failed too). If the head fails
too, the unit is not blamed: it leaves the queue as `gate_failed` marked `base_failing`, is not
handed back and spends no attempt, and goes back to the queue by itself once the head is no
longer known to fail (a unit that passes lands on it, a person runs `bosun regate` on one of
them, or `bosun reload` changes the gate: the head is judged again at the next failure)."""

from __future__ import annotations

import asyncio
import json
import threading

from bosun.orchestration.integration.base_said import BASE_KEY, off_base
from bosun.orchestration.integration.gate_runs import run_on_base, run_verdict
from bosun.orchestration.integration.scheduling import Scheduling
from bosun.orchestration.states import GATE_FAILED, SUBMITTED
from bosun.orchestration.store import StaleState


class BaseGates(Scheduling):
    """Gating the head itself before blaming the first unit on it."""

    def _seed_base(self) -> None:
        """After a start: every commit a passing run tested is a head a failure may be blamed on;
        what the last supervisor knew of a failing head is forgotten, so the units it parked go
        back to the queue (the head is judged again)."""
        self.base.cleared |= {r.commit_id for r in self.store.gate_runs() if r.passed}
        self.base.parked = {u.id for u in self.store.units() if _parked_on_base(u)}
        self._publish_base()

    def _head_verdict(self, head: str) -> str | None:
        """`cleared` or `red` for `head`, or None while its own run has not given a verdict (it
        starts now if none runs and a gate slot is free)."""
        if head in self.base.cleared:
            return "cleared"
        if head in self.base.red:
            return "red"
        if self.base.task is None and not self.stopping and self._free_slots():
            self.base.commit = head
            self.store.append_event("base_gate_started", None, commit=head)
            self.base.task = asyncio.ensure_future(self._thread(run_on_base, self.session, head, self._base_started))
        return None

    def _base_started(self, child) -> None:
        self.base.child = child
        if self.stopping:
            child.kill()

    def _take_base(self) -> None:
        """The head's own run, once it has ended: the head is cleared, or known to fail."""
        task, commit = self.base.task, self.base.commit
        if task is None or not task.done() or commit is None:
            return
        self.base.task = self.base.child = None
        if task.cancelled() or self.stopping:
            return
        error = task.exception()
        verdict = run_verdict(self.session, None if error else task.result(), error)
        log = str(verdict.shown.log_path)
        self.store.append_event("base_gated", None, commit=commit, passed=verdict.passed, cause=verdict.cause, log=log)
        if verdict.passed or verdict.lost:  # a run that gave no verdict blames nobody else either
            self.base.cleared.add(commit)
        else:
            self.base.red[commit] = {"commit": commit, "cause": verdict.cause, "log": log}
            self.base.red_under = self._gate_said()
        self._publish_base()

    def _gate_said(self) -> str:
        """The gate as the plan says it now: its commands, environment and timeout."""
        project = self.project
        return repr((project.gate, project.checks, project.gate_env, project.gate_timeout))

    def _revive(self) -> None:
        """Units waiting for the head to pass go back to the queue once it is not known to fail:
        the head moved (a unit passed and landed), the gate changed (`bosun reload`), or a person
        regated one of them (they may have fixed what the gate runs in). The head is then judged
        again at the next failure on it."""
        if not self.base.parked:
            return
        rows = self.store.units()
        changed = self.base.red and self.base.red_under != self._gate_said()
        forgotten = changed or any(u.id in self.base.parked and u.state == SUBMITTED for u in rows)
        if forgotten:
            self.base.red.clear()
            self.base.parked.clear()
        waiting = self._revivable(rows)
        for row in waiting:
            self.base.parked.discard(row.id)
            why = "the integration branch is no longer known to fail its gate"
            try:
                self.store.transition(
                    row.id, SUBMITTED, (GATE_FAILED,), kind="requeued", data={"why": why}, detail=off_base(row.detail)
                )
            except StaleState:
                pass
        if forgotten or waiting:
            self._publish_base()

    def _revivable(self, rows: list) -> list:
        head = self.session.integration_head()
        red = head in self.base.red and self.base.red_under == self._gate_said()
        return [] if red else [u for u in rows if _parked_on_base(u)]

    def _publish_base(self) -> None:
        """Keep what `status` reads in step: the head's failing run while it is known, else nothing."""
        red = self.base.red.get(self.session.integration_head())
        value = json.dumps(red) if red else ""
        if (self.store.get_meta(BASE_KEY) or "") != value:
            self.store.set_meta(BASE_KEY, value)

    def _stop_base(self) -> None:
        child = self.base.child
        if child is not None:
            threading.Thread(target=child.kill, daemon=True).start()


def _parked_on_base(row) -> bool:
    return row.state == GATE_FAILED and bool((row.detail or {}).get("base_failing"))
