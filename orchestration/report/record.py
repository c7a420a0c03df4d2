"""What a report is made from, read once from a session's store: the event log, the units, the
gate runs and the plan's graph, as plain rows. Everything after this is pure functions over it,
so a report can be built during a session (the store is read, never written) and tested on rows."""

from __future__ import annotations

import time
from typing import NamedTuple

from bosun.orchestration.process import process_start_time
from bosun.orchestration.store import Event, GateRun, Store, UnitRow


class Record(NamedTuple):
    """One session as rows. `as_of` is when its open intervals end: now while a supervisor runs,
    else the last event (a finished or stopped session does not keep waiting). Read-only; its
    empty defaults are shared. (No dataclasses in the report's rows: `bosun status --json` reads
    the session's figures, and `dataclasses` with `inspect` costs it ~10 ms of imports.)"""

    events: list[Event]
    units: list[UnitRow]
    gate_runs: list[GateRun]
    as_of: float
    live: bool = False
    depends_on: dict[str, list[str]] = {}
    titles: dict[str, str] = {}
    agents: list[str] | tuple = ()
    """The plan's agents, in plan order (an agent that never worked still gets its lane)."""
    gate_slots: int = 1
    name: str = ""

    @property
    def started(self) -> float:
        return self.events[0].time if self.events else self.as_of


def supervisor_alive(store: Store) -> bool:
    """Whether the supervisor the store names still runs (the same pid and process start)."""
    pid, start = store.get_meta("supervisor_pid"), store.get_meta("supervisor_start")
    return bool(pid and start and process_start_time(int(pid)) == start)


def read_store(store: Store, now: float | None = None, live: bool | None = None, **plan) -> Record:
    """The store's rows; `plan` adds what only the plan knows (depends_on, titles, agents, gate_slots, name).
    `live`: whether a supervisor runs the session now (default: the one the store names still runs)."""
    events = store.events()
    live = supervisor_alive(store) if live is None else live
    last = events[-1].time if events else time.time()
    as_of = now if now is not None else (max(time.time(), last) if live else last)
    return Record(events, store.units(), store.gate_runs(), as_of, live, **plan)


def read_session(session, now: float | None = None, store: Store | None = None) -> Record:
    """A session's rows with its plan's graph, titles and agents; `store`: another connection to
    its store, for a worker thread (a connection belongs to the thread that opened it)."""
    plan = session.plan
    own = store is None or store is session.store
    return read_store(
        session.store if store is None else store,
        now,
        live=session.running_supervisor() is not None if own else None,
        depends_on={u.id: list(u.depends_on) for u in plan.units.values()},
        titles={u.id: u.title or "" for u in plan.units.values()},
        agents=list(plan.agents),
        gate_slots=plan.project.gate_parallel,
        name=session.repo.path.name,
    )
