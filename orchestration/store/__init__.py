"""The durable shared state: SQLite in WAL mode with full sync at `.bosun/state.db`.

Every state change is one `BEGIN IMMEDIATE` transaction (a claim: one UPDATE statement, its
event written by a trigger) that checks the state it expects (compare-and-swap) and appends its
event, so the event log and the units never disagree,
and two processes (the supervisor and a `bosun approve` in another terminal) never race.

One module per thing kept: schema (the tables, upgrades, opening the file), events (the
connection, its transactions and the event log), units, leases (claims), gate runs, commands and
intents; `Store` is all of them on one connection.
"""

from __future__ import annotations

from bosun.orchestration.store.commands import Command, Commands
from bosun.orchestration.store.events import Event
from bosun.orchestration.store.gate_runs import GateRun, GateRuns
from bosun.orchestration.store.intents import Intents
from bosun.orchestration.store.leases import Leases
from bosun.orchestration.store.schema import SCHEMA, SCHEMA_VERSION, UPGRADES
from bosun.orchestration.store.units import JSON_FIELDS, UNIT_COLUMNS, StaleState, UnitRow, Units

__all__ = [
    "JSON_FIELDS",
    "SCHEMA",
    "SCHEMA_VERSION",
    "UNIT_COLUMNS",
    "UPGRADES",
    "Command",
    "Event",
    "GateRun",
    "StaleState",
    "Store",
    "UnitRow",
]


class Store(Units, Leases, GateRuns, Commands, Intents):
    """One connection to the session's database; open one per process (and per thread).

    The connection belongs to the thread that opened it: a call from any other thread raises
    (sqlite3's own check), so a worker thread handed the store by mistake fails loudly instead of
    racing the event loop, whose listeners repaint the screen."""
