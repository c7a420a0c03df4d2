"""The durable shared state: SQLite in WAL mode with full sync at `.bosun/state.db`.

Every state change is one `BEGIN IMMEDIATE` transaction (a claim: one UPDATE statement, its
event written by a trigger) that checks the state it expects (compare-and-swap) and appends its
event, so the event log and the units never disagree,
and two processes (the supervisor and a `bosun approve` in another terminal) never race.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from bosun.orchestration.errors import BosunError
from bosun.orchestration.lease_clock import BOOT_ID, lease_clock

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS units (
    id TEXT PRIMARY KEY, position INTEGER NOT NULL, state TEXT NOT NULL,
    agent TEXT, pinned TEXT, owner TEXT, epoch INTEGER NOT NULL DEFAULT 0, lease_until REAL,
    branch TEXT, worktree TEXT, base_commit TEXT, head_commit TEXT,
    attempts INTEGER NOT NULL DEFAULT 0, merged_commit TEXT,
    candidate TEXT, candidate_parent TEXT, approved INTEGER NOT NULL DEFAULT 0,
    handback TEXT, detail TEXT, usage TEXT, pid INTEGER, pid_start TEXT, started_at REAL, updated REAL,
    gate_run INTEGER, queue TEXT, lease_mono REAL, lease_boot TEXT
);
CREATE INDEX IF NOT EXISTS units_by_state ON units (state, position);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY, time REAL NOT NULL, kind TEXT NOT NULL,
    unit TEXT, data TEXT NOT NULL
);
-- A claim's event, written by the claim's own UPDATE: a claim is then one statement, and no Python
-- runs while it holds the write lock. Only a claim sets a lease and raises the epoch together.
CREATE TRIGGER IF NOT EXISTS claim_logged AFTER UPDATE OF epoch ON units
WHEN NEW.state = 'claimed' AND NEW.lease_until IS NOT NULL AND NEW.epoch = OLD.epoch + 1 BEGIN
    INSERT INTO events (time, kind, unit, data) VALUES (NEW.updated, 'claimed', NEW.id, json_object(
        'from', 'ready', 'to', 'claimed', 'owner', NEW.owner, 'epoch', NEW.epoch,
        'lease_s', round(NEW.lease_until - NEW.updated, 3)));
END;
CREATE TABLE IF NOT EXISTS gate_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT, unit TEXT NOT NULL, attempt INTEGER NOT NULL,
    commit_id TEXT NOT NULL, parent TEXT NOT NULL, passed INTEGER NOT NULL,
    exit_code INTEGER, duration_s REAL NOT NULL, cause TEXT NOT NULL,
    output_tail TEXT NOT NULL, time REAL NOT NULL, checks TEXT NOT NULL DEFAULT '[]',
    covers TEXT NOT NULL DEFAULT '[]', label TEXT
);
CREATE TABLE IF NOT EXISTS commands (
    id INTEGER PRIMARY KEY AUTOINCREMENT, time REAL NOT NULL, kind TEXT NOT NULL,
    unit TEXT NOT NULL, args TEXT NOT NULL, done_time REAL, result TEXT
);
CREATE TABLE IF NOT EXISTS intents (
    id INTEGER PRIMARY KEY AUTOINCREMENT, unit TEXT NOT NULL, ref TEXT NOT NULL,
    old TEXT NOT NULL, new TEXT NOT NULL, status TEXT NOT NULL, time REAL NOT NULL,
    units TEXT, gate_run INTEGER
);
"""

