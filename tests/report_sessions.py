"""A synthetic large session for the report's tests: hundreds of units, many agents and a
three-slot merge queue with batches, retries and bisections, written through the real Store API
(claims, transitions, queue runs, gate runs, batch landings) on a pinned clock."""

from __future__ import annotations

import heapq
import random
from pathlib import Path

from bosun.orchestration.store import Store


class SyntheticSession:
    """Plays a session on a real store, event by event in time order."""

    def __init__(self, path: Path, units: int = 250, agents: int = 10, slots: int = 3, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.now = 1_800_000_000.0
        self.store = Store(path)
        self.store.clock = lambda: self.now
        self.store.lease_clock = lambda: self.now
        self.ids = [f"unit-{i:03d}" for i in range(units)]
        self.depends_on = {
            u: sorted({self.ids[j] for j in self.rng.sample(range(i), min(i, self.rng.choice((0, 1, 1, 2, 3))))})
            for i, u in enumerate(self.ids)
        }
        self.agents = [f"agent-{a}" for a in range(agents)]
        self.slots = slots
        self.free_agents = list(self.agents)
        self.free_slots = list(range(slots))
        self.ready: list[str] = []
        self.queue: list[str] = []
        self.merged: set[str] = set()
        self.tries: dict[str, int] = dict.fromkeys(self.ids, 0)
        self.flaky = set(self.rng.sample(self.ids, units // 12))
        self.heap: list = []
        self.order = 0
        self.commit = 0

    def at(self, delay: float, action, *args) -> None:
        self.order += 1
        heapq.heappush(self.heap, (self.now + delay, self.order, action, args))

    def play(self) -> Store:
        self.store.add_units([(u, None) for u in self.ids])
        self.store.append_event("session_started", None, units=len(self.ids))
        self.store.append_event("supervisor_started", None, max_agents=len(self.agents))
        for unit in self.ids:
            if not self.depends_on[unit]:
                self.make_ready(unit)
        self.dispatch()
        while self.heap:
            self.now, _, action, args = heapq.heappop(self.heap)
            action(*args)
            self.dispatch()
        self.store.append_event("session_finished", None, exit=0, merged=len(self.merged))
        return self.store

    # -- agents ----------------------------------------------------------------------------
    def make_ready(self, unit: str) -> None:
        self.store.transition(unit, "ready", ("pending",))
        self.ready.append(unit)

    def dispatch(self) -> None:
        while self.free_agents and self.ready:
            unit, agent = self.ready.pop(0), self.free_agents.pop(0)
            self.store.claim(unit, agent, 600)
            self.tries[unit] += 1
            self.store.transition(unit, "running", ("claimed",), data={"agent": agent, "attempt": self.tries[unit]})
            self.at(self.rng.uniform(120, 900), self.hand_in, unit, agent)
        while self.free_slots and self.queue:
            batch, self.queue = self.queue[:4], self.queue[4:]
            self.start_run(self.free_slots.pop(0), batch, "new", batch)

    def hand_in(self, unit: str, agent: str) -> None:
        self.free_agents.append(agent)
        tokens = self.rng.randint(20_000, 400_000)
        usage = {"prompt_tokens": tokens, "completion_tokens": tokens // 8, "cost_usd": round(tokens * 4e-6, 4)}
        if self.rng.random() < 0.04:
            detail = {"reason": "agent", "error": "agent reported blocked"}
            self.store.transition(unit, "failed", ("running",), data={**detail, "usage": usage}, usage=usage)
            self.store.append_event("waiting_for_human", unit, state="failed", why="blocked")
            self.at(self.rng.uniform(60, 1200), self.hand_back, unit, "failed")
            return
        self.store.transition(unit, "submitted", ("running",), data={"usage": usage}, usage=usage)
        self.queue.append(unit)

    def hand_back(self, unit: str, state: str) -> None:
        self.store.transition(unit, "ready", (state,), kind="handed_back", data={"reason": state})
        self.ready.append(unit)

    # -- the queue -------------------------------------------------------------------------
    def start_run(self, slot: int, units: list[str], why: str, testing: list[str]) -> None:
        for unit in testing:
            if why == "new":
                self.store.transition(unit, "checking", ("submitted",))
                self.store.transition(unit, "gating", ("checking",), data={"candidate": "c"})
        marks = {u: {"why": why, "slot": slot, "with": [o for o in units if o != u]} for u in testing}
        label = self.store.start_queue_run(units[-1], marks, slot=slot, why=why, units=units, testing=testing)
        self.at(self.rng.uniform(90, 240), self.finish_run, slot, label, units, why)

    def finish_run(self, slot: int, label: str, units: list[str], why: str) -> None:
        bad = [u for u in units if u in self.flaky and self.tries[u] == 1]
        passed = not bad
        finding = {
            "kind": "contract_change",
            "path": f"src/{units[0]}.py",
            "line": 3,
            "severity": "warn",
            "message": "a public function's contract changed",
            "symbol": "f",
            "ours": "",
            "theirs": "",
        }
        checks = [
            {"check": "merge", "passed": True, "cause": "no textual conflict"},
            {
                "check": "semantic",
                "passed": True,
                "cause": "no semantic conflict found",
                "findings": [finding] if self.rng.random() < 0.1 else [],
            },
            {"check": "tests", "passed": passed, "cause": "tests passed" if passed else "tests failed (exit 1)"},
        ]
        run_id = self.store.add_gate_run(
            unit=units[-1],
            attempt=1,
            commit_id=f"{label}-commit",
            parent="head",
            passed=passed,
            exit_code=0 if passed else 1,
            duration_s=60.0,
            cause=checks[-1]["cause"],
            output_tail="",
            checks=checks,
            covers=units,
            label=label,
            event=("queue_run_finished", units[-1], {"run": label, "passed": passed, "why": why, "units": units}),
            unmark=tuple(units),
        )
        if passed:
            self.land(units, run_id)
            self.free_slots.append(slot)
            return
        if why == "new":
            self.store.append_event("queue_retry", units[-1], run=label, units=units, tries=1)
            self.start_run(slot, units, "retry", units)
            return
        culprit = bad[0]
        ahead = units[: units.index(culprit)]
        if ahead and why == "retry":
            self.store.append_event("queue_bisect", culprit, units=units, testing=ahead)
            self.start_run(slot, ahead, "bisect", ahead)
        else:
            self.free_slots.append(slot)
        self.store.append_event("queue_culprit", culprit, gate_run=run_id, run=label)
        self.store.transition(culprit, "gate_failed", ("gating",), data={"gate": {"passed": False}})
        self.store.append_event("waiting_for_human", culprit, state="gate_failed", why="gate_failed")
        self.at(self.rng.uniform(120, 1800), self.hand_back, culprit, "gate_failed")
        for unit in units[units.index(culprit) + 1 :]:
            self.store.transition(unit, "submitted", ("gating",), kind="requeued", data={"why": "behind the culprit"})
            self.queue.append(unit)

    def land(self, units: list[str], run_id: int) -> None:
        landing = [u for u in units if u not in self.merged]
        if not landing:
            return
        commits = []
        for unit in landing:
            self.commit += 1
            commits.append((unit, f"{self.commit:040x}"))
        intent = self.store.add_batch_intent("refs/heads/bosun/integration", "old", commits[-1][1], commits, run_id)
        self.store.finish_batch(intent, commits, run_id)
        self.merged.update(landing)
        for unit in self.ids:
            row_deps = self.depends_on[unit]
            if unit not in self.merged and row_deps and set(row_deps) <= self.merged and self.tries[unit] == 0:
                if self.store.unit(unit).state == "pending":
                    self.make_ready(unit)


def synthetic_session(folder: Path, **kwargs) -> SyntheticSession:
    session = SyntheticSession(folder / "state.db", **kwargs)
    session.play()
    return session
