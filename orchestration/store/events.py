"""The base of the store: one connection, its write transactions, and the append-only event log
each of them writes to, announced to listeners once the transaction commits (never before, never
after a rollback). The session's settings (`meta`) live here too: every part of the store reads them."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

from bosun.orchestration.store.schema import open_database


class Event(NamedTuple):
    """One line of the append-only event log."""

    seq: int
    time: float
    kind: str
    unit: str | None
    data: dict

    def to_json(self) -> dict:
        return {"seq": self.seq, "time": round(self.time, 3), "kind": self.kind, "unit": self.unit, **self.data}


def write_meta(db: sqlite3.Connection, values: dict[str, str]) -> None:
    """Set the session's settings `values` inside the open transaction `db`."""
    for key, value in values.items():
        db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))


class EventLog:
    """The connection and its transactions; every other part of the store builds on it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.listeners: list[Callable[[Event], None]] = []
        self.clock: Callable[[], float] = time.time
        """Where event, command and gate-run times come from (a test can pin it)."""
        self._synchronous = "FULL"
        self._pending_events: list[Event] = []
        self.db = open_database(path)

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def tx(self, fsync: bool = True) -> Iterator[sqlite3.Connection]:
        """An immediate (write-locking) transaction; events are announced after it commits.

        Transactions are fsynced (synchronous=FULL) unless `fsync=False`, which is for what a
        power cut may lose without harm: claims and heartbeats (leases, whose holders die with
        the machine) and steps that `bosun resume` redoes anyway. Those survive a crash of any
        process, and the next fsynced transaction makes them durable too: WAL commits in order.
        The setting changes only when the kind of transaction does (a run of claims pays no PRAGMA).
        """
        self._sync("FULL" if fsync else "NORMAL")
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            self._pending_events.clear()
            raise
        self.db.execute("COMMIT")
        events, self._pending_events = self._pending_events, []
        for event in events:
            for listener in list(self.listeners):
                listener(event)

    def _sync(self, wanted: str) -> None:
        if self._synchronous != wanted:
            self.db.execute(f"PRAGMA synchronous = {wanted}")
            self._synchronous = wanted

    # -- meta ---------------------------------------------------------------------------
    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        self.update_meta({key: value})

    def update_meta(self, values: dict[str, str]) -> None:
        """Set several settings together, in one transaction."""
        with self.tx() as db:
            write_meta(db, values)

    # -- events -------------------------------------------------------------------------
    def _append(self, db: sqlite3.Connection, kind: str, unit: str | None, data: dict) -> Event:
        """Write one event inside the open transaction `db`; it is announced when that commits."""
        now = self.clock()
        cursor = db.execute(
            "INSERT INTO events (time, kind, unit, data) VALUES (?, ?, ?, ?)", (now, kind, unit, json.dumps(data))
        )
        event = Event(cursor.lastrowid, now, kind, unit, data)
        self._pending_events.append(event)
        return event

    def append_event(self, kind: str, unit: str | None = None, **data: Any) -> Event:
        with self.tx() as db:
            return self._append(db, kind, unit, data)

    def events(self, after: int = 0, limit: int | None = None) -> list[Event]:
        sql = "SELECT seq, time, kind, unit, data FROM events WHERE seq > ? ORDER BY seq"
        rows = self.db.execute(sql + (f" LIMIT {int(limit)}" if limit else ""), (after,)).fetchall()
        return [Event(s, t, k, u, json.loads(d)) for s, t, k, u, d in rows]

    def last_move(self, unit: str) -> str | None:
        """The kind of `unit`'s latest state change (an event with a `to`; a refused command or an
        egress event about it is not one). Read from the newest back, with no index on `unit`: ask
        for units that moved lately (the screen asks once per unit and then follows the events)."""
        sql = "SELECT kind FROM events WHERE unit = ? AND json_extract(data, '$.to') IS NOT NULL"
        row = self.db.execute(sql + " ORDER BY seq DESC LIMIT 1", (unit,)).fetchone()
        return row[0] if row else None

    def last_seq(self) -> int:
        return self.db.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0]