JSON_FIELDS = ("handback", "detail", "usage", "queue")
SCHEMA_VERSION = 4
UPGRADES = {
    1: ["ALTER TABLE gate_runs ADD COLUMN checks TEXT NOT NULL DEFAULT '[]'"],  # every check's verdict
    2: [  # the merge queue: which gate run covered which units, and batch landings
        "ALTER TABLE units ADD COLUMN gate_run INTEGER",
        "ALTER TABLE units ADD COLUMN queue TEXT",
        "ALTER TABLE gate_runs ADD COLUMN covers TEXT NOT NULL DEFAULT '[]'",
        "ALTER TABLE gate_runs ADD COLUMN label TEXT",
        "ALTER TABLE intents ADD COLUMN units TEXT",
        "ALTER TABLE intents ADD COLUMN gate_run INTEGER",
    ],
    3: [  # leases timed on the boot clock, which a wall-clock jump does not move
        "ALTER TABLE units ADD COLUMN lease_mono REAL",
        "ALTER TABLE units ADD COLUMN lease_boot TEXT",
    ],
}


@dataclass
class UnitRow:
    """One unit as the store has it. `epoch` is the fencing token of the current claim; `agent` is
    who worked on it last (a hand-back goes back to them), `pinned` who must take it (plan or human)."""

    id: str
    position: int
    state: str
    agent: str | None = None
    pinned: str | None = None
    owner: str | None = None
    epoch: int = 0
    lease_until: float | None = None
    """When the lease runs out, in wall time as of the last claim or heartbeat: for display, and the
    mark that there is a lease at all (None: no lease, e.g. a human's takeover)."""
    branch: str | None = None
    worktree: str | None = None
    base_commit: str | None = None
    head_commit: str | None = None
    attempts: int = 0
    merged_commit: str | None = None
    candidate: str | None = None
    candidate_parent: str | None = None
    approved: int = 0
    handback: dict | None = None
    detail: dict | None = None
    usage: dict | None = None
    pid: int | None = None
    pid_start: str | None = None
    started_at: float | None = None
    updated: float | None = None
    gate_run: int | None = None
    """The gate run that covered the unit's merge (its tree included the unit's merge and passed)."""
    queue: dict | None = None
    """The merge queue's run testing the unit now: `{"run", "with", "why", "slot"}`, or None."""
    lease_mono: float | None = None
    """When the lease runs out on the lease clock (lease_clock.py), which decides expiry."""
    lease_boot: str | None = None
    """The boot the lease clock reading belongs to: a lease from another boot has run out."""


UNIT_COLUMNS = tuple(f.name for f in fields(UnitRow))


@dataclass(frozen=True)
class Event:
    """One line of the append-only event log."""

    seq: int
    time: float
    kind: str
    unit: str | None
    data: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"seq": self.seq, "time": round(self.time, 3), "kind": self.kind, "unit": self.unit, **self.data}


@dataclass(frozen=True)
class GateRun:
    """One run of the gate on one candidate merge commit."""

    id: int
    unit: str
    attempt: int
    commit_id: str
    parent: str
    passed: bool
    exit_code: int | None
    duration_s: float
    cause: str
    output_tail: str
    time: float
    checks: list[dict] = field(default_factory=list)
    """Every check's verdict, in the order they ran: `{"check", "passed", "blocking", "cause", ...}`."""
    covers: list[str] = field(default_factory=list)
    """Every unit whose merge the tested tree holds, oldest first (empty: just `unit`, as before the queue)."""
    label: str | None = None
    """The merge queue's name for the run (R1, R2, ...), as its events say."""


@dataclass(frozen=True)
class Command:
    """A human decision waiting for (or taken by) the running session."""

    id: int
    time: float
    kind: str
    unit: str
    args: dict
    done_time: float | None
    result: str | None


class StaleState(Exception):
    """A compare-and-swap found the unit in another state than expected."""


