"""Claims: one compare-and-swap UPDATE takes a unit with a lease and a new fencing token (its epoch);
the trigger `claim_logged` (schema.py) writes the claim's event in that same statement. Heartbeats
renew the lease; a lease that ran out returns the unit to `ready`.

A claimer that finds the write lock taken waits in SQLite's busy handler. A queue on a lock file
beside the store (flock) was tried in its place and dropped: in the claims benchmark's same
rounds it won on a loaded machine (0.82x against 0.75x the floor, medians of three runs) and lost
on a quieter one (0.66x against 0.81x), where every claim paid a wake-up (docs/benchmarks.md).

A lease is decided on the lease clock (lease_mono, lease_boot; `now` arguments are readings of
it); lease_until is the same deadline in wall time, for display. A row with lease_until but no
lease_mono (an older Bosun's claim) runs out by wall time, as it did then."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bosun.orchestration.lease_clock import BOOT_ID, lease_clock
from bosun.orchestration.store.events import Event, EventLog
from bosun.orchestration.store.units import UnitRow


class Leases(EventLog):
    """Claiming units, renewing and expiring their leases."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.lease_clock: Callable[[], float] = lease_clock
        """What leases are timed on: a clock that wall-clock jumps do not move (lease_clock.py)."""

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
        sql = self._CLAIM_ANY if unit_id is None else self._CLAIM_ONE
        tail = () if unit_id is None else (unit_id,)
        wall = self.clock()
        mono = self.lease_clock() if now is None else now
        params = (owner, wall + lease_s, mono + lease_s, BOOT_ID, wall, *tail)
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

    def renew_lease(
        self, unit_id: str, epoch: int, lease_s: float, now: float | None = None, revive: bool = False
    ) -> bool:
        """Extend a live claim; False when `epoch` is no longer the unit's current, held claim, or
        its lease ran out (a heartbeat from outside comes too late then). `revive`: renewed even
        so, for the supervisor's own agents (a machine asleep longer than the lease must not stop
        them all): no one can have taken a claim that has not been expired."""
        at = self._lease(0, now)
        values = {"unit": unit_id, "epoch": epoch, **self._lease(lease_s, now), "at_wall": at["wall"]}
        values.update(at_mono=at["mono"], revive=revive)
        with self.tx(fsync=False) as db:
            cursor = db.execute(
                "UPDATE units SET lease_until = :until, lease_mono = :mono, lease_boot = :boot "
                "WHERE id = :unit AND epoch = :epoch AND owner IS NOT NULL AND state IN ('claimed', 'running') "
                "AND (:revive OR NOT (lease_until IS NOT NULL AND CASE WHEN lease_mono IS NULL THEN lease_until "
                "< :at_wall ELSE (lease_boot IS NOT NULL AND lease_boot != :boot) OR lease_mono < :at_mono END))",
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
