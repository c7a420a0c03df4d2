"""A unit's life as intervals, from its events: what it waited for (its dependencies, an agent,
the queue and gate, a human) and each attempt of an agent at it (claimed until handed in or
taken away). The engine's states decide the phase, so the figures say what the screen said."""

from __future__ import annotations

from bosun.orchestration.states import (
    AGENT_STATES,
    AWAITING_APPROVAL,
    DONE_STATES,
    HUMAN,
    INTEGRATING_STATES,
    PENDING,
    READY,
    SIDE_STATES,
)
from bosun.orchestration.store import Event

PHASES = ("deps", "agent", "work", "queue", "human")
"""Where a unit's time goes: waiting for its dependencies, for an agent, an agent at work, the
merge check and the gate, and a human's decision (an approval, a hand-back, a conflict)."""

ATTEMPT_ENDS = {
    "submitted": "submitted",
    "failed": "failed",
    "over_budget": "over budget",
    "released": "released",
    "revoked": "revoked",
    "lease_expired": "lease expired",
    "node_lost": "node lost",
    "cancelled": "cancelled",
    "taken_over": "taken over",
    "reassigned": "reassigned",
}
"""Events that end an agent's attempt, and what the report calls the ending."""


class Span:
    """One stretch of a unit's time in one phase. (Plain classes here: see record.Record.)"""

    __slots__ = ("unit", "phase", "start", "end", "state")

    def __init__(self, unit: str, phase: str, start: float, end: float, state: str) -> None:
        self.unit, self.phase, self.start, self.end, self.state = unit, phase, start, end, state

    @property
    def seconds(self) -> float:
        return max(0.0, self.end - self.start)


class Attempt:
    """One agent's turn at one unit: from its claim to what ended it (`outcome` None: still at it)."""

    __slots__ = ("unit", "agent", "number", "start", "end", "outcome", "usage")

    def __init__(self, unit: str, agent: str, number: int, start: float, end: float) -> None:
        self.unit, self.agent, self.number, self.start, self.end = unit, agent, number, start, end
        self.outcome: str | None = None
        self.usage: dict | None = None

    @property
    def seconds(self) -> float:
        return max(0.0, self.end - self.start)


class UnitStory:
    """A unit's spans and attempts; `human_waits`: how often the supervisor said the unit waits for
    a human (its `waiting_for_human` events)."""

    __slots__ = ("unit", "spans", "attempts", "state", "merged_at", "human_waits")

    def __init__(self, unit: str) -> None:
        self.unit = unit
        self.spans: list[Span] = []
        self.attempts: list[Attempt] = []
        self.state = PENDING
        self.merged_at: float | None = None
        self.human_waits = 0


def phase_of(state: str, approved: bool) -> str | None:
    """The phase a unit in `state` is in; None once it is done (merged or cancelled)."""
    if state in DONE_STATES:
        return None
    if state == PENDING:
        return "deps"
    if state == READY:
        return "agent"
    if state in AGENT_STATES:
        return "work"
    if state in INTEGRATING_STATES or (state == AWAITING_APPROVAL and approved):
        return "queue"
    if state in SIDE_STATES or state == AWAITING_APPROVAL:
        return "human"
    return "queue"


class _Walker:
    """Folds one unit's events, in order, into spans and attempts."""

    def __init__(self, unit: str, born: float) -> None:
        self.story = UnitStory(unit)
        self.since = born
        self.approved = False
        self.open: Attempt | None = None
        self.tries = 0

    def close_span(self, at: float) -> None:
        phase = phase_of(self.story.state, self.approved)
        spans = self.story.spans
        if phase is not None and at > self.since:
            if spans and spans[-1].phase == phase and spans[-1].end == self.since:
                spans[-1].end = at  # checking then gating: one stretch in the queue
            else:
                spans.append(Span(self.story.unit, phase, self.since, at, self.story.state))
        self.since = at

    def end_attempt(self, event: Event, outcome: str) -> None:
        if self.open is not None:
            self.open.end, self.open.outcome = event.time, outcome
            self.open.usage = event.data.get("usage") or self.open.usage
            self.story.attempts.append(self.open)
            self.open = None

    def feed(self, event: Event) -> None:
        data = event.data
        if event.kind == "waiting_for_human":
            self.story.human_waits += 1
        if event.kind == "approved":
            self.close_span(event.time)
            self.approved = True
            return
        if event.kind == "claimed":
            self.tries += 1
            self.end_attempt(event, "claimed again")
            self.open = Attempt(self.story.unit, data.get("owner") or "?", self.tries, event.time, event.time)
        elif event.kind == "running" and self.open is not None and data.get("attempt"):
            self.open.number = self.tries = int(data["attempt"])
        elif event.kind in ATTEMPT_ENDS and data.get("from") in AGENT_STATES:
            self.end_attempt(event, ATTEMPT_ENDS[event.kind])
        if event.kind == "taken_over":  # a person works on it now: their turn shows as one
            self.tries += 1
            self.open = Attempt(self.story.unit, HUMAN, self.tries, event.time, event.time)
        to = data.get("to")
        if to is None or to == self.story.state and event.kind != "gate_passed":
            return
        self.close_span(event.time)
        self.approved = self.approved and to in INTEGRATING_STATES  # approved, then gated again
        self.story.state = to
        if to == "merged":
            self.story.merged_at = event.time

    def finish(self, as_of: float) -> UnitStory:
        self.close_span(as_of)
        if self.open is not None:
            self.open.end = as_of
            self.story.attempts.append(self.open)
            self.open = None
        return self.story


def unit_stories(events: list[Event], unit_ids: list[str], as_of: float) -> dict[str, UnitStory]:
    """Every unit's spans and attempts, from the whole event log (units in `unit_ids` order)."""
    # Nothing moves before a supervisor runs: a unit's time counts from the first one's start.
    born = next((e.time for e in events if e.kind == "supervisor_started"), events[0].time if events else as_of)
    walkers = {u: _Walker(u, born) for u in unit_ids}
    for event in events:
        if event.kind == "plan_reloaded":
            for added in event.data.get("added_units") or []:
                if added in walkers:
                    walkers[added].since = event.time
        walker = walkers.get(event.unit) if event.unit else None
        if walker is not None:
            walker.feed(event)
    return {u: walkers[u].finish(as_of) for u in unit_ids}


def phase_totals(story: UnitStory) -> dict[str, float]:
    totals = dict.fromkeys(PHASES, 0.0)
    for span in story.spans:
        totals[span.phase] += span.seconds
    return totals