class Store:
    """One connection to the session's database; open one per process (and per thread).

    The connection belongs to the thread that opened it: a call from any other thread raises
    (sqlite3's own check), so a worker thread handed the store by mistake fails loudly instead of
    racing the event loop, whose listeners repaint the screen."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.listeners: list[Callable[[Event], None]] = []
        self.clock: Callable[[], float] = time.time
        """Where event, command and gate-run times come from (a test can pin it)."""
        self.lease_clock: Callable[[], float] = lease_clock
        """What leases are timed on: a clock that wall-clock jumps do not move (lease_clock.py)."""
        self._synchronous = "FULL"
        self._pending_events: list[Event] = []
        self._units_cache: list[UnitRow] = []
        self._units_key: tuple[int, int] | None = None
        try:
            self.db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=True)
            self.db.execute("PRAGMA busy_timeout = 30000")
            self.db.execute("PRAGMA journal_mode = WAL")
            self.db.execute("PRAGMA synchronous = FULL")
            version = self.db.execute("PRAGMA user_version").fetchone()[0]
            fresh = self.db.execute("SELECT COUNT(*) FROM sqlite_master WHERE name = 'units'").fetchone()[0] == 0
            while not fresh and version in UPGRADES:  # additive steps, one version at a time
                for statement in UPGRADES[version]:
                    try:
                        self.db.execute(statement)
                    except sqlite3.OperationalError as exc:  # another process migrated it a moment ago
                        if "duplicate column" not in str(exc):
                            raise
                version += 1
            if not fresh and version != SCHEMA_VERSION:
                self.db.close()
                raise BosunError(
                    f"{path}: this session was written by another version of Bosun (store schema "
                    f"{version}, this one reads {SCHEMA_VERSION}); finish it with that version or "
                    "delete .bosun/ to start over"
                )
            self.db.executescript(SCHEMA)
            self.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except sqlite3.DatabaseError as exc:
            raise BosunError(f"{path}: cannot open the session store: {exc}") from None

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
        with self.tx() as db:
            db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    # -- events -------------------------------------------------------------------------
    def _append(self, db: sqlite3.Connection, kind: str, unit: str | None, data: dict) -> Event:
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

    def last_seq(self) -> int:
        return self.db.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0]

    # -- units --------------------------------------------------------------------------
    def add_units(self, rows: list[tuple[str, str | None]], meta: dict[str, str] | None = None) -> None:
        """Create the session's units, all pending, in plan order (with the session's `meta`, in
        the same transaction: a crash never leaves a session without its units)."""
        with self.tx() as db:
            for key, value in (meta or {}).items():
                db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))
            for position, (unit_id, agent) in enumerate(rows):
                db.execute(
                    "INSERT INTO units (id, position, state, agent, pinned, updated) VALUES (?, ?, 'pending', ?, ?, ?)",
                    (unit_id, position, agent, agent, self.clock()),
                )

    def reload_plan(
        self,
        meta: dict[str, str],
        added: list[tuple[str, str | None]],
        repinned: dict[str, str | None],
        removed: list[str],
        summary: dict,
    ) -> Event:
        """Apply an edited plan in one transaction: its text, the new units (pending, after the
        others), new pinned agents for units not yet started, and the units that left the plan
        (cancelled, never deleted: their events stay true)."""
        with self.tx() as db:
            for key, value in meta.items():
                db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))
            position = db.execute("SELECT COALESCE(MAX(position), -1) FROM units").fetchone()[0]
            for offset, (unit_id, agent) in enumerate(added, start=1):
                db.execute(
                    "INSERT INTO units (id, position, state, agent, pinned, updated) VALUES (?, ?, 'pending', ?, ?, ?)",
                    (unit_id, position + offset, agent, agent, self.clock()),
                )
            for unit_id, agent in repinned.items():
                db.execute(
                    "UPDATE units SET agent = ?, pinned = ?, updated = ? WHERE id = ? "
                    "AND state IN ('pending', 'ready')",
                    (agent, agent, self.clock(), unit_id),
                )
            for unit_id in removed:
                db.execute(
                    "UPDATE units SET state = 'cancelled', updated = ? WHERE id = ? AND state IN ('pending', 'ready')",
                    (self.clock(), unit_id),
                )
                self._append(db, "cancelled", unit_id, {"reason": "removed from the plan"})
            return self._append(db, "plan_reloaded", None, summary)

    def _row(self, values: tuple) -> UnitRow:
        data = dict(zip(UNIT_COLUMNS, values))
        for key in JSON_FIELDS:
            data[key] = json.loads(data[key]) if data[key] else None
        return UnitRow(**data)

    def units(self) -> list[UnitRow]:
        """Every unit in plan order. Parsed again only when this or another connection changed the
        database since the last call (the supervisor asks several times a tick); treat as read-only."""
        key = (self.db.execute("PRAGMA data_version").fetchone()[0], self.db.total_changes)
        if key != self._units_key:
            rows = self.db.execute(f"SELECT {', '.join(UNIT_COLUMNS)} FROM units ORDER BY position").fetchall()
            self._units_cache, self._units_key = [self._row(r) for r in rows], key
        return list(self._units_cache)

    def unit(self, unit_id: str) -> UnitRow | None:
        row = self.db.execute(f"SELECT {', '.join(UNIT_COLUMNS)} FROM units WHERE id = ?", (unit_id,)).fetchone()
        return self._row(row) if row else None

    @staticmethod
    def _assignments(values: dict[str, Any]) -> tuple[str, list]:
        for key in values:
            if key not in UNIT_COLUMNS or key == "id":
                raise KeyError(key)
        encoded = [json.dumps(v) if k in JSON_FIELDS and v is not None else v for k, v in values.items()]
        return ", ".join(f"{k} = ?" for k in values), encoded

    def transition(
        self,
        unit_id: str,
        to: str,
        expect: tuple[str, ...],
        *,
        kind: str | None = None,
        data: dict | None = None,
        epoch: int | None = None,
        gate_run: dict | None = None,
        fsync: bool = True,
        new_epoch: bool = False,
        **values: Any,
    ) -> Event:
        """Move a unit from one of `expect` to `to` (and set `values`), logging the event.

        With `epoch`, the move also requires that claim epoch: a stale holder cannot write.
        With `gate_run`, the gate's verdict is recorded in the same transaction. With `new_epoch`,
        the claim's epoch goes up by one (a takeover fences off the previous holder).
        """
        with self.tx(fsync) as db:
            if gate_run is not None:
                self._insert_gate_run(db, **gate_run)
            row = db.execute("SELECT state, epoch FROM units WHERE id = ?", (unit_id,)).fetchone()
            if row is None:
                raise StaleState(f"unit '{unit_id}' does not exist")
            if row[0] not in expect or (epoch is not None and row[1] != epoch):
                raise StaleState(
                    f"unit '{unit_id}' is {row[0]} (epoch {row[1]}), expected "
                    f"{'/'.join(expect)}" + (f" at epoch {epoch}" if epoch is not None else "")
                )
            sets, params = self._assignments({**values, "state": to, "updated": self.clock()})
            if new_epoch:  # a new owner: every token handed out before is stale from now on
                sets += ", epoch = epoch + 1"
            db.execute(f"UPDATE units SET {sets} WHERE id = ?", (*params, unit_id))
            return self._append(db, kind or to, unit_id, {"from": row[0], "to": to, **(data or {})})

    def update(self, unit_id: str, **values: Any) -> None:
        """Change a unit's fields without a state change (and without an event)."""
        sets, params = self._assignments(values)
        with self.tx() as db:
            db.execute(f"UPDATE units SET {sets} WHERE id = ?", (*params, unit_id))

    # -- claims (compare-and-swap with a lease and a fencing token) ------------------------
    # A lease is decided on the lease clock (lease_mono, lease_boot; `now` arguments are readings of
    # it); lease_until is the same deadline in wall time, for display. A row with lease_until but no
    # lease_mono (an older Bosun's claim) runs out by wall time, as it did then.
    def _lease(self, lease_s: float, now: float | None) -> dict[str, Any]:
        wall = self.clock()
        mono = self.lease_clock() if now is None else now
        return {"until": wall + lease_s, "mono": mono + lease_s, "boot": BOOT_ID, "wall": wall}

    _CLAIM_SETS = (
        "state = 'claimed', owner = :owner, agent = :owner, epoch = epoch + 1, lease_until = :until, "
        "lease_mono = :mono, lease_boot = :boot, updated = :wall"
    )

    def _claimed(self, db: sqlite3.Connection) -> None:
        """Announce the claim event the trigger `claim_logged` just wrote (in this transaction)."""
        seq, at, unit, data = db.execute(
            "SELECT seq, time, unit, data FROM events WHERE seq = (SELECT MAX(seq) FROM events)"
        ).fetchone()
        self._pending_events.append(Event(seq, at, "claimed", unit, json.loads(data)))

    def claim(
        self,
        unit_id: str,
        owner: str,
        lease_s: float,
        expect: tuple[str, ...] = ("ready",),
        *,
        now: float | None = None,
    ) -> int | None:
        """Take one unit in one CAS; returns the new epoch (the token), or None if another won."""
        won = self.claim_chosen(owner, lease_s, lambda db: unit_id, expect, now=now)
        return won[1] if won else None

    _CLAIM_FIRST = (
        "UPDATE units SET state = 'claimed', owner = ?1, agent = ?1, epoch = epoch + 1, lease_until = ?2, "
        "lease_mono = ?3, lease_boot = ?4, updated = ?5 WHERE rowid = (SELECT rowid FROM units WHERE {}"
        "state = 'ready' AND COALESCE(CASE WHEN handback IS NULL THEN pinned ELSE agent END, ?1) = ?1 "
        "ORDER BY position LIMIT 1) RETURNING id, epoch"
    )
    _CLAIM_ANY, _CLAIM_ONE = _CLAIM_FIRST.format(""), _CLAIM_FIRST.format("id = ?6 AND ")

    def claim_first(
        self, owner: str, lease_s: float, unit_id: str | None = None, *, now: float | None = None
    ) -> tuple[str, int] | None:
        """Claim the first ready unit (or `unit_id` if ready) that `owner` may take — a hand-back
        only by its agent, a pinned unit only by its agent — choosing and taking it in one UPDATE.
        For plans without scopes; returns (unit, epoch), or None when there is none. With nobody
        listening for events the UPDATE is its own transaction (its event comes from the trigger)."""
        wall = self.clock()
        mono = self.lease_clock() if now is None else now
        sql, params = (
            (self._CLAIM_ANY, (owner, wall + lease_s, mono + lease_s, BOOT_ID, wall))
            if unit_id is None
            else (self._CLAIM_ONE, (owner, wall + lease_s, mono + lease_s, BOOT_ID, wall, unit_id))
        )
        if not self.listeners:  # one statement, its own transaction: no Python runs while it holds the lock
            self._sync("NORMAL")
            rows = self.db.execute(sql, params).fetchall()
            return rows[0] if rows else None
        with self.tx(fsync=False) as db:
            row = db.execute(sql, params).fetchone()
            if row is not None:
                self._claimed(db)
            return row

    def claim_chosen(
        self,
        owner: str,
        lease_s: float,
        choose: Callable[[sqlite3.Connection], str | None],
        expect: tuple[str, ...] = ("ready",),
        *,
        now: float | None = None,
    ) -> tuple[str, int] | None:
        """Claim the unit `choose` picks, reading inside the same write transaction (so what it
        saw, e.g. which scopes are held, cannot change before the CAS). Returns (unit, epoch)."""
        values = {"owner": owner, **self._lease(lease_s, now)}
        values.update((f"s{i}", state) for i, state in enumerate(expect))
        expected = ", ".join(f":s{i}" for i in range(len(expect)))
        with self.tx(fsync=False) as db:
            unit_id = choose(db)
            if unit_id is None:
                return None
            row = db.execute(
                f"UPDATE units SET {self._CLAIM_SETS} WHERE id = :unit AND state IN ({expected}) RETURNING epoch",
                {**values, "unit": unit_id},
            ).fetchone()
            if row is None:
                return None
            self._claimed(db)
            return unit_id, row[0]

    def renew_lease(self, unit_id: str, epoch: int, lease_s: float, now: float | None = None) -> bool:
        """Extend a live claim; False when `epoch` is no longer the unit's current, held claim."""
        values = {"unit": unit_id, "epoch": epoch, **self._lease(lease_s, now)}
        with self.tx(fsync=False) as db:
            cursor = db.execute(
                "UPDATE units SET lease_until = :until, lease_mono = :mono, lease_boot = :boot "
                "WHERE id = :unit AND epoch = :epoch AND owner IS NOT NULL "
                "AND state IN ('claimed', 'running')",
                values,
            )
            return cursor.rowcount == 1

    def lease_left(self, row: UnitRow, now: float | None = None) -> float | None:
        """Seconds until `row`'s lease runs out, by the clock that decides it (wall time `now` only
        for an older Bosun's lease); None without a lease."""
        if row.lease_until is None:
            return None
        if row.lease_mono is None:
            return row.lease_until - (self.clock() if now is None else now)
        same_boot = row.lease_boot == BOOT_ID or None in (row.lease_boot, BOOT_ID)  # unknown: not another boot
        return row.lease_mono - self.lease_clock() if same_boot else 0.0

    _EXPIRED = (
        "SELECT id, state, owner, epoch FROM units WHERE state IN ('claimed', 'running') AND lease_until "
        "IS NOT NULL AND CASE WHEN lease_mono IS NULL THEN lease_until < :wall "
        "ELSE (lease_boot IS NOT NULL AND :boot IS NOT NULL AND lease_boot != :boot) OR lease_mono < :mono END"
    )

    def expire_leases(self, now: float | None = None) -> list[Event]:
        """Return every held unit whose lease ran out to `ready`; its old token stays stale for good.
        Looks first without the write lock: most calls find nothing, and take no lock."""
        values = self._lease(0, now)
        if not self.db.execute(self._EXPIRED, values).fetchall():
            return []
        with self.tx() as db:
            events = []
            for unit_id, state, owner, epoch in db.execute(self._EXPIRED, values).fetchall():
                db.execute(
                    "UPDATE units SET state = 'ready', owner = NULL, lease_until = NULL, lease_mono = NULL, "
                    "lease_boot = NULL, pid = NULL, updated = :wall WHERE id = :unit AND epoch = :epoch",
                    {"wall": values["wall"], "unit": unit_id, "epoch": epoch},
                )
                events.append(
                    self._append(
                        db, "lease_expired", unit_id, {"from": state, "to": "ready", "owner": owner, "epoch": epoch}
                    )
                )
            return events

    # -- gate runs ----------------------------------------------------------------------
    def _insert_gate_run(
        self,
        db: sqlite3.Connection,
        unit: str,
        attempt: int,
        commit_id: str,
        parent: str,
        passed: bool,
        exit_code: int | None,
        duration_s: float,
        cause: str,
        output_tail: str,
        checks: list[dict] | None = None,
        covers: list[str] | None = None,
        label: str | None = None,
    ) -> int:
        cursor = db.execute(
            "INSERT INTO gate_runs (unit, attempt, commit_id, parent, passed, exit_code, duration_s, cause, "
            "output_tail, time, checks, covers, label) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                unit,
                attempt,
                commit_id,
                parent,
                int(passed),
                exit_code,
                duration_s,
                cause,
                output_tail,
                self.clock(),
                json.dumps(checks or []),
                json.dumps(covers or []),
                label,
            ),
        )
        return cursor.lastrowid

    def add_gate_run(
        self, *, event: tuple[str, str, dict] | None = None, unmark: tuple[str, ...] = (), **gate_run: Any
    ) -> int:
        """Record one gate run of the merge queue (it may cover several units), with its `event`
        (kind, unit, data: the run's id is added as `gate_run`), and clear the `queue` mark of the
        units in `unmark` that this run (its `label`) still holds, in one transaction."""
        with self.tx() as db:
            run_id = self._insert_gate_run(db, **gate_run)
            for unit_id in unmark:
                db.execute(
                    "UPDATE units SET queue = NULL WHERE id = ? AND json_extract(queue, '$.run') = ?",
                    (unit_id, gate_run.get("label")),
                )
            if event is not None:
                kind, unit, data = event
                self._append(db, kind, unit, {**data, "gate_run": run_id})
            return run_id

    def start_queue_run(self, unit: str, marks: dict[str, dict], **data: Any) -> str:
        """Name the merge queue's next run (R1, R2, ...), log its start and mark the units it tests
        with it (`queue`), in one transaction; not fsynced: a crash ends the run anyway."""
        with self.tx(fsync=False) as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'queue_runs'").fetchone()
            label = f"R{int(row[0]) + 1 if row else 1}"
            db.execute("INSERT OR REPLACE INTO meta VALUES ('queue_runs', ?)", (label[1:],))
            for unit_id, mark in marks.items():
                db.execute("UPDATE units SET queue = ? WHERE id = ?", (json.dumps({"run": label, **mark}), unit_id))
            self._append(db, "queue_run_started", unit, {"run": label, **data})
            return label

    def gate_runs(self, unit: str | None = None) -> list[GateRun]:
        sql = (
            "SELECT id, unit, attempt, commit_id, parent, passed, exit_code, duration_s, cause, output_tail, time, "
            "checks, covers, label FROM gate_runs"
        )
        rows = self.db.execute(
            sql + (" WHERE unit = ? ORDER BY id" if unit else " ORDER BY id"), (unit,) if unit else ()
        ).fetchall()
        return [GateRun(*r[:5], bool(r[5]), *r[6:11], json.loads(r[11]), json.loads(r[12]), r[13]) for r in rows]

    # -- human commands -----------------------------------------------------------------
    def add_command(self, kind: str, unit: str, **args: Any) -> int:
        with self.tx() as db:
            cursor = db.execute(
                "INSERT INTO commands (time, kind, unit, args) VALUES (?, ?, ?, ?)",
                (self.clock(), kind, unit, json.dumps(args)),
            )
            self._append(db, "command_queued", unit, {"command": kind, "id": cursor.lastrowid, **args})
            return cursor.lastrowid

    def pending_commands(self) -> list[Command]:
        rows = self.db.execute(
            "SELECT id, time, kind, unit, args, done_time, result FROM commands WHERE done_time IS NULL ORDER BY id"
        ).fetchall()
        return [Command(i, t, k, u, json.loads(a), d, r) for i, t, k, u, a, d, r in rows]

    def command_result(self, command_id: int) -> str | None:
        """'done', 'refused: ...', or None while the supervisor has not taken the command."""
        row = self.db.execute("SELECT result FROM commands WHERE id = ?", (command_id,)).fetchone()
        return row[0] if row else None

    def finish_command(self, command_id: int, result: str) -> None:
        with self.tx() as db:
            db.execute("UPDATE commands SET done_time = ?, result = ? WHERE id = ?", (self.clock(), result, command_id))

    # -- integration intents (crash-safe ref moves) ---------------------------------------
    def add_intent(self, unit: str, ref: str, old: str, new: str) -> int:
        with self.tx() as db:
            cursor = db.execute(
                "INSERT INTO intents (unit, ref, old, new, status, time) VALUES (?, ?, ?, ?, 'open', ?)",
                (unit, ref, old, new, self.clock()),
            )
            self._append(db, "merge_intent", unit, {"old": old, "new": new})
            return cursor.lastrowid

    def open_intents(self) -> list[tuple[int, str, str, str, str]]:
        return self.db.execute(
            "SELECT id, unit, ref, old, new FROM intents WHERE status = 'open' ORDER BY id"
        ).fetchall()

    def close_intent(self, intent_id: int, status: str) -> None:
        with self.tx() as db:
            db.execute("UPDATE intents SET status = ? WHERE id = ?", (status, intent_id))

    def add_batch_intent(self, ref: str, old: str, new: str, units: list[tuple[str, str]], gate_run: int) -> int:
        """An intent to move `ref` from `old` to `new` in one step, landing every unit of `units`
        ((unit, its merge commit), oldest first; `new` is the last one's) on `gate_run`'s verdict."""
        with self.tx() as db:
            cursor = db.execute(
                "INSERT INTO intents (unit, ref, old, new, status, time, units, gate_run) "
                "VALUES (?, ?, ?, ?, 'open', ?, ?, ?)",
                (units[-1][0], ref, old, new, self.clock(), json.dumps(units), gate_run),
            )
            self._append(
                db,
                "merge_intent",
                units[-1][0],
                {"old": old, "new": new, "units": [u for u, _ in units], "gate_run": gate_run},
            )
            return cursor.lastrowid

    def intent_batch(self, intent_id: int) -> tuple[list[tuple[str, str]] | None, int | None]:
        """The units a batch intent lands and the gate run behind it; (None, None) for a one-unit intent."""
        row = self.db.execute("SELECT units, gate_run FROM intents WHERE id = ?", (intent_id,)).fetchone()
        if row is None or row[0] is None:
            return None, None
        return [tuple(pair) for pair in json.loads(row[0])], row[1]

    def finish_merge(self, intent_id: int, unit_id: str, merged_commit: str) -> Event:
        """Close a merge intent, mark its unit merged and record the new integration head, atomically.
        Unconditional: the branch has moved, and what git shows is the truth."""
        return self.finish_batch(intent_id, [(unit_id, merged_commit)], None)[-1]

    def finish_batch(
        self, intent_id: int, units: list[tuple[str, str]], gate_run: int | None, details: dict[str, dict] | None = None
    ) -> list[Event]:
        """`finish_merge` for every unit one intent landed, oldest first, in one transaction; the head
        becomes the last one's merge commit. Without `gate_run`, the passed run of that very commit.
        `details` replaces those units' detail (their gate verdict) in the same transaction."""
        with self.tx() as db:
            for unit_id, detail in (details or {}).items():
                db.execute("UPDATE units SET detail = ? WHERE id = ?", (json.dumps(detail), unit_id))
            db.execute("UPDATE intents SET status = 'done' WHERE id = ?", (intent_id,))
            db.execute("INSERT OR REPLACE INTO meta VALUES ('integration_head', ?)", (units[-1][1],))
            if gate_run is None:
                found = db.execute(
                    "SELECT MAX(id) FROM gate_runs WHERE commit_id = ? AND passed = 1", (units[-1][1],)
                ).fetchone()
                gate_run = found[0] if found else None
            events = []
            for unit_id, merged_commit in units:
                row = db.execute("SELECT state FROM units WHERE id = ?", (unit_id,)).fetchone()
                db.execute(
                    "UPDATE units SET state = 'merged', merged_commit = ?, owner = NULL, lease_until = NULL, "
                    "pid = NULL, queue = NULL, gate_run = ?, updated = ? WHERE id = ?",
                    (merged_commit, gate_run, self.clock(), unit_id),
                )
                data = {"from": row[0], "to": "merged", "commit": merged_commit}
                if gate_run is not None:
                    data["gate_run"] = gate_run
                events.append(self._append(db, "merged", unit_id, data))
            return events
